"""Notification policies (`/policies`): which monitors each one selects and reaches, and its providers.

Computed by the routing code itself (`app.alerting.routing`): a policy *selects* the
monitors its namespaces, names and label selector pick, and *reaches* those of them that
an earlier policy (by priority) without `continue: true` does not stop first — for a
"down" event, or the policy's first trigger when it does not take "down". A provider it
names that does not exist is marked missing, as routing records it.
"""

from __future__ import annotations

from typing import Any

import falcon

from app.alerting.routing import PolicyView, matching_policies
from app.catalog import MonitorEntry
from app.http.dashboard import Deps, render
from app.http.dashboard.alertview import alert_config
from app.http.dashboard.openapi import page
from app.http.dashboard.rows import monitor_href

SHOWN = 20  # monitor names listed per policy; the count says the rest


def first_trigger(p: PolicyView) -> str:
    return "down" if "down" in p.spec.triggers else (p.spec.triggers[0] if p.spec.triggers else "down")


def reached_by(ordered: list[PolicyView], monitors: list[MonitorEntry]) -> dict[str, list[MonitorEntry]]:
    """Per policy key, the monitors an event of its shown trigger reaches it for: one walk per monitor
    and trigger, as routing walks them."""
    out: dict[str, list[MonitorEntry]] = {p.key: [] for p in ordered}
    wanted = {p.key: first_trigger(p) for p in ordered}
    for trigger in set(wanted.values()):
        for m in monitors:
            for p in matching_policies(trigger, m, ordered):
                if wanted[p.key] == trigger:
                    out[p.key].append(m)
    return out


def policy_line(
    p: PolicyView, monitors: list[MonitorEntry], reached: list[MonitorEntry], providers: set[tuple[str, str]]
) -> dict[str, Any]:
    selected = sum(1 for m in monitors if p.selects(m))
    return {
        "p": p, "trigger": first_trigger(p), "selected": selected, "reached": reached[:SHOWN],
        "reached_count": len(reached), "stopped": selected - len(reached),
        "providers": [{"key": f"{ns}/{name}", "missing": (ns, name) not in providers}
                      for ns, name in p.provider_keys()],
        "selector": _selector_text(p),
    }  # fmt: skip


def _selector_text(p: PolicyView) -> str:
    spec = p.spec
    parts = [f"namespaces {', '.join(spec.namespaces)}" if spec.namespaces else f"namespace {p.namespace}"]
    if spec.monitorNames:
        parts.append("names " + ", ".join(spec.monitorNames))
    sel = spec.monitorSelector
    if sel.matchLabels:
        parts.append(", ".join(f"{k}={v}" for k, v in sorted(sel.matchLabels.items())))
    for e in sel.matchExpressions:
        parts.append(f"{e.key} {e.operator} ({', '.join(e.values)})")
    return "; ".join(parts)


class PoliciesPage:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.config = alert_config(deps.store)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        cfg = self.config.get()
        monitors = sorted(self.deps.catalog.monitors(), key=lambda m: (m.namespace, m.name))
        providers = set(cfg.providers)
        reached = reached_by(cfg.policies, monitors)
        lines = [policy_line(p, monitors, reached[p.key], providers) for p in cfg.policies]
        render(req, resp, "dashboard/policies.html", active="policies", lines=lines, href=monitor_href,
               shown=SHOWN)  # fmt: skip


OPENAPI = {"/policies": {"get": page("notification policies: what each selects and reaches (HTML)")}}


def register(app: falcon.App, deps: Deps) -> None:
    app.add_route("/policies", PoliciesPage(deps))
