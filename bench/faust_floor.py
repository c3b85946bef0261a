"""The framework's own cost: how fast Faust alone moves records through our two-stage shape.

    .venv/bin/python bench/faust_floor.py --bootstrap HOST:PORT --topic TOPIC --total N

A Faust app with the worker's consumer and producer settings (and its fetch-loop fix,
``streams.faust_consumer``, its Faust sensor and its worker class) and two agents that do no work: ``raw`` reads ``TOPIC`` in batches
of 1,000 (as the ingest agent does) and sends one record per ``--fanout`` raw records to a
second topic, plus one marker per raw partition to each of its partitions (as the ingest sends
per-brand scored records and watermark markers); ``second`` reads that topic in batches (as
the aggregate agent does). It prints one JSON line: raw records per second, from the first raw
record consumed to the last second-stage record consumed, and exits.

What it is for: the live pipeline's rate can never exceed this floor, whatever the scoring
and detection cost. ``bench/run_bench.py`` (section ``throughput``) reports it next to the
live rate, so "the pipeline is slow" splits into the framework's share and ours.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

import faust  # noqa: E402

from prometheus_client import CollectorRegistry  # noqa: E402

from streams.faust_consumer import use_safe_consumer  # noqa: E402
from streams.metrics import lean_faust_monitor  # noqa: E402
from streams.stop_deadline import StopGuard  # noqa: E402
from streams.worker import BuzzwatchWorker  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True, help="a pre-loaded topic (4 partitions)")
    ap.add_argument("--total", type=int, required=True, help="records in the topic")
    ap.add_argument("--fanout", type=float, default=2.5, help="raw records per second-stage record")
    ap.add_argument("--datadir", default="/tmp/buzzwatch-faust-floor")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    app_id = f"faust-floor-{os.getpid()}-{int(time.time())}"
    Path(args.datadir, app_id).mkdir(parents=True, exist_ok=True)
    app = faust.App(
        app_id, broker=f"kafka://{args.bootstrap}", store="memory://", datadir=f"{args.datadir}/{app_id}",
        web_enabled=False, topic_partitions=4, consumer_auto_offset_reset="earliest",
        broker_commit_every=1000, stream_buffer_maxsize=8192, producer_acks=-1,
        producer_max_batch_size=1_048_576 // 2, producer_linger_ms=20,
    )
    use_safe_consumer(app)
    app.monitor = lean_faust_monitor(CollectorRegistry())  # the worker's Faust sensor
    raw_t = dict(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    source = app.topic(args.topic, **raw_t)
    second = app.topic(f"{app_id}.second", partitions=4, internal=True, **raw_t)  # Faust creates it
    seen = {"raw": 0, "sent": 0, "second": 0, "first": None, "raw_done": False}
    marker = b'{"wm":1}'

    def done() -> None:
        seconds = time.perf_counter() - seen["first"]
        # sys.__stdout__: the Faust worker turns sys.stdout into a logger
        sys.__stdout__.write(json.dumps({"raw_records": seen["raw"], "second_stage_records": seen["second"],
                                         "seconds": round(seconds, 2),
                                         "records_per_s": round(seen["raw"] / seconds)}) + "\n")
        sys.__stdout__.flush()
        os._exit(0)

    @app.agent(source)
    async def raw(stream):
        owed = 0.0
        async for events in stream.take_events(1000, within=0.5):
            if seen["first"] is None:
                seen["first"] = time.perf_counter()
            seen["raw"] += len(events)
            owed += len(events) / args.fanout
            while owed >= 1:
                owed -= 1
                await second.send(key=b"k%d" % (seen["raw"] % 1000), value=events[0].message.value)
                seen["sent"] += 1
            for p in sorted({e.message.partition for e in events}):
                for target in range(4):
                    await second.send(value=marker, partition=target)
                    seen["sent"] += 1
            if seen["raw"] >= args.total:
                seen["raw_done"] = True

    @app.agent(second)
    async def drain(stream):
        async for events in stream.take_events(1000, within=0.5):
            seen["second"] += len(events)
            if seen["raw_done"] and seen["second"] >= seen["sent"]:  # both stages done
                done()

    # the worker's own worker class (its logging set-up: no debug records built at "warn")
    BuzzwatchWorker(app, stop_guard=StopGuard(0), loglevel=os.environ.get("FLOOR_LOGLEVEL", "warn"), quiet=True,
                    redirect_stdouts=False).execute_from_commandline()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
