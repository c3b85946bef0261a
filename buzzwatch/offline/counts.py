"""Offline backtest: the same detection core as live, as plain function calls over a file.

* :func:`backtest_summaries` runs ``detection.observe`` over closed-interval summaries of one
  brand (event-time order) and returns the lifecycle events;
* counts CSV (``timestamp,value[,negative]``, e.g. NAB files): :func:`read_counts_csv` /
  :func:`backtest_counts`. Each row is one closed interval (its length is the row spacing,
  naive timestamps are UTC). Without a ``negative`` column sentiment is unknown and the
  detector runs in volume-only mode;
* mentions JSONL: the whole ingest + aggregate pipeline runs instead (``buzzwatch.offline.pipeline``,
  driven by ``streams.batch.run_backtest``): that path belongs there, not here.

>>> import io
>>> rows = list(read_counts(io.StringIO("timestamp,value\\n2015-02-26 21:42:53,12\\n2015-02-26 21:47:53,15\\n"), "acme"))
>>> [(r.mentions, r.length_ms) for r in rows]
[(12, 300000), (15, 300000)]
"""

from __future__ import annotations

from buzzwatch.errors import BuzzwatchError

import csv
from pathlib import Path
from typing import IO, Iterable, Iterator

from buzzwatch.detection.step import DetectionConfig, initial_state, observe
from buzzwatch.timeutil import parse_timestamp_ms
from buzzwatch.stages.summary import MinuteSummary


class CountsFormatError(BuzzwatchError, ValueError):
    """A row of a counts CSV that cannot be read (the message names the line)."""


def read_counts(fh: IO[str], brand: str, name: str = "<counts>") -> Iterator[MinuteSummary]:
    """Rows of ``timestamp,value[,negative]`` (header optional) as summaries; errors name the line."""
    rows: list[tuple[int, int, int | None]] = []
    reader = csv.reader(fh)
    for lineno, row in enumerate(reader, start=1):
        if not row or not "".join(row).strip():
            continue
        if lineno == 1 and parse_timestamp_ms(row[0].strip()) is None:
            continue  # header
        if len(row) < 2:
            raise CountsFormatError(f"{name}:{lineno}: expected timestamp,value[,negative], got {row!r}")
        ts = parse_timestamp_ms(row[0].strip())
        if ts is None:
            raise CountsFormatError(f"{name}:{lineno}: unreadable timestamp {row[0]!r}")
        try:
            value = int(float(row[1]))
            negative = int(float(row[2])) if len(row) > 2 and row[2].strip() else None
        except ValueError as exc:
            raise CountsFormatError(f"{name}:{lineno}: {exc}") from exc
        if value < 0 or (negative is not None and not 0 <= negative <= value):
            raise CountsFormatError(f"{name}:{lineno}: counts must be 0 <= negative <= value")
        if rows and ts <= rows[-1][0]:
            raise CountsFormatError(f"{name}:{lineno}: timestamps must increase")
        rows.append((ts, value, negative))
    if len(rows) >= 2:
        spacing = min(b[0] - a[0] for a, b in zip(rows, rows[1:]))
    else:
        spacing = 60_000
    for ts, value, negative in rows:
        if negative is None:
            yield MinuteSummary(brand=brand, start_ms=ts, mentions=value, length_ms=spacing)
        else:
            yield MinuteSummary(brand=brand, start_ms=ts, mentions=value, negative=negative,
                                neutral=value - negative, length_ms=spacing)


def read_counts_csv(path: str | Path, brand: str) -> Iterator[MinuteSummary]:
    """The rows of a counts CSV file as summaries (errors name the file and line)."""
    with open(path, newline="", encoding="utf-8") as fh:
        yield from read_counts(fh, brand, str(path))


def backtest_summaries(config: DetectionConfig, summaries: Iterable[MinuteSummary]) -> list[dict]:
    state = initial_state()
    events: list[dict] = []
    for s in summaries:
        state, _, new = observe(config, state, s)
        events.extend(new)
    return events


def backtest_counts(config: DetectionConfig, path: str | Path, brand: str) -> list[dict]:
    return backtest_summaries(config, read_counts_csv(path, brand))
