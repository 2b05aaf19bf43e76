"""DNS checks: one query to a chosen (or the system's) resolver, with rcode and answer assertions.

The query goes out through `dns.query` rather than `dns.resolver`, so that every rcode
(NXDOMAIN, SERVFAIL, REFUSED) can be asserted on instead of surfacing as an exception,
and UDP falls back to TCP on truncation within the same deadline. Names are queried
as written: resolv.conf search domains are not applied.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.reversename
from dns.rdata import Rdata

from app.checkers.base import CheckContext, register
from app.checkers.deadline import Deadline
from app.checkers.errors import CheckFailed, classify
from app.checkers.net import is_ip, resolve
from app.model import CheckResult, FailureClass
from app.resources.monitor import DnsSpec, MonitorSpec, MonitorType


def _norm(text: str, rdtype: str) -> str:
    text = text.strip()
    if rdtype == "TXT":
        return text  # TXT content is case-sensitive and may end in a dot
    if rdtype in ("A", "AAAA"):
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            return text.lower()
    return " ".join(part.rstrip(".").lower() for part in text.split())


def candidates(rdata: Rdata, rdtype: str) -> set[str]:
    """The spellings an `expected` entry may use for one record, normalized.

    An MX record matches "10 mail.example.com" as well as "mail.example.com", an SRV record
    its full text, its target, or "target:port", so manifests stay short.
    """
    r: Any = rdata
    if rdtype == "TXT":
        return {b"".join(r.strings).decode(errors="replace")}
    full = _norm(rdata.to_text(), rdtype)
    out = {full}
    if rdtype == "MX":
        out.add(_norm(r.exchange.to_text(), rdtype))
    elif rdtype == "SRV":
        target = _norm(r.target.to_text(), rdtype)
        out |= {target, f"{target}:{r.port}"}
    elif rdtype == "SOA":
        out.add(_norm(r.mname.to_text(), rdtype))
    elif rdtype == "CAA":
        value = r.value.decode(errors="replace")
        out |= {f"{r.tag.decode()} {value}".lower(), value.lower()}
    return out


def display(rdata: Rdata, rdtype: str) -> str:
    if rdtype == "TXT":
        return next(iter(candidates(rdata, rdtype)))
    return rdata.to_text().rstrip(".") if rdtype in ("CNAME", "NS", "PTR") else rdata.to_text()


def _qname(s: DnsSpec) -> dns.name.Name:
    if s.recordType == "PTR" and is_ip(s.name):
        return dns.reversename.from_address(s.name)
    return dns.name.from_text(s.name)


def _servers(s: DnsSpec, deadline: Deadline) -> list[tuple[str, int]]:
    if s.server:
        if is_ip(s.server):
            return [(s.server.strip("[]"), s.port)]
        addrs = resolve(s.server, s.port, deadline, socket.SOCK_DGRAM)
        return [(str(addrs[0][3][0]), s.port)]
    try:
        system = dns.resolver.Resolver()
    except dns.resolver.NoResolverConfiguration:
        raise CheckFailed(FailureClass.CONFIG, "no server given and no system resolver configured") from None
    return [(str(ns), int(system.port)) for ns in system.nameservers]


def _ask(
    q: dns.message.Message, server: str, port: int, tcp: bool, budget: float
) -> tuple[dns.message.Message, bool]:
    """The answer and whether it came over TCP; UDP answers that were truncated are asked again over TCP."""
    if not tcp:
        try:
            return dns.query.udp(q, server, timeout=budget, port=port, raise_on_truncation=True), False
        except dns.message.Truncated:
            pass
    return dns.query.tcp(q, server, timeout=budget, port=port), True


def query(s: DnsSpec, deadline: Deadline) -> tuple[dns.message.Message, str, bool]:
    """The response, the server that gave it, and whether TCP was used; tries servers in turn."""
    q = dns.message.make_query(_qname(s), dns.rdatatype.from_text(s.recordType))
    servers = _servers(s, deadline)
    failure: CheckFailed | None = None
    for i, (server, port) in enumerate(servers):
        where = f"{server}:{port}" if ":" not in server else f"[{server}]:{port}"
        # Later servers get what is left; earlier ones a fair share, so one dead server cannot eat it all.
        budget = deadline.remaining() / (len(servers) - i)
        try:
            resp, used_tcp = _ask(q, server, port, s.transport == "tcp", budget)
            return resp, where, used_tcp
        except dns.exception.Timeout:
            failure = CheckFailed(FailureClass.TIMEOUT, f"DNS server {where} did not answer in time")
        except (dns.message.ShortHeader, dns.exception.FormError, dns.query.BadResponse) as exc:
            failure = CheckFailed(FailureClass.PROTOCOL, f"DNS server {where} sent a malformed answer: {exc}")
        except dns.query.UnexpectedSource as exc:
            failure = CheckFailed(FailureClass.PROTOCOL, f"answer from an unexpected address: {exc}")
        except (OSError, EOFError) as exc:
            cls, reason = classify(exc, f"DNS server {where}")
            if isinstance(exc, EOFError):
                cls, reason = FailureClass.RESET, f"DNS server {where} closed the TCP connection"
            failure = CheckFailed(cls, reason)
        if deadline.expired():
            break
    assert failure is not None
    raise failure


def _judge(s: DnsSpec, resp: dns.message.Message, details: dict[str, Any], latency: float) -> CheckResult:
    rcode = dns.rcode.to_text(resp.rcode())
    expected_rcode = s.expectedRcode.upper()
    rdtype = dns.rdatatype.from_text(s.recordType)
    records = [rd for rrset in resp.answer if rrset.rdtype == rdtype for rd in rrset]
    ttls = [rrset.ttl for rrset in resp.answer if rrset.rdtype == rdtype]
    # An RRset has no order; sorting keeps the reason stable from one check to the next.
    details.update(rcode=rcode, answers=sorted(display(rd, s.recordType) for rd in records))
    if ttls:
        details["ttl"] = min(ttls)
    details["authoritative"] = bool(resp.flags & dns.flags.AA)
    what = f"{s.name} {s.recordType}"
    if rcode != expected_rcode:
        failure = FailureClass.MISMATCH if rcode == "NOERROR" else FailureClass.DNS
        return CheckResult.down(failure, f"{what}: {rcode} (expected {expected_rcode})", latency, **details)
    if expected_rcode != "NOERROR":
        return CheckResult.up(latency, f"{what}: {rcode} as expected", **details)
    if not records:
        return CheckResult.down(
            FailureClass.MISMATCH, f"{what}: no {s.recordType} records", latency, **details
        )
    if s.expected:
        seen = set().union(*(candidates(rd, s.recordType) for rd in records))
        wanted = {_norm(e, s.recordType): e for e in s.expected}
        missing = [orig for norm, orig in wanted.items() if norm not in seen]
        if (s.match == "all" and missing) or (s.match == "any" and len(missing) == len(wanted)):
            got = ", ".join(details["answers"])
            need = "all of" if s.match == "all" else "one of"
            reason = f"{what}: got {got}; expected {need} {', '.join(s.expected)}"
            if s.match == "all":
                reason += f" (missing {', '.join(missing)})"
            return CheckResult.down(FailureClass.MISMATCH, reason, latency, **details)
    return CheckResult.up(latency, f"{what}: {', '.join(details['answers'])}", **details)


@register(MonitorType.DNS)
def check_dns(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    s: DnsSpec = spec.dns  # type: ignore[assignment]
    deadline = Deadline(spec.timeout)
    try:
        resp, server, used_tcp = query(s, deadline)
    except CheckFailed as failed:
        return failed.result(deadline.elapsed_ms())
    except (dns.exception.SyntaxError, dns.name.LabelTooLong, dns.name.EmptyLabel) as exc:
        return CheckResult.down(FailureClass.CONFIG, f"{s.name!r} is not a valid DNS name: {exc}")
    details: dict[str, Any] = {"server": server, "transport": "tcp" if used_tcp else "udp"}
    if used_tcp and s.transport == "udp":
        details["truncated"] = True
    return _judge(s, resp, details, deadline.elapsed_ms())
