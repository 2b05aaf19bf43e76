"""Which text colour reads on a page's accent: black or white, whichever contrasts more (WCAG 2.x).

The larger of the two contrasts is never below 4.58:1 for any #rrggbb colour, so text on
an accent chosen this way always meets AA for normal text, whatever colour a page picks.
"""

from __future__ import annotations


def _channel(c: int) -> float:
    v = c / 255
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    """Relative luminance of '#rrggbb' (0 black .. 1 white)."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(accent: str) -> str:
    """'#000000' or '#ffffff', the one with more contrast against `accent`."""
    return "#000000" if contrast(accent, "#000000") >= contrast(accent, "#ffffff") else "#ffffff"
