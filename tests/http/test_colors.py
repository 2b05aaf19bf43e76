"""A page's accent colour gets the text colour that reads on it (WCAG AA, 4.5:1)."""

from __future__ import annotations

import pytest

from app.http.colors import contrast, text_on


@pytest.mark.parametrize(
    ("accent", "text"),
    [
        pytest.param("#000000", "#ffffff", id="black"),
        pytest.param("#ffffff", "#000000", id="white"),
        pytest.param("#ffcc00", "#000000", id="yellow"),
        pytest.param("#1f4e9d", "#ffffff", id="dark-blue"),
        pytest.param("#777777", "#000000", id="mid-grey"),
        pytest.param("#E91E63", "#000000", id="upper-case-pink"),
    ],
)
def test_text_on_an_accent_always_passes_aa(accent: str, text: str) -> None:
    assert text_on(accent) == text
    assert contrast(accent, text_on(accent)) >= 4.5


def test_every_grey_gets_a_readable_text() -> None:
    assert (
        min(contrast(f"#{v:02x}{v:02x}{v:02x}", text_on(f"#{v:02x}{v:02x}{v:02x}")) for v in range(256))
        >= 4.5
    )
