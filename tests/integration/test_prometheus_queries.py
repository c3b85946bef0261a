"""Every dashboard query and every recording rule, evaluated by a real Prometheus scraping a real
worker that processes simulated traffic on the real broker: valid, and not empty."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import orjson
import pytest
import yaml

from buzzwatch.timeutil import format_timestamp
from buzzwatch.offline.simulate import generate_mentions

from .harness import (
    REPO, buzzwatch, free_port, metric, produce, running_worker, scrape, unique, wait_for, worker_env, write_config,
)

pytestmark = [pytest.mark.kafka, pytest.mark.prometheus]

START = 1_794_500_000_000 - 1_794_500_000_000 % 3_600_000
MINUTES = 8 * 60


def prometheus_binary() -> str:
    path = shutil.which("prometheus")
    if not path:
        pytest.fail("prometheus is not installed (Debian package prometheus; `make test` installs it)", pytrace=False)
    return path


def query(base: str, expr: str) -> dict:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as exc:
        return json.load(exc)


def dashboard_queries() -> list[tuple[str, str]]:
    out = []
    for path in sorted((REPO / "dashboards").glob("*.json")):
        dash = json.loads(path.read_text())
        for panel in dash["panels"]:
            for t in panel["targets"]:
                expr = (t["expr"].replace("$brand", "Acme").replace("$__rate_interval", "1m")
                        .replace("$__interval", "15s").replace("$__range", "1h"))
                out.append((f"{path.stem}: {panel['title']}", expr))
    return out


def recording_rules() -> list[tuple[str, str]]:
    out = []
    for path in sorted((REPO / "deploy" / "prometheus" / "rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    out.append((rule["record"], rule["record"]))
    return out


@pytest.fixture(scope="module")
def prometheus_with_worker(tmp_path_factory, kafka_bootstrap):
    tmp = tmp_path_factory.mktemp("prom")
    config = write_config(tmp / "buzzwatch.toml", partitions=2, lateness_s=60,
                          extra="[detector]\nwarmup_minutes = 120\n")
    prefix = unique("prom") + "."
    port = free_port()
    env = worker_env(config, kafka_bootstrap, unique("prom-app"), prefix, port, tmp / "data")
    buzzwatch("topics", "create", env=env)
    mentions = generate_mentions(["Acme", "Lavéria"], START, MINUTES, seed=4, rate_per_min=5.0,
                                 bad_buzz={"brand": "Acme", "start_minute": MINUTES - 120, "ramp_minutes": 10,
                                           "peak_factor": 10.0, "negative_share": 0.85})
    rows = [(i % 2, orjson.dumps(m)) for i, m in enumerate(mentions)]
    rows.append((0, b"{not json"))
    rows.append((1, orjson.dumps({"id": "u1", "text": "nothing about any brand", "created_at": format_timestamp(START)})))
    rows.append((0, orjson.dumps({"id": "late1", "text": "Acme is late", "created_at": format_timestamp(START + 60_000)})))
    for p in range(2):
        for j in range(3):  # three: a partition's clock moves where most of its recent records agree
            rows.append((p, orjson.dumps({"id": f"tail{p}-{j}", "text": "Acme",
                                          "created_at": format_timestamp(START + (MINUTES + 10) * 60_000)})))
    produce(kafka_bootstrap, prefix + "mentions", [(p, None, v) for p, v in rows])

    prom_port = free_port()
    rules_dir = REPO / "deploy" / "prometheus" / "rules"
    (tmp / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(p) for p in sorted(rules_dir.glob("*.yml"))],
        "scrape_configs": [{"job_name": "buzzwatch-worker", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}],
    }))
    log = tmp / "worker.log"
    with running_worker(env, log) as worker:
        prom = subprocess.Popen(
            [prometheus_binary(), f"--config.file={tmp / 'prometheus.yml'}", f"--storage.tsdb.path={tmp / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{prom_port}"],
            stdout=subprocess.DEVNULL, stderr=(tmp / "prometheus.log").open("wb"),
        )
        base = f"http://127.0.0.1:{prom_port}"
        try:
            def caught_up():
                s = scrape(port)
                return metric(s, "buzzwatch_mentions_consumed_total") == len(rows) and \
                    (metric(s, "buzzwatch_brand_last_closed_minute_timestamp_seconds", brand="Acme") or 0) * 1000 >= START + (MINUTES - 1) * 60_000

            wait_for(caught_up, timeout=180, what="worker caught up", proc=worker, log_path=log)
            wait_for(lambda: query(base, "up")["data"]["result"], timeout=60, what="prometheus scraping")
            time.sleep(20)  # several scrapes and rule evaluations after the data
            yield base
        finally:
            prom.terminate()
            prom.wait(timeout=20)


@pytest.mark.parametrize("name, expr", dashboard_queries() + recording_rules(), ids=lambda v: v if isinstance(v, str) and len(v) < 80 else None)
def test_query_is_valid_and_returns_series(prometheus_with_worker, name, expr):
    result = query(prometheus_with_worker, expr)
    assert result["status"] == "success", f"{name}: {result}"
    assert result["data"]["result"], f"{name}: no series for {expr}"


def test_annotation_query_is_valid(prometheus_with_worker):
    dash = json.loads((REPO / "dashboards" / "buzzwatch-brand.json").read_text())
    for ann in dash["annotations"]["list"]:
        expr = ann["expr"].replace("$brand", "Acme")
        assert query(prometheus_with_worker, expr)["status"] == "success"
        assert query(prometheus_with_worker, f"buzzwatch_alert_events_total{{brand='Acme'}}")["data"]["result"]
