"""Seven days of per-brand state for thousands of brands, without replaying seven days.

Closing a minute runs the detector, silent minutes included, so 10,000 brands x 7 days would be
100 million detector steps: hours of CPU before the memory section could even start. Instead a
few *template* brands live through 7 event-time days in the pure core (``AggregateStage`` over
an in-memory ``DictKV``, a few mentions an hour each, every minute closed), and their stored
key/values are cloned under every bench brand's name: what the worker's table holds for a
brand with a full week of history (rings, baseline, detector state, open minute and id logs).
The clones are produced to the table's changelog before the worker starts, so the worker
recovers them exactly as after a crash.
"""

from __future__ import annotations

import random

import orjson

from buzzwatch.stages.aggregate import AggregateStage
from buzzwatch.stages.brandstore import SEP, DictKV, brand_of_key, states_from_items, watermark_partition
from buzzwatch.config import CoreConfig
from buzzwatch.stages.ingest import IngestStep, RawRecord
from buzzwatch.contract.scored import Watermark
from streams.app import brand_partition

from bench_workload import Corpus, MINUTE_MS, mention

DAY_MS = 24 * 60 * MINUTE_MS
TEMPLATE_RATES_PER_HOUR = (1, 3, 12)  # quiet, usual, busy brands


def template_items(corpus: Corpus, name: str, per_hour: int, end_ms: int, *, days: int = 7,
                   lateness_s: int = 60, seed: int = 3) -> dict[bytes, bytes]:
    """The stored state of brand ``name`` after ``days`` event-time days at ``per_hour``."""
    core = CoreConfig.from_dict({"brands": [{"name": name}], "pipeline": {"allowed_lateness_s": lateness_s}})
    ingest, kv = IngestStep(core), DictKV()
    stage = AggregateStage(core, kv)
    rng = random.Random(seed)
    start = end_ms - days * DAY_MS
    for hour in range(days * 24):
        t0 = start + hour * 60 * MINUTE_MS
        times = sorted(t0 + rng.randrange(60 * MINUTE_MS) for _ in range(per_hour))
        raw = [RawRecord(0, i, end_ms, mention(rng, corpus, name, f"t{seed}-{hour}-{i}", ts)[2])
               for i, ts in enumerate(times)]
        scored = ingest.process(raw).scored
        out = stage.process([(0, s) for s in scored] + [(0, Watermark(0, 1, t0 + 60 * MINUTE_MS))])
        stage.save(out.touched)
    out = stage.process([(0, Watermark(0, 1, end_ms))])
    stage.save(out.touched)
    # the brand's keys only: the stage's aligned watermark (one key per scored partition) is not
    # the brand's, and cloned per brand it added 10,000 copies of one key to the changelog
    return {k: v for k, v in kv.data.items() if watermark_partition(k) is None}


def _rename(items: dict[bytes, bytes], old: str, new: str) -> list[tuple[bytes, bytes]]:
    o, n = old.encode(), new.encode()
    return [(n + k[len(o):] if k.split(SEP, 1)[0] == o else k, v.replace(o, n)) for k, v in items.items()]


def cloned_state(corpus: Corpus, names: list[str], end_ms: int, partitions: int,
                 lateness_s: int = 60) -> tuple[list[tuple[int, bytes, bytes]], dict]:
    """(partition, key, value) for every brand of ``names`` (templates cycled), and a summary."""
    templates = []
    for i, rate in enumerate(TEMPLATE_RATES_PER_HOUR):
        tpl = f"Zztemplate{i}"
        templates.append((tpl, template_items(corpus, tpl, rate, end_ms, lateness_s=lateness_s, seed=10 + i)))
    out = []
    for j, name in enumerate(names):
        tpl, items = templates[j % len(templates)]
        for k, v in _rename(items, tpl, name):
            out.append((brand_partition(brand_of_key(k), partitions), k, v))
    per_template = {f"{rate}/h": {"keys": len(items), "bytes": sum(len(k) + len(v) for k, v in items.items()),
                                  "index_bytes": len(items[tpl.encode()])}
                    for rate, (tpl, items) in zip(TEMPLATE_RATES_PER_HOUR, templates)}
    return out, {"templates": per_template, "values": len(out)}


def check_clone(items: list[tuple[int, bytes, bytes]], name: str) -> dict:
    """One cloned brand read back through the store: proves the clone is a valid state."""
    mine = [(k, v) for _, k, v in items if brand_of_key(k) == name.encode()]
    st = states_from_items(mine)[name]
    return {"brand": name, "closed_until_ms": st.buckets.closed_until_ms,
            "hour_rows": len(st.buckets.hours), "detector_bytes": len(orjson.dumps(st.detector))}
