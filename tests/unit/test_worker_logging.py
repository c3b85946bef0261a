"""The worker's logging: debug records of Faust and aiokafka are never built when the worker
runs at a higher level (Faust's start-up spinner used to leave the root logger at DEBUG)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from buzzwatch.config import CoreConfig
from streams.settings import Settings
from streams.stop_deadline import StopGuard


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize("loglevel, debug_built", [("warn", False), ("info", False), ("debug", True)])
def test_the_root_logger_keeps_the_level_the_worker_was_started_with(tmp_path, restore_logging, loglevel, debug_built):
    from streams.worker import BuzzwatchWorker, build_worker

    core = CoreConfig.from_dict({"brands": [{"name": "Acme"}]})
    settings = Settings(core=core, bootstrap="127.0.0.1:1", app_id=f"unit-{tmp_path.name}", data_dir=Path(tmp_path),
                        partitions=1)
    parts = build_worker(settings, with_web_metrics=False)
    worker = BuzzwatchWorker(parts.app, stop_guard=StopGuard(0), loglevel=loglevel, quiet=True,
                             redirect_stdouts=False)
    worker._setup_logging()  # what the worker does first when it starts
    assert logging.getLogger("aiokafka.producer.producer").isEnabledFor(logging.DEBUG) is debug_built
    assert logging.getLogger("faust.topics").isEnabledFor(logging.DEBUG) is debug_built
    assert logging.getLogger("buzzwatch").isEnabledFor(logging.WARNING)
