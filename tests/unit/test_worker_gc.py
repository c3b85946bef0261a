"""A worker holding thousands of brands collects garbage less often (streams.worker.tune_gc)."""

from __future__ import annotations

import gc

from streams.worker import GC_THRESHOLDS, tune_gc


def test_the_worker_freezes_its_start_up_objects_and_collects_the_young_less_often():
    before = gc.get_threshold()
    try:
        tune_gc()
        assert gc.get_threshold() == GC_THRESHOLDS and GC_THRESHOLDS[0] > before[0]
        assert gc.get_freeze_count() > 0  # what exists at start-up is never walked again
        assert gc.isenabled()  # cycles are still collected
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
