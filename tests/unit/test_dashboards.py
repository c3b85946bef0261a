"""Dashboards are what Grafana loads, structurally sound, and only name metrics that exist."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from streams.metrics import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "dashboards").glob("*.json"))
RULE_FILES = sorted((ROOT / "deploy" / "prometheus" / "rules").glob("*.yml"))
PROMQL_WORDS = {"sum", "max", "min", "avg", "count", "by", "on", "or", "and", "unless", "rate", "increase", "irate",
                "deriv", "changes", "histogram_quantile", "clamp_min", "sort_desc", "vector", "offset", "le", "without",
                "label_values", "ignoring", "group_left", "bool"}


def all_exprs(dash: dict) -> list[str]:
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    exprs += [a["expr"] for a in dash["annotations"]["list"] if "expr" in a]
    return exprs


def known_metrics() -> set[str]:
    names = set()
    for metric in REGISTRY.collect():
        for s in metric.samples:
            names.add(s.name)
        names.add(metric.name)
        names.add(metric.name + "_total")
        names.update(metric.name + suffix for suffix in ("_bucket", "_count", "_sum"))
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            names.update(r["record"] for r in group["rules"] if "record" in r)
    return names


def metric_names(expr: str) -> set[str]:
    expr = re.sub(r'"[^"]*"', "", expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    tokens = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr))
    return {t for t in tokens if t not in PROMQL_WORDS and ("_" in t or ":" in t) and not t.startswith("$")}


def test_generator_output_is_what_is_committed():
    assert subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_dashboards.py"), "--check"]).returncode == 0


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_structure(path):
    dash = json.loads(path.read_text())
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    provisioned = yaml.safe_load((ROOT / "dashboards/provisioning/datasources/prometheus.yml").read_text())
    uid = provisioned["datasources"][0]["uid"]
    for panel in dash["panels"]:
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        assert panel["datasource"]["uid"] == uid
        assert all(t["datasource"]["uid"] == uid and t["expr"].strip() for t in panel["targets"])
    variables = {v["name"] for v in dash["templating"]["list"]}
    for expr in all_exprs(dash):
        for var in re.findall(r"\$([a-z_]+)", expr):
            assert var in variables or var.startswith("__"), f"unresolvable ${var} in {expr}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboards_only_reference_existing_metrics(path):
    known = known_metrics()
    dash = json.loads(path.read_text())
    for expr in all_exprs(dash):
        for name in metric_names(expr):
            assert name in known or name.startswith("faust_"), f"{name} (in {expr}) is not exported"


def test_rules_only_reference_existing_metrics():
    known = known_metrics()
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                for name in metric_names(rule["expr"]):
                    assert name in known or name.startswith("faust_") or name == "up", f"{name} in {path.name}"


def test_brand_dashboard_has_the_uid_alerts_link_to():
    dash = json.loads((ROOT / "dashboards" / "buzzwatch-brand.json").read_text())
    assert dash["uid"] == "buzzwatch-brand"
    assert [v["name"] for v in dash["templating"]["list"]] == ["brand"]
