"""``buzzwatch alerts list|show|ack|note|resolve``: the on-call person's commands.

They read the alerts and acks topics directly (no worker needed) and write acknowledgements to
the compacted acks topic, where every worker (metrics, reminders, alert page) picks them up.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import orjson
import typer

from buzzwatch.timeutil import format_timestamp
from buzzwatch.oncall.book import OnCallError, open_alerts, status_of

alerts_app = typer.Typer(help="List, show, acknowledge and resolve alerts (reads/writes Kafka).", no_args_is_help=True)
ConfigOpt = typer.Option(None, "--config", "-c", help="TOML config file (default $BUZZWATCH_CONFIG or config/buzzwatch.toml).")


def _settings(config: Optional[Path]):
    from streams.cli import bootstrap_or_exit, settings_or_exit

    settings = settings_or_exit(config)
    bootstrap_or_exit(settings)
    return settings


def time_left(deadline_ms: int, now_ms: int) -> str:
    """``5h12m left`` or ``3h04m overdue``.

    >>> time_left(10 * 3_600_000, 3_600_000 + 60_000), time_left(0, 61 * 60_000)
    ('8h59m left', '1h01m overdue')
    """
    delta = deadline_ms - now_ms
    minutes = abs(delta) // 60_000
    text = f"{minutes // 60}h{minutes % 60:02d}m"
    return f"{text} left" if delta >= 0 else f"{text} overdue"


def _row(entry: dict, ack: dict | None, now_ms: int) -> dict:
    return {"alert_id": entry["alert_id"], "brand": entry["brand"], "severity": entry.get("severity"),
            "status": status_of(entry, ack), "onset": format_timestamp(entry["onset_ms"]),
            "deadline": format_timestamp(entry["deadline_ms"]), "time_left": time_left(entry["deadline_ms"], now_ms),
            "acked_by": (ack or {}).get("acked_by"), "clock": [k for k in entry["seen"] if k not in ("opened", "escalated", "resolved")]}


@alerts_app.command("list")
def alerts_list(
    all_: bool = typer.Option(False, "--all", help="Also resolved alerts."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Open alerts (oldest deadline first): brand, severity, status, time left, who acknowledged."""
    from rich.console import Console
    from rich.table import Table

    from streams.acks import read_book

    book, acks = read_book(_settings(config))
    now_ms = int(time.time() * 1000)
    entries = (sorted(({**e, "ack": acks.get(a)} for a, e in book.items()), key=lambda e: (e["deadline_ms"], e["alert_id"]))
               if all_ else open_alerts(book, acks))
    rows = [_row(e, e["ack"], now_ms) for e in entries]
    if as_json:
        for r in rows:
            typer.echo(orjson.dumps(r).decode())
        return
    if not rows:
        typer.echo("no open alerts" if not all_ else "no alerts")
        return
    table = Table("alert_id", "brand", "severity", "status", "time left", "acked by", "reminders")
    for r in rows:
        table.add_row(r["alert_id"], r["brand"], str(r["severity"]), r["status"], r["time_left"], r["acked_by"] or "-",
                      ", ".join(r["clock"]) or "-")
    Console(width=160).print(table)


@alerts_app.command("show")
def alerts_show(
    alert_id: str = typer.Argument(..., help="The alert id, e.g. 'Acme:2026-11-06T20:00:00Z'."),
    as_json: bool = typer.Option(False, "--json", help="The book entry and ack record as JSON."),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Everything about one alert: why, worst posts, terms, authors, playbook, acks and notes."""
    from streams.acks import read_book
    from streams.cli import fail

    book, acks = read_book(_settings(config))
    entry, ack = book.get(alert_id), acks.get(alert_id)
    if entry is None:
        fail(f"no alert {alert_id!r} (see `buzzwatch alerts list --all`)")
    if as_json:
        typer.echo(orjson.dumps({"entry": entry, "ack": ack}, option=orjson.OPT_INDENT_2).decode())
        return
    now_ms = int(time.time() * 1000)
    r = _row(entry, ack, now_ms)
    ev = (entry.get("last") or {}).get("evidence", {})
    lines = [f"{r['alert_id']}  [{r['severity']}]  {r['status']}",
             f"onset {r['onset']}  respond before {r['deadline']}  ({r['time_left']})",
             f"why: {ev.get('why', '-')}"]
    for p in ev.get("top_negative", [])[:5]:
        lines.append(f"  > {' '.join(str(p.get('text', '')).split())[:200]}  ({p.get('author') or '?'}, "
                     f"{int(p.get('followers') or 0):,} followers)")
    if ev.get("emerging_terms"):
        lines.append("terms: " + ", ".join(t["term"] for t in ev["emerging_terms"]))
    if ev.get("top_authors"):
        lines.append("authors: " + ", ".join(f"{a['author']} ({a['followers']:,})" for a in ev["top_authors"][:5]))
    for i, step in enumerate(ev.get("playbook", []), start=1):
        lines.append(f"  {i}. {step}")
    if ack:
        if ack.get("acked_by"):
            lines.append(f"acknowledged by {ack['acked_by']} at {format_timestamp(ack['acked_at_ms'])}")
        if ack.get("resolved_by"):
            lines.append(f"resolved by {ack['resolved_by']} at {format_timestamp(ack['resolved_at_ms'])}")
        for n in ack.get("notes", []):
            lines.append(f"  note ({n['by']}, {format_timestamp(n['at_ms'])}): {n['text']}")
    lines.append("events: " + ", ".join(entry["seen"]))
    typer.echo("\n".join(lines))


def _act(alert_id: str, action: str, by: str, note: Optional[str], config: Optional[Path]) -> None:
    from streams.acks import record_action
    from streams.cli import fail

    try:
        rec = record_action(_settings(config), alert_id, action, by, note)
    except OnCallError as exc:
        fail(str(exc))
    done = {"ack": "acknowledged", "note": "noted", "resolve": "resolved"}[action]
    typer.echo(f"{alert_id}: {done} by {by}" + (f" ({len(rec['notes'])} note(s))" if rec["notes"] else ""))


ByOpt = typer.Option(..., "--by", help="Your name (recorded with the acknowledgement).")


@alerts_app.command("ack")
def alerts_ack(alert_id: str = typer.Argument(...), by: str = ByOpt,
               note: Optional[str] = typer.Option(None, "--note", help="What you are doing about it."),
               config: Optional[Path] = ConfigOpt) -> None:
    """Acknowledge an alert: reminders stop, the page and metrics show who has it."""
    _act(alert_id, "ack", by, note, config)


@alerts_app.command("note")
def alerts_note(alert_id: str = typer.Argument(...), by: str = ByOpt,
                note: str = typer.Option(..., "--note", help="The note."), config: Optional[Path] = ConfigOpt) -> None:
    """Add a note to an alert (does not acknowledge it)."""
    _act(alert_id, "note", by, note, config)


@alerts_app.command("resolve")
def alerts_resolve(alert_id: str = typer.Argument(...),
                   by: str = typer.Option("cli", "--by", help="Your name."),
                   note: Optional[str] = typer.Option(None, "--note", help="How it was answered."),
                   config: Optional[Path] = ConfigOpt) -> None:
    """Mark an alert answered and closed by a person (ends it in Alertmanager too)."""
    _act(alert_id, "resolve", by, note, config)
