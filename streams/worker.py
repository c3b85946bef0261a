"""Start a Faust worker for the given settings (what `buzzwatch worker` runs)."""

from __future__ import annotations

import faust

from streams.app import build_app
from streams.settings import Settings


def run_worker(settings: Settings, loglevel: str = "warn") -> None:
    app, _ = build_app(settings)
    worker = faust.Worker(app, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()
