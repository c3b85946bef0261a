"""Producing mentions: from the simulator, or from archive files with validation and progress.

Records are keyed by brand when the mention names one (else by id): that spreads a hot brand's
raw mentions over one partition only when upstream says so, and keeps ids stable for idempotent
re-ingestion (the aggregate stage deduplicates by id).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import orjson
from kafka import KafkaProducer

from buzzwatch.config import CoreConfig
from buzzwatch.contract.files import CountingReader, iter_records
from buzzwatch.contract.mention import Rejection, validate_mention
from streams.kafka_security import KafkaSecurity


def make_producer(bootstrap: str, security: KafkaSecurity | None = None) -> KafkaProducer:
    """A producer with the process's TLS/SASL settings (``security``; None: PLAINTEXT)."""
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        **(security or KafkaSecurity()).kafka_python_kwargs(),
        acks="all",
        linger_ms=20,
        batch_size=256 * 1024,
        compression_type=None,
        max_request_size=4 * 1024 * 1024,
    )


def _key(obj: dict) -> bytes:
    brand = obj.get("brand")
    return str(brand if isinstance(brand, str) and brand else obj.get("id", "")).encode("utf-8")


def produce_mentions(bootstrap: str, topic: str, mentions: Iterable[dict], security: KafkaSecurity | None = None) -> int:
    producer = make_producer(bootstrap, security)
    n = 0
    try:
        for m in mentions:
            producer.send(topic, key=_key(m), value=orjson.dumps(m))
            n += 1
        producer.flush()
    finally:
        producer.close()
    return n


@dataclass
class IngestReport:
    read: int = 0
    produced: int = 0
    rejected: int = 0


class _Throttle:
    def __init__(self, rate: float | None):
        self.rate = rate
        self.started = time.monotonic()

    def wait(self, n: int) -> None:
        if not self.rate:
            return
        ahead = n / self.rate - (time.monotonic() - self.started)
        if ahead > 0:
            time.sleep(ahead)


def ingest_files(
    bootstrap: str,
    topic: str,
    paths: list[str],
    rejects_path: Path,
    core: CoreConfig,
    *,
    rate: float | None = None,
    progress: bool = True,
    security: KafkaSecurity | None = None,
) -> IngestReport:
    """Validate every record with the contract; good ones are produced, bad ones written to
    ``rejects_path`` as JSON lines ``{file, line, reason, detail, raw}``."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    report = IngestReport()
    throttle = _Throttle(rate)
    producer = make_producer(bootstrap, security)
    pipeline = core.pipeline
    rejects = None
    now_ms = int(time.time() * 1000)
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[records]:,} records"),
               TextColumn("{task.fields[rate]:,.0f}/s"), TimeRemainingColumn())
    try:
        with Progress(*columns, disable=not progress, transient=False) as bar:
            for path in paths:
                if path != "-" and not Path(path).is_file():
                    raise FileNotFoundError(f"no such file: {path}")
                size = Path(path).stat().st_size if path != "-" else None
                counter = CountingReader(Path(path).open("rb")) if path != "-" else None
                task = bar.add_task(Path(path).name if path != "-" else "stdin", total=size, rate=0.0, records=0)
                t0 = time.monotonic()
                n_file = 0
                for lineno, obj, raw, error in iter_records(path, counter):
                    n_file += 1
                    report.read += 1
                    verdict = (
                        Rejection("not_json", error) if error
                        else validate_mention(obj, reference_ms=now_ms, max_text_chars=pipeline.max_text_chars,
                                              max_future_ms=pipeline.max_future_ms)
                    )
                    if isinstance(verdict, Rejection):
                        report.rejected += 1
                        if rejects is None:
                            rejects = rejects_path.open("ab")
                        rejects.write(orjson.dumps({
                            "file": path, "line": lineno, "reason": verdict.reason, "detail": verdict.detail,
                            "raw": raw.decode("utf-8", "replace"),
                        }) + b"\n")
                    else:
                        producer.send(topic, key=_key(obj), value=raw)
                        report.produced += 1
                        throttle.wait(report.produced)
                    if n_file % 500 == 0:
                        elapsed = max(time.monotonic() - t0, 1e-6)
                        bar.update(task, completed=counter.bytes_read if counter else n_file, records=n_file,
                                   rate=n_file / elapsed)
                bar.update(task, completed=size if size is not None else n_file, total=size if size is not None else n_file,
                           records=n_file, rate=n_file / max(time.monotonic() - t0, 1e-6))
        producer.flush()
    finally:
        producer.close()
        if rejects is not None:
            rejects.close()
    return report
