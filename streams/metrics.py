"""Every Prometheus metric Buzzwatch exports, declared once, in one registry.

Names carry unit and kind (``_total``, ``_seconds``); the only domain label is ``brand`` and
it only ever takes the names of configured brands (see ``BrandLabels``), so the series count
is bounded by the brand config, never by traffic. Pipeline labels (``reason``, ``sink``,
``window``, ``event``, ``severity``) take values from small fixed sets.

The Faust worker mounts :data:`REGISTRY` at ``/metrics`` together with Faust's own sensor
metrics (``setup_prometheus_sensors``), so one scrape gets both.
"""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

ROLLING_WINDOWS = ("5m", "1h", "24h")

# --- pipeline: ingest stage -------------------------------------------------------------
MENTIONS_CONSUMED = Counter(
    "buzzwatch_mentions_consumed_total",
    "Raw mention records consumed from the mentions topic.",
    registry=REGISTRY,
)
MENTIONS_ACCEPTED = Counter(
    "buzzwatch_mentions_accepted_total",
    "Raw mention records that passed the contract (consumed = accepted + dead_lettered).",
    registry=REGISTRY,
)
MENTIONS_DEAD_LETTERED = Counter(
    "buzzwatch_mentions_dead_lettered_total",
    "Raw mention records sent to the DLQ, by rejection reason.",
    ["reason"],
    registry=REGISTRY,
)
MENTIONS_UNMATCHED = Counter(
    "buzzwatch_mentions_unmatched_total",
    "Accepted mentions that matched no configured brand (counted, no per-brand series).",
    registry=REGISTRY,
)
MENTIONS_BY_LANG = Counter(
    "buzzwatch_mentions_scored_total",
    "Brand-matched mentions scored by the ingest stage, by language route and label.",
    ["lang", "label"],
    registry=REGISTRY,
)
PROCESSING_LATENCY = Histogram(
    "buzzwatch_processing_latency_seconds",
    "Wall-clock time from a record's Kafka timestamp to the end of its processing, by stage.",
    ["stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
    registry=REGISTRY,
)
BATCH_SIZE = Histogram(
    "buzzwatch_batch_size_records",
    "Records per batch handled by an agent.",
    ["stage"],
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000),
    registry=REGISTRY,
)

# --- pipeline: aggregate stage ----------------------------------------------------------
WATERMARK = Gauge(
    "buzzwatch_watermark_timestamp_seconds",
    "Aligned event-time watermark of the aggregate stage (min over raw partitions).",
    registry=REGISTRY,
)
EVENT_TIME_LAG = Gauge(
    "buzzwatch_event_time_lag_seconds",
    "Wall clock minus the aggregate watermark: how far behind real time the closed minutes are.",
    registry=REGISTRY,
)
LATE_MENTIONS = Counter(
    "buzzwatch_late_mentions_total",
    "Mentions that arrived after their minute had closed (kept in late counts, not in decisions).",
    ["brand"],
    registry=REGISTRY,
)
DUPLICATE_MENTIONS = Counter(
    "buzzwatch_duplicate_mentions_total",
    "Redelivered mentions ignored because their id was already counted.",
    ["brand"],
    registry=REGISTRY,
)

STAGE_ERRORS = Counter(
    "buzzwatch_stage_errors_total",
    "Records or brands a stage failed on and set aside (dead-lettered or skipped, logged), by stage.",
    ["stage"],
    registry=REGISTRY,
)
SCORED_UNREADABLE = Counter(
    "buzzwatch_scored_unreadable_total",
    "Records on mentions.scored this version could not decode (skipped, logged).",
    registry=REGISTRY,
)

# --- per brand (configured brands only) -------------------------------------------------
BRAND_MENTIONS = Counter(
    "buzzwatch_brand_mentions_total",
    "Mentions counted into a brand's closed minutes.",
    ["brand"],
    registry=REGISTRY,
)
BRAND_MENTIONS_PER_MINUTE = Gauge(
    "buzzwatch_brand_mentions_per_minute",
    "Mentions in the brand's last closed event-time minute.",
    ["brand"],
    registry=REGISTRY,
)
BRAND_SENTIMENT = Gauge(
    "buzzwatch_brand_sentiment",
    "Mean VADER compound (-1..1) of scored mentions over a rolling event-time window.",
    ["brand", "window"],
    registry=REGISTRY,
)
BRAND_NEGATIVE_SHARE = Gauge(
    "buzzwatch_brand_negative_share",
    "Share (0..1) of scored mentions labelled negative over a rolling event-time window.",
    ["brand", "window"],
    registry=REGISTRY,
)
BRAND_MENTIONS_WINDOW = Gauge(
    "buzzwatch_brand_window_mentions",
    "Mentions over a rolling event-time window.",
    ["brand", "window"],
    registry=REGISTRY,
)
BRAND_REACH = Gauge(
    "buzzwatch_brand_reach_per_minute",
    "Sum of author followers over the brand's last closed minute.",
    ["brand"],
    registry=REGISTRY,
)
BRAND_LAST_CLOSED_MINUTE = Gauge(
    "buzzwatch_brand_last_closed_minute_timestamp_seconds",
    "Event time (start) of the brand's last closed minute.",
    ["brand"],
    registry=REGISTRY,
)

# --- detection and alerting -------------------------------------------------------------
BRAND_BUZZ_SCORE = Gauge(
    "buzzwatch_brand_buzz_score",
    "Bad-buzz score of the brand's last closed minute (see README: detector).",
    ["brand"],
    registry=REGISTRY,
)
BRAND_EXPECTED_MENTIONS = Gauge(
    "buzzwatch_brand_expected_mentions_per_minute",
    "Baseline (expected) mentions per minute for the brand's last closed minute.",
    ["brand"],
    registry=REGISTRY,
)
BRAND_EXPECTED_NEGATIVE_SHARE = Gauge(
    "buzzwatch_brand_expected_negative_share",
    "Baseline (usual) negative share for the brand.",
    ["brand"],
    registry=REGISTRY,
)
BRAND_ALERT_SEVERITY = Gauge(
    "buzzwatch_brand_alert_severity",
    "Open episode severity: 0 none, 1 watch, 2 warning, 3 critical.",
    ["brand"],
    registry=REGISTRY,
)
ALERT_EVENTS = Counter(
    "buzzwatch_alert_events_total",
    "Alert lifecycle events emitted, by brand and event (opened, escalated, resolved).",
    ["brand", "event"],
    registry=REGISTRY,
)
ALERT_DELIVERIES = Counter(
    "buzzwatch_alert_deliveries_total",
    "Alert deliveries, by sink (alertmanager, webhook, teams, json; all for too_old) and outcome (ok, failed, "
    "duplicate, too_old, retried, rejected, refreshed, refresh_failed).",
    ["sink", "outcome"],
    registry=REGISTRY,
)
ALERT_DELIVERY_BACKLOG = Gauge(
    "buzzwatch_alert_delivery_backlog",
    "Lifecycle events waiting in a sink's outbox (retried forever, in order, until the receiver takes them).",
    ["sink"],
    registry=REGISTRY,
)
ALERTS_OPEN = Gauge(
    "buzzwatch_alerts_open",
    "Alerts of the brand neither resolved by the detector nor by a person.",
    ["brand"],
    registry=REGISTRY,
)
ALERTS_ACKNOWLEDGED = Gauge(
    "buzzwatch_alert_acknowledged",
    "Open alerts of the brand that a person acknowledged (buzzwatch alerts ack, or the alert page).",
    ["brand"],
    registry=REGISTRY,
)
ALERT_CLOCK_EVENTS = Counter(
    "buzzwatch_alert_clock_events_total",
    "Response-clock events read back from the alerts topic, by brand and event (reminder, deadline_missed).",
    ["brand", "event"],
    registry=REGISTRY,
)
ALERT_DELIVERY_SECONDS = Histogram(
    "buzzwatch_alert_delivery_seconds",
    "Time spent delivering one alert to a sink, retries included.",
    ["sink"],
    registry=REGISTRY,
)

EVENT_LOOP_LAG = Histogram(
    "buzzwatch_event_loop_lag_seconds",
    "How late the worker's event loop woke a 0.1 s timer: how long one step (a batch, a "
    "minute closing) held the loop that the agents, timers and /metrics share.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
LOOP_TICK_S = 0.1


async def watch_event_loop(should_stop, tick_s: float = LOOP_TICK_S) -> None:
    """Observe :data:`EVENT_LOOP_LAG` once per ``tick_s`` until ``should_stop()``: the time past
    the tick at which the loop got round to it."""
    loop = asyncio.get_running_loop()
    while not should_stop():
        started = loop.time()
        await asyncio.sleep(tick_s)
        EVENT_LOOP_LAG.observe(max(0.0, loop.time() - started - tick_s))


def lean_faust_monitor(registry: CollectorRegistry | None = None):
    """Faust's Prometheus sensor without its per-event and per-table-operation series.

    Faust calls a sensor for every event a stream reads (twice) and every table get, set and
    delete; its Prometheus sensor updates a labelled counter or histogram each time (a lock
    and a label lookup per call, ~3 % of a worker's CPU in py-spy). Nothing here reads
    ``faust_total_events``, ``faust_total_active_events``, ``faust_total_events_per_stream``,
    ``faust_events_runtime_ms`` nor ``faust_table_operations``; what the dashboards, rules and
    the commit watch do read (per-partition read, committed and end offsets, active messages,
    rebalances, commit and send latency) is kept."""
    from faust.sensors.monitor import Monitor
    from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor

    class LeanPrometheusMonitor(PrometheusMonitor):
        def on_stream_event_in(self, tp, offset, stream, event):
            return None  # no state: Faust then skips the matching "out" bookkeeping too

        def on_stream_event_out(self, tp, offset, stream, event, state=None) -> None:
            pass

        def on_table_get(self, table, key) -> None:
            pass

        def on_table_set(self, table, key, value) -> None:
            pass

        def on_table_del(self, table, key) -> None:
            pass

        # Faust looks up a partition's labelled series (a tuple, a dict and a lock each) three
        # times per record it reads; they are looked up once per partition here instead, and
        # forgotten whenever Faust removes its per-partition series (a rebalance).
        _tp_series: dict | None = None

        def _series(self, tp):
            cache = self._tp_series
            if cache is None:
                cache = self._tp_series = {}
            series = cache.get(tp)
            if series is None:
                m, topic, partition = self._metrics, tp.topic, tp.partition
                series = cache[tp] = (
                    m.messages_received_per_topics.labels(topic=topic),
                    m.messages_received_per_topics_partition.labels(topic=topic, partition=partition),
                    m.topic_partition_end_offset.labels(topic=topic, partition=partition),
                )
            return series

        def on_message_in(self, tp, offset, message) -> None:
            Monitor.on_message_in(self, tp, offset, message)  # the offsets the commit watch reads
            m = self._metrics
            m.messages_received.inc()
            m.active_messages.inc()
            received, read_offset, _ = self._series(tp)
            received.inc()
            read_offset.set(offset)

        def track_tp_end_offset(self, tp, offset) -> None:
            Monitor.track_tp_end_offset(self, tp, offset)
            self._series(tp)[2].set(offset)

        def _clear_partition_related_metrics(self) -> None:
            self._tp_series = None
            super()._clear_partition_related_metrics()

    return LeanPrometheusMonitor(metrics=FaustMetrics.create(registry or REGISTRY, "faust"))


def install_metrics_page(app) -> None:
    """Serve :data:`REGISTRY` at ``/metrics`` on the Faust web server, with Faust's own sensor
    metrics (prefixed ``faust_``: rebalances, commit latency, partition offsets) in it.

    ``/metrics?name[]=A&name[]=B`` serves only those metric families, as prometheus_client's
    own exporters do: with 10,000 brands the whole page is ~10 MB and costs the worker about a
    second of CPU to render, so a probe that wants one gauge (the bench's latency and drain
    probes, a Prometheus job with ``params``) asks for that one."""
    from aiohttp.web import Response
    from prometheus_client import CONTENT_TYPE_LATEST

    if getattr(REGISTRY, "_buzzwatch_faust_sensors", False):
        raise RuntimeError("Faust's Prometheus sensors are already installed in this process")
    app.monitor = lean_faust_monitor()
    REGISTRY._buzzwatch_faust_sensors = True  # type: ignore[attr-defined]

    @app.task
    async def event_loop_lag() -> None:
        await watch_event_loop(lambda: app.should_stop)

    @app.page("/metrics")
    async def metrics_page(self, request):
        body = await render_metrics(request.query.getall("name[]", []))
        return Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST}, status=200)


async def render_metrics(names: list[str]) -> bytes:
    """The exposition of :data:`REGISTRY` (only the families ``names``, if any), rendered in a
    thread beside the event loop, as prometheus_client's own HTTP server renders it.

    Why: with 10,000 brands the page is ~10 MB and about a second of CPU. Rendered in the
    event loop, each scrape stopped the worker's agents, timers, stall watches and every other
    request for that second. In a thread it shares the interpreter with the loop, which runs
    every few milliseconds. Each metric family is read under its own lock, so a page is as
    consistent as prometheus_client's own."""
    registry = REGISTRY.restricted_registry(names) if names else REGISTRY
    return await asyncio.to_thread(generate_latest, registry)


# --- recording helpers: the agents call these once per batch ---------------------------
_SEVERITY_NUMBER = {"watch": 1, "warning": 2, "critical": 3}


def observe_ingest(result, records, now_s: float) -> None:
    """Ingest batch: consumed/accepted/dead-lettered, labels, latency from Kafka timestamps."""
    MENTIONS_CONSUMED.inc(result.consumed)
    MENTIONS_ACCEPTED.inc(result.accepted)
    for rej in result.rejected:
        MENTIONS_DEAD_LETTERED.labels(rej.rejection.reason).inc()
    if result.unmatched:
        MENTIONS_UNMATCHED.inc(result.unmatched)
    for (lang, label), n in result.labels.items():
        MENTIONS_BY_LANG.labels(lang, label).inc(n)
    BATCH_SIZE.labels("ingest").observe(len(records))
    stamps = [r.timestamp_ms for r in records if r.timestamp_ms]
    if stamps:
        PROCESSING_LATENCY.labels("ingest").observe(max(0.0, now_s - min(stamps) / 1000))


def observe_watermark(watermark_ms: int, now_s: float) -> None:
    WATERMARK.set(watermark_ms / 1000)
    EVENT_TIME_LAG.set(max(0.0, now_s - watermark_ms / 1000))


def observe_aggregate(outcomes, configured, oldest_ts_ms, now_s: float) -> None:
    """Aggregate batch: its size, late/duplicate counts and processing latency. The closed
    minutes' figures are :func:`observe_closed`'s (called in chunks: it grows with the brands).
    Only configured brands get a label: the series count is bounded by the config."""
    BATCH_SIZE.labels("aggregate").observe(len(outcomes))
    for brand, outcome in outcomes:
        if brand not in configured:
            continue
        if outcome == "late":
            LATE_MENTIONS.labels(brand).inc()
        elif outcome == "duplicate":
            DUPLICATE_MENTIONS.labels(brand).inc()
    if oldest_ts_ms is not None:
        PROCESSING_LATENCY.labels("aggregate").observe(max(0.0, now_s - oldest_ts_ms / 1000))


def observe_closed(closed_by_brand, configured, gauges_of) -> None:
    """Per brand whose minutes closed: mentions and alert events counted, gauges set
    (``gauges_of(brand)`` gives the core's plain :class:`buzzwatch.stages.aggregate.BrandGauges`;
    the agent calls it in chunks of brands)."""
    for brand, closed in closed_by_brand.items():
        if brand not in configured:
            continue
        for cm in closed:
            BRAND_MENTIONS.labels(brand).inc(cm.summary.mentions)
            for event in cm.events:
                ALERT_EVENTS.labels(brand, event["event"]).inc()
        set_brand_gauges(brand, gauges_of(brand))


_BRAND_GAUGES = (BRAND_MENTIONS_PER_MINUTE, BRAND_REACH, BRAND_LAST_CLOSED_MINUTE, BRAND_BUZZ_SCORE,
                 BRAND_EXPECTED_MENTIONS, BRAND_EXPECTED_NEGATIVE_SHARE, BRAND_ALERT_SEVERITY)
_BRAND_WINDOW_GAUGES = (BRAND_SENTIMENT, BRAND_NEGATIVE_SHARE, BRAND_MENTIONS_WINDOW)


def set_brand_gauges(brand: str, g) -> None:
    """Show one brand's figures (``None``: nothing closed yet, nothing shown)."""
    if g is None:
        return
    BRAND_MENTIONS_PER_MINUTE.labels(brand).set(g.mentions)
    BRAND_REACH.labels(brand).set(g.reach)
    BRAND_LAST_CLOSED_MINUTE.labels(brand).set(g.last_minute_start_ms / 1000)
    BRAND_BUZZ_SCORE.labels(brand).set(g.score)
    BRAND_EXPECTED_MENTIONS.labels(brand).set(g.expected_per_min)
    BRAND_EXPECTED_NEGATIVE_SHARE.labels(brand).set(g.expected_negative_share)
    BRAND_ALERT_SEVERITY.labels(brand).set(g.severity)
    for window, r in g.windows.items():
        BRAND_SENTIMENT.labels(brand, window).set(r.sentiment)
        BRAND_NEGATIVE_SHARE.labels(brand, window).set(r.negative_share)
        BRAND_MENTIONS_WINDOW.labels(brand, window).set(r.mentions)


def forget_brand_gauges(brands) -> None:
    """Remove the gauges of brands this worker no longer owns (their partition moved to another
    worker): two workers must never export two different values for one brand. Counters stay
    (Prometheus sums them across workers)."""
    for brand in brands:
        for gauge in _BRAND_GAUGES:
            try:
                gauge.remove(brand)
            except KeyError:
                pass
        for gauge in _BRAND_WINDOW_GAUGES:
            for window in ROLLING_WINDOWS:
                try:
                    gauge.remove(brand, window)
                except KeyError:
                    pass


def scrape(url: str, timeout_s: float = 3.0) -> dict[tuple[str, tuple], float]:
    """Read a /metrics page into ``{(sample name, sorted label pairs): value}`` (demo, tests)."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(url, timeout=timeout_s) as resp:
        text = resp.read().decode("utf-8")
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out
