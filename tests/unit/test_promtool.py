"""Prometheus configuration and rules pass promtool, and every alert rule has a unit test."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROM = ROOT / "deploy" / "prometheus"


def promtool() -> str:
    path = shutil.which("promtool")
    if not path:
        pytest.fail("promtool is missing (Debian package prometheus; `make test` installs it)", pytrace=False)
    return path


def run(*args):
    proc = subprocess.run([promtool(), *args], capture_output=True, text=True, cwd=PROM)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_rules_are_valid():
    run("check", "rules", *[str(p) for p in sorted((PROM / "rules").glob("*.yml"))])


def test_prometheus_config_is_valid():
    run("check", "config", "--syntax-only", str(PROM / "prometheus.yml"))


def test_rule_unit_tests_pass():
    run("test", "rules", *[str(p) for p in sorted((PROM / "tests").glob("*.yml"))])


def test_every_alert_rule_has_a_unit_test():
    alerts = {r["alert"] for p in (PROM / "rules").glob("*.yml") for g in yaml.safe_load(p.read_text())["groups"]
              for r in g["rules"] if "alert" in r}
    tested = {t["alertname"] for p in (PROM / "tests").glob("*.yml") for case in yaml.safe_load(p.read_text())["tests"]
              for t in case.get("alert_rule_test", []) if t.get("exp_alerts")}
    assert alerts - tested == set()


def test_alertmanager_config_is_valid():
    amtool = shutil.which("amtool")
    if not amtool:
        pytest.fail("amtool is missing (Debian package prometheus-alertmanager)", pytrace=False)
    proc = subprocess.run([amtool, "check-config", str(ROOT / "deploy" / "alertmanager" / "alertmanager.yml")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
