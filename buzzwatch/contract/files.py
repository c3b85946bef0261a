"""Reading mention archives: JSONL or CSV, gzipped or not, or standard input, with line numbers.

Operators load exports from other tools; every line either becomes a contract-checked mention
or a reported rejection with its line number — never silently skipped. CSV columns use the
contract's names; nested fields are flattened with dots (``author.followers``) or underscores
(``author_followers``); empty cells are absent values.

>>> import io
>>> rows = list(iter_lines_from(io.BytesIO(b'id,text,created_at,author.followers\\n1,hi,1424986973,12\\n'), "x.csv"))
>>> rows[0][0], rows[0][1]["author"]
(2, {'followers': 12})
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from pathlib import Path
from typing import IO, Iterator

import orjson

_NESTED = {"author": ("id", "name", "followers", "verified"), "engagement": ("likes", "shares", "replies")}
_INTS = {"followers", "likes", "shares", "replies"}


class CountingReader(io.RawIOBase):
    """Counts the bytes read from the underlying file (of the compressed file for .gz), so a
    progress bar can show an ETA over the file size."""

    def __init__(self, fh: IO[bytes]):
        self.fh = fh
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.fh.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.bytes_read += n
        return n

    def close(self) -> None:
        self.fh.close()
        super().close()


def open_input(path: str, raw: IO[bytes] | None = None) -> IO[bytes]:
    """Binary stream for a path, ``-`` (stdin) or a ``.gz`` file (detected by magic bytes)."""
    if raw is None:
        raw = sys.stdin.buffer if path == "-" else Path(path).open("rb")
    buffered = io.BufferedReader(raw) if not isinstance(raw, io.BufferedReader) else raw
    if buffered.peek(2)[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=buffered)  # type: ignore[return-value]
    return buffered


def _csv_row_to_obj(row: dict[str, str]) -> dict:
    obj: dict = {}
    for col, value in row.items():
        if col is None or value is None or value == "":
            continue
        col = col.strip()
        for parent, children in _NESTED.items():
            for child in children:
                if col in (f"{parent}.{child}", f"{parent}_{child}"):
                    if child in _INTS:
                        try:
                            value = int(float(value))
                        except ValueError:
                            pass
                    elif child == "verified":
                        value = value.strip().lower() in ("1", "true", "yes")
                    obj.setdefault(parent, {})[child] = value
                    break
            else:
                continue
            break
        else:
            obj[col] = value
    return obj


def iter_lines_from(stream: IO[bytes], name: str) -> Iterator[tuple[int, dict | None, bytes, str | None]]:
    """Yield ``(line_number, object_or_None, raw_bytes, error)`` for each record of the stream."""
    is_csv = name.removesuffix(".gz").lower().endswith(".csv")
    if is_csv:
        text = io.TextIOWrapper(stream, encoding="utf-8", errors="strict", newline="")
        reader = csv.DictReader(text)
        try:
            for row in reader:
                obj = _csv_row_to_obj(row)
                yield reader.line_num, obj, orjson.dumps(obj), None
        except (UnicodeDecodeError, csv.Error) as exc:
            yield reader.line_num + 1, None, b"", f"unreadable CSV: {exc}"
        return
    for lineno, raw in enumerate(stream, start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield lineno, None, line, f"invalid JSON: {exc}"
            continue
        yield lineno, obj, line, None


def iter_records(path: str, raw: IO[bytes] | None = None) -> Iterator[tuple[int, dict | None, bytes, str | None]]:
    with open_input(path, raw) as stream:
        yield from iter_lines_from(stream, path)
