"""The Grafana dashboard in docs/ asks only for series KubeKuma exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.http.conftest import Site
from tests.integrations.test_prometheus import full_metrics

DASHBOARD = Path(__file__).parents[2] / "docs" / "grafana" / "kubekuma-dashboard.json"
_FUNCTIONS = {"sum", "rate", "histogram_quantile", "sort", "label_values", "by", "le"}


def exprs(doc: dict) -> list[str]:
    found = [t["expr"] for p in doc["panels"] for t in p.get("targets", [])]
    found += [v["query"] for v in doc["templating"]["list"] if v.get("type") == "query"]
    return found


def test_every_expression_uses_exported_series(lite: Site) -> None:
    doc = json.loads(DASHBOARD.read_text())
    families = list(text_string_to_metric_families(full_metrics(lite)))
    # Sample names, and family names for the families this seed leaves empty (deliveries).
    exported = {s.name for f in families for s in f.samples} | {f.name for f in families}
    used = {name for e in exprs(doc) for name in re.findall(r"\b(kubekuma_[a-z_]+)\b", e)}
    assert len(used) >= 12
    assert used <= exported, sorted(used - exported)
    assert all(re.search(r"\bkubekuma_", e) for e in exprs(doc)), "every panel reads KubeKuma's series"
    ids = [p["id"] for p in doc["panels"]]
    assert len(ids) == len(set(ids))
