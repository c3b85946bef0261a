"""The composition root of a worker: the app and its parts (``streams.app``), the agents
(``agents``) each wired with what it uses, the rebalance hooks and the metrics page. What
`buzzwatch worker` runs, and what the agent tests build."""

from __future__ import annotations

import faust

import agents.aggregate
import agents.ingest
import agents.notify
from streams import commit_watch, fetch_watch, recovery_watch, state_dump
from streams import metrics as M
from streams.app import WorkerParts, build_app
from streams.settings import Settings
from streams.stop_deadline import GuardedWorker, StopGuard


def build_worker(settings: Settings, *, with_web_metrics: bool = True) -> WorkerParts:
    parts = build_app(settings)
    app, topics = parts.app, parts.topics
    parts.ingest_agent = agents.ingest.register(app, source=topics.mentions, scored=topics.scored, dlq=topics.dlq,
                                        step=parts.ingest, settings=settings)
    agents.aggregate.register(app, source=topics.scored, alerts=topics.alerts, dlq=topics.dlq,
                              stage=parts.aggregate, settings=settings)
    from buzzwatch.stages.brandstore import BrandStore
    from streams import alert_page
    from streams.app import TableKV

    store = BrandStore(TableKV(parts.states))  # read-only use: the pages never cache nor write

    def brand_state(brand: str):
        return parts.aggregate.cache.get(brand) or store.load(brand)

    deps = agents.notify.NotifyDeps(app=app, settings=settings, alerts=topics.alerts, delivered=parts.delivered,
                                    aggregator=parts.aggregate, brand_state=brand_state)
    parts.oncall = agents.notify.register(deps)
    alert_page.register(deps)  # /alerts pages on the worker's web server (needs notify's tables)
    configured = set(settings.core.brand_names)

    @app.on_partitions_revoked.connect
    async def _on_revoked(app, revoked, **kwargs) -> None:  # noqa: ARG001
        # Another worker may own these now. Brands: re-read from the table if they come back,
        # and stop exporting their gauges (the new owner exports them). Raw partitions: forget
        # their event-time clocks (a new owner starts again from the last commit).
        scored = {tp.partition for tp in revoked if tp.topic == topics.scored.get_topic_name()}
        parts.aggregate.forget(scored)
        M.forget_brand_gauges([b for b in configured if parts.aggregate.partition_of(b) in scored])
        raw = {tp.partition for tp in revoked if tp.topic == topics.mentions.get_topic_name()}
        parts.ingest.clock.forget(raw)
        parts.ingest_agent.forget(raw)

    # Crash-only recovery from a consumer that dropped records after a rebalance (see the module)
    commit_watch.register(app, topics=[topics.mentions, topics.scored, topics.alerts], after_s=settings.stall_exit_s)
    # ... and from a table recovery that stopped reading its changelogs (see the module)
    recovery_watch.register(app, after_s=settings.stall_exit_s)
    # ... and from a partition whose records wait while nothing is read or committed (see the module)
    fetch_watch.register(app, topics=[topics.mentions, topics.scored, topics.alerts], after_s=settings.stall_exit_s)
    if with_web_metrics:
        M.install_metrics_page(app)
    state_dump.add(app, "ingest", parts.ingest_agent.describe)
    state_dump.add(app, "aggregate watermarks", lambda: "; ".join(
        f"scored {p}: raw clocks {dict(sorted(w.by_partition.items()))} idle {sorted(w.idle)} of {w.raw_partitions} "
        f"-> {w.get()}" for p, w in sorted(parts.aggregate.watermarks.items())) or "none yet")
    return parts


class BuzzwatchWorker(GuardedWorker, faust.Worker):
    """A Faust worker whose stop is bounded by ``[worker] stop_timeout_s`` (streams.stop_deadline),
    and whose root logger stays at the level asked for.

    Faust's start-up spinner sets the *root logger* to DEBUG (its handler spins once per log
    record) and never sets it back: every ``log.debug`` of Faust and aiokafka, several per
    record sent, then built a ``LogRecord`` that the WARN handler threw away (about 5 % of a
    worker's CPU in py-spy). A service has no terminal to spin on: no spinner."""

    def on_setup_root_logger(self, logger, level: int) -> None:
        self.spinner = None
        super().on_setup_root_logger(logger, level)

    def install_signal_handlers(self) -> None:
        super().install_signal_handlers()
        state_dump.install(self.loop, self.app)  # kill -USR1: log what the worker is doing


GC_THRESHOLDS = (10_000, 10, 10)  # CPython's default: (700, 10, 10)


def tune_gc() -> None:
    """Collect garbage less often in a worker whose heap holds thousands of brands.

    Why: with 10,000 brands the heap grows by millions of small objects (each loaded brand's
    rings and sketches) and CPython runs a full collection, which walks the whole heap, every
    time it grows by a quarter: reading 10,000 brands' state took 1.81 s of CPU and 7 full
    collections, and 0.95 s and none with these settings (``bench/aggregate_cpu.py --workload
    load``; a young generation of 10,000 objects instead of 700 alone: 1.15 s, 1). Frozen: the
    modules, lexicons and Faust's services, which live as long as the process and never need
    walking. Cycles are still collected (the older generations still run)."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def prepare_topics(settings: Settings) -> None:
    """Create the topics a worker needs and check the partition counts of those that existed,
    waiting ``broker_wait_s`` for a broker that is down (``streams.broker_wait``); raises
    ``streams.topics.TopicLayoutError`` naming every topic whose count would make the worker go
    wrong (see ``layout_problems``)."""
    from streams.broker_wait import waiting_for_broker
    from streams.topics import check_layout, create_topics, topic_specs, worker_layout

    # The app's own intermediate topic must exist with the right partition count before the
    # agents start (broker auto-creation would give it one partition).
    specs = topic_specs(settings.partitions, settings.topics.as_dict(), replication=settings.replication)
    wanted = worker_layout(settings)

    def create_and_check() -> None:
        create_topics(settings.kafka_bootstrap(), specs, security=settings.kafka_security)
        check_layout(settings.kafka_bootstrap(), wanted, security=settings.kafka_security)

    waiting_for_broker(create_and_check, what="worker start-up: topics", wait_s=settings.broker_wait_s)


def run_worker(settings: Settings, loglevel: str = "warn") -> None:
    """Run a worker until it is stopped (topics prepared by :func:`prepare_topics` first)."""
    parts = build_worker(settings)
    worker = BuzzwatchWorker(parts.app, stop_guard=StopGuard(settings.stop_timeout_s), loglevel=loglevel, quiet=True,
                             redirect_stdouts=False)
    tune_gc()
    worker.execute_from_commandline()
