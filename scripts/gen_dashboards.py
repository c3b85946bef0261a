"""Generate the Grafana dashboards in dashboards/*.json (the JSON in the repo is what Grafana loads).

    .venv/bin/python scripts/gen_dashboards.py          # rewrite the files
    .venv/bin/python scripts/gen_dashboards.py --check  # exit 1 if the files are stale

Three dashboards: overview (every brand, sorted by risk), brand drill-down (uid buzzwatch-brand,
linked from every alert), pipeline health. Every query is evaluated against a real Prometheus in
tests/integration/test_prometheus_queries.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "dashboards"
DS = {"type": "prometheus", "uid": "buzzwatch-prometheus"}


class Panels:
    def __init__(self):
        self.items: list[dict] = []
        self.y = 0

    def add(self, title: str, targets: list[tuple[str, str]], *, kind: str = "timeseries", w: int = 12, h: int = 8,
            unit: str | None = None, description: str = "", thresholds: list[tuple[float, str]] | None = None,
            options: dict | None = None, transformations: list | None = None, x: int | None = None) -> None:
        pid = len(self.items) + 1
        if x is None:
            used = sum(p["gridPos"]["w"] for p in self.items if p["gridPos"]["y"] == self.y)
            if used + w > 24:
                self.y += h
                used = 0
            x = used
        field = {"defaults": {"unit": unit or "short"}, "overrides": []}
        if thresholds:
            field["defaults"]["thresholds"] = {"mode": "absolute", "steps": [{"color": c, "value": v} for v, c in thresholds]}
        panel = {
            "id": pid, "type": kind, "title": title, "description": description, "datasource": DS,
            "gridPos": {"x": x, "y": self.y, "w": w, "h": h},
            "targets": [{"refId": chr(65 + i), "datasource": DS, "expr": expr, "legendFormat": legend,
                         **({"format": "table", "instant": True} if kind == "table" else {})}
                        for i, (expr, legend) in enumerate(targets)],
            "fieldConfig": field, "options": options or {},
        }
        if transformations:
            panel["transformations"] = transformations
        self.items.append(panel)


def dashboard(uid: str, title: str, panels: Panels, *, variables: list[dict] | None = None, annotations=None,
              description: str = "") -> dict:
    return {
        "uid": uid, "title": title, "description": description, "tags": ["buzzwatch"], "timezone": "utc",
        "schemaVersion": 39, "version": 1, "editable": True, "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": variables or []},
        "annotations": {"list": annotations or []},
        "panels": panels.items,
    }


def brand_variable(multi: bool) -> dict:
    return {
        "name": "brand", "label": "Brand", "type": "query", "datasource": DS,
        "query": {"query": "label_values(buzzwatch_brand_mentions_per_minute, brand)", "refId": "brand"},
        "definition": "label_values(buzzwatch_brand_mentions_per_minute, brand)",
        "refresh": 2, "includeAll": multi, "multi": multi, "sort": 1,
        "current": {"text": "All", "value": "$__all"} if multi else {},
    }


def overview() -> dict:
    p = Panels()
    p.add("Brands by risk (buzz score, severity)", [
        ("sort_desc(buzzwatch:brand_risk)", "{{brand}}"),
        ("max by (brand) (buzzwatch_brand_buzz_score)", "score"),
        ("max by (brand) (buzzwatch_brand_alert_severity)", "severity"),
        ("max by (brand) (buzzwatch_brand_mentions_per_minute)", "mentions/min"),
        ("max by (brand) (buzzwatch_brand_expected_mentions_per_minute)", "expected/min"),
        ("max by (brand) (buzzwatch_brand_negative_share{window=\"1h\"})", "negative share 1h"),
        ("max by (brand) (buzzwatch_brand_sentiment{window=\"1h\"})", "sentiment 1h"),
    ], kind="table", w=24, h=10, description="Every configured brand at a glance, riskiest first.",
        transformations=[{"id": "merge", "options": {}}, {"id": "sortBy", "options": {"sort": [{"field": "Value #A", "desc": True}]}}])
    p.add("Open bad-buzz episodes", [("count(max by (brand) (buzzwatch_brand_alert_severity) >= 1) or vector(0)", "open")],
          kind="stat", w=6, h=5, thresholds=[(None, "green"), (1, "orange"), (3, "red")])
    p.add("Critical episodes", [("count(max by (brand) (buzzwatch_brand_alert_severity) >= 3) or vector(0)", "critical")],
          kind="stat", w=6, h=5, thresholds=[(None, "green"), (1, "red")])
    p.add("Mentions per minute, all brands", [("sum(buzzwatch_brand_mentions_per_minute)", "mentions/min")], kind="stat", w=6, h=5)
    p.add("Alert events (24h)", [("sum by (event) (increase(buzzwatch_alert_events_total[24h]))", "{{event}}")], kind="stat", w=6, h=5)
    p.add("Mentions/min vs expected", [
        ("max by (brand) (buzzwatch_brand_mentions_per_minute{brand=~\"$brand\"})", "{{brand}} observed"),
        ("max by (brand) (buzzwatch_brand_expected_mentions_per_minute{brand=~\"$brand\"})", "{{brand}} expected"),
    ], w=12)
    p.add("Negative share 1h", [("max by (brand) (buzzwatch_brand_negative_share{brand=~\"$brand\", window=\"1h\"})", "{{brand}}")],
          w=12, unit="percentunit")
    p.add("Buzz score", [("max by (brand) (buzzwatch_brand_buzz_score{brand=~\"$brand\"})", "{{brand}}")], w=24,
          thresholds=[(None, "green"), (5, "yellow"), (10, "orange"), (16, "red")])
    return dashboard("buzzwatch-overview", "Buzzwatch - overview", p, variables=[brand_variable(True)],
                     description="Every brand at a glance, sorted by risk.")


def brand() -> dict:
    p = Panels()
    sel = 'brand="$brand"'
    p.add("Mentions per minute vs expected", [
        (f"max(buzzwatch_brand_mentions_per_minute{{{sel}}})", "observed"),
        (f"max(buzzwatch_brand_expected_mentions_per_minute{{{sel}}})", "expected"),
        (f"2 * max(buzzwatch_brand_expected_mentions_per_minute{{{sel}}})", "2x expected"),
    ], w=24, description="Last closed event-time minute against the brand's usual rhythm (hour of day x weekday).")
    p.add("Negative share vs baseline", [
        (f"max(buzzwatch_brand_negative_share{{{sel}, window=\"5m\"}})", "5 min"),
        (f"max(buzzwatch_brand_negative_share{{{sel}, window=\"1h\"}})", "1 h"),
        (f"max(buzzwatch_brand_expected_negative_share{{{sel}}})", "usual"),
    ], w=12, unit="percentunit")
    p.add("Rolling sentiment (VADER compound)", [
        (f"max(buzzwatch_brand_sentiment{{{sel}, window=\"5m\"}})", "5 min"),
        (f"max(buzzwatch_brand_sentiment{{{sel}, window=\"1h\"}})", "1 h"),
        (f"max(buzzwatch_brand_sentiment{{{sel}, window=\"24h\"}})", "24 h"),
    ], w=12)
    p.add("Reach (followers of authors, per minute)", [(f"max(buzzwatch_brand_reach_per_minute{{{sel}}})", "reach")], w=12)
    p.add("Buzz score", [(f"max(buzzwatch_brand_buzz_score{{{sel}}})", "score")], w=12,
          thresholds=[(None, "green"), (5, "yellow"), (10, "orange"), (16, "red")],
          description="Weaker of the negative-volume and negative-share surprises (-log10 p); watch 5, warning 10, critical 16.")
    p.add("Alert severity", [(f"max(buzzwatch_brand_alert_severity{{{sel}}})", "severity")], kind="stat", w=8, h=5,
          thresholds=[(None, "green"), (1, "yellow"), (2, "orange"), (3, "red")])
    p.add("Late mentions (rate)", [(f"sum(rate(buzzwatch_late_mentions_total{{{sel}}}[$__rate_interval]))", "late/s")], w=8, h=5)
    p.add("Mentions in window", [(f"max by (window) (buzzwatch_brand_window_mentions{{{sel}}})", "{{window}}")], kind="stat", w=8, h=5)
    annotations = [{
        "name": "Alert lifecycle", "datasource": DS, "enable": True, "iconColor": "red",
        "expr": f"changes(buzzwatch_alert_events_total{{{sel}}}[1m]) > 0", "step": "60s",
        "titleFormat": "{{event}}", "textFormat": "bad buzz {{event}} for {{brand}}", "tagKeys": "event",
    }]
    return dashboard("buzzwatch-brand", "Buzzwatch - brand drill-down", p, variables=[brand_variable(False)],
                     annotations=annotations, description="One brand: volume vs expected, negativity, sentiment, reach, score, alerts.")


def pipeline() -> dict:
    p = Panels()
    p.add("Consumed / accepted / dead-lettered (per s)", [
        ("buzzwatch:mentions_consumed:rate5m", "consumed"),
        ("buzzwatch:mentions_accepted:rate5m", "accepted"),
        ("sum(buzzwatch:mentions_dead_lettered:rate5m) or vector(0)", "dead-lettered"),
    ], w=12)
    p.add("Dead letters by reason (per s)", [("buzzwatch:mentions_dead_lettered:rate5m", "{{reason}}")], w=12)
    p.add("Consumer lag by topic", [("buzzwatch:consumer_lag:sum", "{{topic}}")], w=12)
    p.add("Event-time lag (s)", [("max(buzzwatch_event_time_lag_seconds)", "wall clock - watermark")], w=12, unit="s")
    p.add("Processing latency p50 / p99", [
        ("buzzwatch:processing_latency_seconds:p50", "p50 {{stage}}"),
        ("buzzwatch:processing_latency_seconds:p99", "p99 {{stage}}"),
    ], w=12, unit="s")
    p.add("Late mentions (per s)", [("sum(buzzwatch:late_mentions:rate5m) or vector(0)", "late")], w=12)
    p.add("Rebalances", [("max(faust_total_rebalances)", "rebalances")], kind="stat", w=8, h=5)
    p.add("Alert delivery failures (1h)", [("sum(increase(buzzwatch_alert_deliveries_total{outcome=\"failed\"}[1h])) or vector(0)", "failed")],
          kind="stat", w=8, h=5, thresholds=[(None, "green"), (1, "red")])
    p.add("Unmatched mentions (per s)", [("sum(rate(buzzwatch_mentions_unmatched_total[$__rate_interval]))", "unmatched")], w=8, h=5)
    p.add("Event-loop lag p99 (s)", [
        ("histogram_quantile(0.99, sum by (le, instance) (rate(buzzwatch_event_loop_lag_seconds_bucket[5m])))",
         "p99 {{instance}}"),
    ], w=12, unit="s", description="How late each worker's event loop woke a 0.1 s timer. Seconds here mean "
          "one step (a batch, a minute closing for thousands of brands) held the loop that the agents, the "
          "stall watches and /metrics share: scrapes answer late and alerts leave late.")
    return dashboard("buzzwatch-pipeline", "Buzzwatch - pipeline health", p,
                     description="For operators: throughput, dead letters, lag, latency, rebalances, delivery failures.")


def render() -> dict[str, str]:
    return {f"{d['uid']}.json": json.dumps(d, indent=2, ensure_ascii=False) + "\n" for d in (overview(), brand(), pipeline())}


def main() -> int:
    files = render()
    if "--check" in sys.argv:
        stale = [name for name, text in files.items() if not (OUT / name).exists() or (OUT / name).read_text() != text]
        if stale:
            print(f"stale dashboards (run scripts/gen_dashboards.py): {', '.join(stale)}")
            return 1
        return 0
    for name, text in files.items():
        (OUT / name).write_text(text, encoding="utf-8")
        print(f"wrote {OUT / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
