"""Start a Faust worker for the given settings (what `buzzwatch worker` runs)."""

from __future__ import annotations

import faust

from streams.app import build_app
from streams.settings import Settings


def run_worker(settings: Settings, loglevel: str = "warn") -> None:
    from streams.topics import create_topics, topic_specs

    # The app's own intermediate topic must exist with the right partition count before the
    # agents start (broker auto-creation would give it one partition).
    create_topics(settings.kafka_bootstrap(), topic_specs(settings.partitions, settings.topics.as_dict(),
                                                          replication=settings.replication),
                  security=settings.kafka_security)
    app, _ = build_app(settings)
    worker = faust.Worker(app, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()
