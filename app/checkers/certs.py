"""Peer certificates: what they say (expiry, issuer, names) and how to present it.

The http, tls, tcp and websocket checkers all record the certificate they were shown, so
certificate expiry can be alerted on before it breaks anything. The details come from
the DER bytes, which the ssl module hands out even when verification is off (its
parsed `getpeercert()` is empty then).
"""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtensionOID, NameOID


def _names(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        return [], []
    assert isinstance(san, x509.SubjectAlternativeName)
    dns = [str(n) for n in san.get_values_for_type(x509.DNSName)]
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return dns, ips


def _dns_match(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        # RFC 6125: the wildcard covers exactly one left-most label.
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host


def hostname_matches(cert: x509.Certificate, host: str) -> bool:
    """Whether `host` is among the certificate's subjectAltNames (no CN fallback, as browsers do)."""
    dns, ips = _names(cert)
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return any(_dns_match(p, host) for p in dns)
    return any(ipaddress.ip_address(x) == ip for x in ips)


def warn_threshold(days_left: int, warn_days: list[int] | None) -> int | None:
    """The smallest warning threshold already reached, e.g. 7 of [14, 7, 1] with 5 days left."""
    crossed = [d for d in warn_days or [] if days_left <= d]
    return min(crossed) if crossed else None


def _common_name(name: x509.Name) -> str:
    cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else name.rfc4514_string()


def describe(der: bytes, host: str, now: datetime, warn_days: list[int] | None = None) -> dict[str, Any]:
    """The `details["cert"]` of a check: expiry, days left, issuer, subject, names, hostname match."""
    cert = x509.load_der_x509_certificate(der)
    not_after = cert.not_valid_after_utc
    not_before = cert.not_valid_before_utc
    days_left = math.floor((not_after - now).total_seconds() / 86400)
    dns, ips = _names(cert)
    info: dict[str, Any] = {
        "subject": _common_name(cert.subject),
        "issuer": _common_name(cert.issuer),
        "expiresAt": not_after.isoformat().replace("+00:00", "Z"),
        "notBefore": not_before.isoformat().replace("+00:00", "Z"),
        "daysLeft": days_left,
        "expired": now >= not_after,
        "notYetValid": now < not_before,
        "hostnameMatch": hostname_matches(cert, host),
        "names": dns + ips,
        "selfSigned": cert.issuer == cert.subject,
        "sha256": cert.fingerprint(hashes.SHA256()).hex(),
    }
    warn = warn_threshold(days_left, warn_days)
    if warn is not None:
        info["warn"] = warn
    return info


def problem(info: dict[str, Any], host: str) -> str | None:
    """Why a described certificate is unusable (expired, not yet valid, wrong name), or None."""
    if info["expired"]:
        return f"certificate of {host} expired on {info['expiresAt']}"
    if info["notYetValid"]:
        return f"certificate of {host} is not valid before {info['notBefore']}"
    if not info["hostnameMatch"]:
        return f"certificate of {host} is for {', '.join(info['names']) or info['subject']}, not {host}"
    return None
