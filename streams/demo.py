"""`buzzwatch demo`: a local Kafka, the topics, one worker, simulated traffic, a live summary.

Event time runs at 180x: every wall-clock second the feeder produces three more minutes of
simulated EN/FR mentions for the configured brands, starting a few hours in the past, so
minutes close (after the allowed lateness) within seconds and the summary moves. About a
minute in, the first brand is pushed into a bad buzz; the demo shortens the detector's warm-up
to two hours of event time (only if the config sets no [detector] table) so it shows. The summary is read from the worker's own ``/metrics``, i.e.
exactly what Prometheus would scrape.

Everything started here is stopped on Ctrl-C, on SIGTERM, or after ``--seconds``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from streams.metrics import scrape
from streams.settings import Settings

HISTORY_MINUTES = 150
SPEEDUP_MINUTES_PER_SECOND = 3
DEMO_WARMUP_MINUTES = 120


def summary_table(samples: dict, brands: list[str]):
    from rich.table import Table

    def get(name, **labels):
        return samples.get((name, tuple(sorted(labels.items()))))

    def fmt(v, spec):
        return "-" if v is None else format(v, spec)

    table = Table("brand", "mentions/min", "expected/min", "sentiment 5m", "sentiment 1h",
                  "neg share 5m", "neg share 1h", "buzz score", "severity", title="Buzzwatch demo (event time x180)")
    for b in brands:
        sev = get("buzzwatch_brand_alert_severity", brand=b)
        table.add_row(
            b,
            fmt(get("buzzwatch_brand_mentions_per_minute", brand=b), ".0f"),
            fmt(get("buzzwatch_brand_expected_mentions_per_minute", brand=b), ".1f"),
            fmt(get("buzzwatch_brand_sentiment", brand=b, window="5m"), "+.2f"),
            fmt(get("buzzwatch_brand_sentiment", brand=b, window="1h"), "+.2f"),
            fmt(get("buzzwatch_brand_negative_share", brand=b, window="5m"), ".0%"),
            fmt(get("buzzwatch_brand_negative_share", brand=b, window="1h"), ".0%"),
            fmt(get("buzzwatch_brand_buzz_score", brand=b), ".2f"),
            {None: "-", 0: "ok", 1: "watch", 2: "WARNING", 3: "CRITICAL"}.get(sev, str(sev)),
        )
    consumed = get("buzzwatch_mentions_consumed_total")
    dlq = sum(v for (n, _), v in samples.items() if n == "buzzwatch_mentions_dead_lettered_total")
    table.caption = f"consumed {fmt(consumed, ',.0f')} - dead-lettered {dlq:,.0f} - metrics at /metrics"
    return table


def demo_config(settings: Settings):
    """The user's config, with a short warm-up unless it tunes the detector itself."""
    text = settings.config_path.read_text(encoding="utf-8")
    if "[detector]" in text:
        return settings.config_path
    path = settings.data_dir.parent / "demo.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + f"\n[detector]\nwarmup_minutes = {DEMO_WARMUP_MINUTES}\n", encoding="utf-8")
    return path


def run_demo(settings: Settings, seconds: float | None) -> int:
    from rich.console import Console
    from rich.live import Live

    from buzzwatch.offline.simulate import generate_mentions
    from streams.producer import make_producer
    from streams.topics import create_topics, topic_specs

    console = Console(width=None if sys.stdout.isatty() else 150)
    brands = list(settings.core.brand_names)
    if not brands:
        console.print("[red]no [[brands]] in the config[/red]")
        return 2
    kafka = None
    worker = None
    stop = {"now": False}

    def on_signal(signum, frame):  # noqa: ARG001
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_signal)
    try:
        if settings.bootstrap:
            bootstrap = settings.bootstrap
        elif settings.kafka_security.protocol != "PLAINTEXT":
            console.print("[red]the demo's own local broker speaks PLAINTEXT: unset the [kafka] security settings, "
                          "or point BUZZWATCH_KAFKA at your secured cluster[/red]")
            return 2
        else:
            from streams.kafka_local import LocalKafka

            console.print("starting a local Apache Kafka (KRaft) on 127.0.0.1 ...")
            kafka = LocalKafka()
            bootstrap = kafka.start()
        console.print(f"kafka: {bootstrap}")
        create_topics(bootstrap, topic_specs(settings.partitions, settings.topics.as_dict()), security=settings.kafka_security)
        env = dict(os.environ, BUZZWATCH_KAFKA=bootstrap, BUZZWATCH_WEB_PORT=str(settings.web_port),
                   BUZZWATCH_APP_ID=f"{settings.app_id}-demo-{int(time.time())}")
        if settings.config_path:
            env["BUZZWATCH_CONFIG"] = str(demo_config(settings))
        settings.data_dir.parent.mkdir(parents=True, exist_ok=True)
        log = open(settings.data_dir.parent / "demo-worker.log", "ab")
        worker = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker"], env=env, stdout=log, stderr=log)
        url = f"http://{settings.web_host}:{settings.web_port}/metrics"
        console.print(f"worker pid {worker.pid}; metrics at {url}; alerts at {url.removesuffix('/metrics')}/alerts; "
                      "Ctrl-C to stop")

        producer = make_producer(bootstrap, settings.kafka_security)
        start_ms = int(time.time() * 1000) - HISTORY_MINUTES * 60_000
        start_ms -= start_ms % 60_000
        total_minutes = HISTORY_MINUTES + 24 * 60
        buzz_brand = brands[0]
        mentions = iter(generate_mentions(
            brands, start_ms, total_minutes, seed=7, rate_per_min=20.0, fr_share=0.35,
            bad_buzz={"brand": buzz_brand, "start_minute": HISTORY_MINUTES + 45, "ramp_minutes": 8,
                      "peak_factor": 10.0, "negative_share": 0.85},
        ))
        pending = next(mentions, None)
        began = time.monotonic()
        with Live(console=console, refresh_per_second=1, transient=False) as live:
            while not stop["now"]:
                elapsed = time.monotonic() - began
                if seconds is not None and elapsed >= seconds:
                    break
                if worker.poll() is not None:
                    console.print(f"[red]worker exited with code {worker.returncode}[/red]")
                    return 1
                # produce event time up to start + elapsed * speed (minutes)
                horizon = start_ms + int((elapsed * SPEEDUP_MINUTES_PER_SECOND + 5) * 60_000)
                from buzzwatch.timeutil import parse_timestamp_ms
                import orjson

                while pending is not None and parse_timestamp_ms(pending["created_at"]) <= horizon:
                    producer.send(settings.topics.mentions, key=(pending.get("brand") or pending["id"]).encode(), value=orjson.dumps(pending))
                    pending = next(mentions, None)
                producer.flush()
                try:
                    live.update(summary_table(scrape(url), brands))
                except OSError:
                    pass  # worker still starting
                time.sleep(1.0)
        producer.close()
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        if kafka is not None:
            kafka.stop()
        console.print("demo stopped: worker and broker shut down")
