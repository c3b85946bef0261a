"""File-based commands: `buzzwatch sentiment` and `buzzwatch backtest` (the same core, no Kafka)."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson

from buzzwatch.text.analyze import MentionAnalyzer
from buzzwatch.config import CoreConfig
from buzzwatch.contract.files import iter_records
from buzzwatch.contract.mention import Rejection, validate_mention


def _open_out(out: str):
    return sys.stdout.buffer if out == "-" else open(out, "wb")


def score_file(core: CoreConfig, input: str, out: str) -> tuple[int, int]:
    """One JSON line per input mention: id, lang, compound, label (+ brands, and ``from_brand``:
    the brands whose own account wrote it). Lines that break
    the contract are reported on stderr with their line number and written as
    ``{"line": N, "error": reason}`` so the output stays aligned with the input."""
    analyzer = MentionAnalyzer(core)
    n = bad = 0
    fh = _open_out(out)
    try:
        for lineno, obj, _raw, error in iter_records(input):
            verdict = Rejection("not_json", error) if error else validate_mention(obj)
            if isinstance(verdict, Rejection):
                bad += 1
                print(f"{input}:{lineno}: {verdict.reason}: {verdict.detail}", file=sys.stderr)
                fh.write(orjson.dumps({"line": lineno, "error": verdict.reason, "detail": verdict.detail}) + b"\n")
                continue
            a = analyzer.analyze(verdict)
            s = a.sentiment
            fh.write(orjson.dumps({"id": verdict.id, "lang": s.lang, "compound": round(s.compound, 4),
                                   "label": s.label, "brands": list(a.brands),
                                   "from_brand": list(a.from_brands)}) + b"\n")
            n += 1
    finally:
        if fh is not sys.stdout.buffer:
            fh.close()
    return n, bad


def run_backtest(core: CoreConfig, input: str, out: Path, format: str, brand: str | None,
                 clock: bool = False) -> list[dict]:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    if format == "counts":
        from buzzwatch.offline.counts import backtest_counts

        from buzzwatch.offline.counts import read_counts_csv

        events = backtest_counts(core.detection(), input, brand)
        consumed = None
        until_ms = max((s.start_ms + s.length_ms for s in read_counts_csv(input, brand)), default=None)
    else:
        from buzzwatch.offline.pipeline import run_offline

        def values():
            for lineno, obj, raw, error in iter_records(input):
                yield raw  # unreadable lines too: the contract rejects them and they are counted

        run = run_offline(core, values())
        events = run.events
        consumed = run
        wm = run.stage.watermark(0)
        until_ms = wm - run.stage.lateness_ms if wm is not None else None
    if clock and until_ms is not None:
        from buzzwatch.oncall.deadline import replay_clock

        # the response clock over the closed minutes, as the workers run it (no acks offline)
        events = replay_clock(events, {}, core.oncall, [until_ms])
    with open(out, "wb") as fh:
        for e in events:
            fh.write(orjson.dumps(e) + b"\n")
    table = Table("alert_id", "event", "severity", "detected_at", "score", title=f"{len(events)} lifecycle events -> {out}")
    for e in events:
        table.add_row(e["alert_id"], e["event"] + (f" {e['after_hours']:g}h" if e.get("after_hours") else ""),
                      e["severity"], e["detected_at"], f"{e.get('score') or 0:.2f}")
    console.print(table)
    if consumed is not None:
        reasons: dict[str, int] = {}
        for r in consumed.rejected:
            reasons[r.rejection.reason] = reasons.get(r.rejection.reason, 0) + 1
        console.print(f"mentions read {consumed.consumed}, accepted {consumed.accepted}, rejected {len(consumed.rejected)} {reasons or ''}; "
                      f"bucket outcomes {consumed.outcomes}")
    return events
