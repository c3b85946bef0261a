"""The ``buzzwatch`` command.

Every subcommand has ``--help``. Set-up errors (bad config, no broker) end with a one-line
message and exit code 2, not a traceback.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import typer

from buzzwatch.config import ConfigError

app = typer.Typer(
    help="Buzzwatch: early warning for reputation crises (bad buzz) on Kafka + Faust.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
kafka_app = typer.Typer(help="Run a local single-node Apache Kafka (KRaft) for development and tests.", no_args_is_help=True)
topics_app = typer.Typer(help="Create and describe Buzzwatch's topics.", no_args_is_help=True)
app.add_typer(kafka_app, name="kafka")
app.add_typer(topics_app, name="topics")
from streams.alerts_cli import alerts_app  # noqa: E402 - the on-call commands live in their own module

app.add_typer(alerts_app, name="alerts")

ConfigOpt = typer.Option(None, "--config", "-c", help="TOML config file (default $BUZZWATCH_CONFIG or config/buzzwatch.toml).")


def fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def settings_or_exit(config: Optional[Path], **overrides):
    from streams.settings import load_settings

    try:
        settings = load_settings(config)
    except ConfigError as exc:
        fail(str(exc))
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return settings.with_overrides(**overrides) if overrides else settings


def bootstrap_or_exit(settings, wait_s: float = 0.0) -> str:
    """The bootstrap servers, once this process has reached and authenticated to one of them
    within ``kafka_connect_timeout_s`` (``streams.kafka_access``): wrong TLS or SASL settings
    end here with the reason, instead of the clients' long, vague retries. A broker that does
    not answer at all is waited for ``wait_s`` more (a worker: ``streams.broker_wait``)."""
    from streams.broker_wait import waiting_for_broker
    from streams.kafka_access import KafkaAccessError, check_access

    try:
        bootstrap = settings.kafka_bootstrap()
    except Exception as exc:  # noqa: BLE001 - any reason: say it and stop
        fail(str(exc))
    try:
        waiting_for_broker(lambda: check_access(bootstrap, settings.kafka_security, settings.kafka_connect_timeout_s),
                           what="access check", wait_s=wait_s)
    except KafkaAccessError as exc:
        fail(str(exc))
    return bootstrap


# --- worker -------------------------------------------------------------------------------
@app.command()
def worker(
    config: Optional[Path] = ConfigOpt,
    web_port: Optional[int] = typer.Option(None, help="Metrics/web port (default $BUZZWATCH_WEB_PORT or 6066)."),
    app_id: Optional[str] = typer.Option(None, help="Faust app id = consumer group and table namespace."),
    loglevel: str = typer.Option("warn", help="crit|error|warn|info|debug"),
) -> None:
    """Run a Faust worker: ingest, aggregate and notify agents, metrics at /metrics."""
    from streams.topics import TopicLayoutError
    from streams.worker import prepare_topics, run_worker

    settings = settings_or_exit(config, web_port=web_port, app_id=app_id)
    bootstrap_or_exit(settings, wait_s=settings.broker_wait_s)
    try:
        prepare_topics(settings)
    except TopicLayoutError as exc:
        fail(str(exc))
    run_worker(settings, loglevel=loglevel)


# --- kafka --------------------------------------------------------------------------------
@kafka_app.command("up")
def kafka_up() -> None:
    """Start a local broker in the background (jars resolved with Maven on first use)."""
    from streams.kafka_local import kafka_up as up

    typer.echo(up())


@kafka_app.command("down")
def kafka_down() -> None:
    """Stop the local broker started by `buzzwatch kafka up`."""
    from streams.kafka_local import kafka_down as down

    typer.echo("stopped" if down() else "no local broker was running")


@kafka_app.command("status")
def kafka_status() -> None:
    """Print the local broker's bootstrap address, pid and data dir (exit 1 when down)."""
    from streams.kafka_local import kafka_status as status

    st = status()
    if not st:
        typer.echo("down")
        raise typer.Exit(1)
    for k, v in st.items():
        typer.echo(f"{k}: {v}")


# --- topics -------------------------------------------------------------------------------
@topics_app.command("create")
def topics_create(config: Optional[Path] = ConfigOpt) -> None:
    """Create mentions, mentions.scored, mentions.dlq and buzz.alerts (idempotent)."""
    from streams.topics import create_topics, topic_specs

    settings = settings_or_exit(config)
    created = create_topics(bootstrap_or_exit(settings), topic_specs(settings.partitions, settings.topics.as_dict(), replication=settings.replication),
                            security=settings.kafka_security)
    typer.echo(f"created: {', '.join(created) if created else '(all existed)'}")


@topics_app.command("describe")
def topics_describe(config: Optional[Path] = ConfigOpt) -> None:
    """Partitions, replication, retention and cleanup policy of each topic, and the partition
    counts a worker would refuse to start on (exit 1 when there is one)."""
    from rich.console import Console
    from rich.table import Table

    from streams.topics import describe_topics, layout_problems, worker_layout

    settings = settings_or_exit(config)
    wanted = worker_layout(settings)
    names = list(dict.fromkeys([*settings.topics.as_dict().values(), *wanted]))
    rows = describe_topics(bootstrap_or_exit(settings), names, security=settings.kafka_security)
    table = Table("topic", "partitions", "worker needs", "replication", "retention.ms", "cleanup.policy")
    for r in rows:
        table.add_row(str(r.get("name")), str(r.get("partitions")), str(wanted.get(r["name"], ("any",))[0]),
                      str(r.get("replication")), str(r.get("retention.ms")), str(r.get("cleanup.policy")))
    console = Console()
    console.print(table)
    problems = layout_problems(rows, wanted)
    for problem in problems:
        console.print(f"[red]{problem}[/red]", soft_wrap=True)
    if problems:
        raise typer.Exit(1)


# --- simulate -----------------------------------------------------------------------------
@app.command()
def simulate(
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write JSONL here (.gz compresses)."),
    produce: bool = typer.Option(False, help="Produce to the mentions topic instead of writing a file."),
    brands: Optional[str] = typer.Option(None, help="Comma-separated brands (default: the configured ones)."),
    minutes: int = typer.Option(60, help="Event-time minutes of traffic."),
    start: Optional[str] = typer.Option(None, help="Event time of the first minute (ISO-8601, default: now - minutes)."),
    rate: float = typer.Option(20.0, help="Mean mentions per minute per brand."),
    fr_share: float = typer.Option(0.3, help="Share of French mentions."),
    seed: int = typer.Option(1, help="Random seed (same seed, same mentions and ids)."),
    bad_buzz: Optional[str] = typer.Option(None, help="Inject a bad buzz on this brand in the middle of the range."),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Synthetic EN/FR mentions with a daily rhythm (and optionally an injected bad buzz)."""
    from buzzwatch.timeutil import parse_timestamp_ms
    from buzzwatch.offline.simulate import generate_mentions

    settings = settings_or_exit(config)
    names = [b.strip() for b in brands.split(",")] if brands else list(settings.core.brand_names)
    if not names:
        fail("no brands: pass --brands or configure [[brands]]")
    start_ms = parse_timestamp_ms(start) if start else int(time.time() * 1000) - minutes * 60_000
    if start_ms is None:
        fail(f"--start {start!r} is not a valid time")
    start_ms -= start_ms % 60_000
    buzz = None
    if bad_buzz:
        buzz = {"brand": bad_buzz, "start_minute": minutes // 2, "ramp_minutes": 10, "peak_factor": 8.0, "negative_share": 0.8}
    mentions = generate_mentions(names, start_ms, minutes, seed=seed, rate_per_min=rate, fr_share=fr_share, bad_buzz=buzz)
    if produce:
        from streams.producer import produce_mentions

        n = produce_mentions(bootstrap_or_exit(settings), settings.topics.mentions, mentions, security=settings.kafka_security)
        typer.echo(f"produced {n} mentions to {settings.topics.mentions}")
        return
    import gzip

    import orjson

    if out is None:
        fail("pass --out FILE or --produce")
    opener = gzip.open if out.suffix == ".gz" else open
    n = 0
    with opener(out, "wb") as fh:
        for m in mentions:
            fh.write(orjson.dumps(m) + b"\n")
            n += 1
    typer.echo(f"wrote {n} mentions to {out}")


# --- ingest -------------------------------------------------------------------------------
@app.command()
def ingest(
    files: list[str] = typer.Argument(..., help="JSONL or CSV files, gzipped or not; '-' for stdin."),
    rejects: Path = typer.Option(Path("rejects.jsonl"), help="Where refused lines go, with file, line and reason."),
    rate: Optional[float] = typer.Option(None, help="Throttle to this many mentions per second."),
    topic: Optional[str] = typer.Option(None, help="Target topic (default: the mentions topic)."),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Load archives into the mentions topic, validated with the mention contract."""
    from streams.producer import ingest_files

    settings = settings_or_exit(config)
    report = ingest_files(
        bootstrap_or_exit(settings), topic or settings.topics.mentions, files, rejects,
        settings.core, rate=rate, security=settings.kafka_security,
    )
    typer.echo(
        f"read {report.read} records: produced {report.produced}, rejected {report.rejected}"
        + (f" (see {rejects})" if report.rejected else "")
    )
    if report.rejected and not report.produced:
        raise typer.Exit(1)


# --- sentiment ----------------------------------------------------------------------------
@app.command()
def sentiment(
    input: str = typer.Argument(..., help="Mentions as JSONL (gz ok, '-' for stdin)."),
    out: str = typer.Option(..., "--out", "-o", help="Output JSONL ('-' for stdout)."),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Score mentions: one JSON line per input with id, lang, compound, label."""
    from streams.batch import score_file

    settings = settings_or_exit(config)
    n, bad = score_file(settings.core, input, out)
    typer.echo(f"scored {n} mentions" + (f", {bad} refused (reported on stderr)" if bad else ""), err=True)


# --- backtest -----------------------------------------------------------------------------
@app.command()
def backtest(
    input: str = typer.Argument(..., help="Mentions JSONL (the contract) or, with --format counts, a CSV timestamp,value[,negative]."),
    out: Path = typer.Option(..., "--out", "-o", help="Alerts JSONL (lifecycle events)."),
    format: str = typer.Option("mentions", help="mentions | counts"),
    brand: Optional[str] = typer.Option(None, help="Brand name of a counts series (required with --format counts)."),
    clock: bool = typer.Option(False, "--clock", help="Add the response clock's reminders / deadline_missed (event time, no acks)."),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Run the same core as the workers over a file, offline; print a summary."""
    from streams.batch import run_backtest

    settings = settings_or_exit(config)
    if format not in ("mentions", "counts"):
        fail("--format is mentions or counts")
    if format == "counts" and not brand:
        fail("--format counts needs --brand NAME")
    try:
        run_backtest(settings.core, input, out, format, brand, clock)
    except (ValueError, OSError) as exc:
        fail(str(exc))


# --- replay -------------------------------------------------------------------------------
replay_app = typer.Typer(help="Reprocess a time range of a topic in isolation; compare alert sets.")
app.add_typer(replay_app, name="replay")


def _time_or_exit(value: Optional[str], flag: str) -> Optional[int]:
    from buzzwatch.timeutil import parse_timestamp_ms

    if value is None:
        return None
    ms = parse_timestamp_ms(value)
    if ms is None:
        fail(f"{flag} {value!r} is not a time (ISO-8601 or epoch seconds)")
    return ms


@replay_app.callback(invoke_without_command=True)
def replay(
    ctx: typer.Context,
    from_: Optional[str] = typer.Option(None, "--from", help="Start (Kafka record time, ISO-8601 or epoch s); default: beginning."),
    to: Optional[str] = typer.Option(None, "--to", help="End (exclusive, Kafka record time); default: current end."),
    topic: Optional[str] = typer.Option(None, help="Topic to replay (default: the mentions topic)."),
    into: Optional[str] = typer.Option(None, help="Replay name: isolates group, topics and files (default: a timestamp)."),
    speed: str = typer.Option("max", help="max, or Nx to pace by record timestamps (e.g. 10x)."),
    out_dir: Path = typer.Option(Path("replays"), help="Where <name>/alerts.jsonl and <name>/report.json go."),
    read_order: str = typer.Option("interleaved", help="interleaved, or sequential (one partition after the other: maximal skew)."),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Replay --from T1 --to T2 with the same core in an isolated group and state."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.console import Console
    from rich.table import Table

    from streams.replay import replay as run_replay

    settings = settings_or_exit(config)
    bootstrap_or_exit(settings)
    pace = None
    if speed != "max":
        try:
            pace = float(speed.rstrip("x"))
            if pace <= 0:
                raise ValueError
        except ValueError:
            fail("--speed is max or Nx with N > 0 (e.g. 10x)")
    name = into or time.strftime("%Y%m%dT%H%M%S")
    try:
        report = run_replay(settings, name, _time_or_exit(from_, "--from"), _time_or_exit(to, "--to"),
                            topic=topic, speed=pace, out_dir=out_dir, read_order=read_order)
    except ValueError as exc:
        fail(str(exc))
    table = Table("brand", "minutes", "mentions", "sentiment", "neg share", "alerts", title=f"replay {name}")
    for brand, r in report["brands"].items():
        table.add_row(brand, str(r["closed_minutes"]), str(r["mentions"]), str(r["mean_sentiment"]),
                      str(r["negative_share"]), str(r["alerts"]))
    console = Console()
    console.print(table)
    console.print(f"consumed {report['consumed']}, accepted {report['accepted']}, dead-lettered {report['dead_lettered']}; "
                  f"{report['lifecycle_events']} lifecycle events -> {report['alerts_topic']} and {out_dir / name / 'alerts.jsonl'}; "
                  f"{report['records_per_second']} records/s")


@replay_app.command("diff")
def replay_diff(
    a: str = typer.Argument(..., help="Alerts JSONL file, or topic:NAME (e.g. topic:buzz.alerts for live)."),
    b: str = typer.Argument(..., help="Alerts JSONL file, or topic:NAME."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the diff as JSON."),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Compare two alert sets: added, removed, earlier, later, severity changed (exit 1 if they differ)."""
    import orjson

    from buzzwatch.offline.alertdiff import diff_alerts
    from streams.alerts_io import load_alerts

    settings = settings_or_exit(config)
    try:
        ea, eb = load_alerts(a, settings), load_alerts(b, settings)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    d = diff_alerts(ea, eb)
    typer.echo(f"A: {d['a_events']} events, B: {d['b_events']} events")
    for kind in ("added", "removed"):
        for e in d[kind]:
            typer.echo(f"{kind:>8}  {e['alert_id']}  {e['event']}  {e.get('severity')}  {e['detected_at']}")
    for kind in ("earlier", "later"):
        for e in d[kind]:
            typer.echo(f"{kind:>8}  {e['alert_id']}  {e['event']}  {e['a']} -> {e['b']} ({e['delta_s']:+d}s)")
    for e in d["severity_changed"]:
        typer.echo(f"severity  {e['alert_id']}  {e['event']}  {e['a']} -> {e['b']}")
    typer.echo("identical" if d["identical"] else "different")
    if json_out:
        json_out.write_bytes(orjson.dumps(d, option=orjson.OPT_INDENT_2))
    raise typer.Exit(0 if d["identical"] else 1)


# --- state --------------------------------------------------------------------------------
state_app = typer.Typer(help="Operate on the workers' state tables.", no_args_is_help=True)
app.add_typer(state_app, name="state")


@state_app.command("rebuild")
def state_rebuild(
    new_app_id: str = typer.Option(..., "--app-id", help="New app id (new group and changelogs), e.g. buzzwatch-v2."),
    timeout: float = typer.Option(3600, help="Give up (keeping progress) after this many seconds."),
    web_port: int = typer.Option(6099, help="Metrics port of the catch-up worker."),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Rebuild the tables from the topics under a new app id, beside the live workers (runbook: docs/)."""
    from streams.rebuild import rebuild

    settings = settings_or_exit(config)
    bootstrap_or_exit(settings)
    log = settings.data_dir.parent / f"rebuild-{new_app_id}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        ok = rebuild(settings, new_app_id, timeout_s=timeout, web_port=web_port, log_path=log, echo=typer.echo)
    except ValueError as exc:
        fail(str(exc))
    if not ok:
        raise typer.Exit(1)
    typer.echo(
        f"caught up. Switch: set BUZZWATCH_APP_ID={new_app_id} on every worker and restart them (rolling);\n"
        f"they restore the rebuilt tables from the {new_app_id}-*-changelog topics and continue from the\n"
        f"offsets the catch-up worker committed. Then delete the old group and changelogs (runbook)."
    )


# --- demo ---------------------------------------------------------------------------------
@app.command()
def demo(
    seconds: Optional[float] = typer.Option(None, help="Stop after this many seconds and exit 0 (default: until Ctrl-C)."),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Local Kafka + topics + one worker + simulated EN/FR traffic, with a live per-brand summary."""
    from streams.demo import run_demo

    settings = settings_or_exit(config)
    sys.exit(run_demo(settings, seconds))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
