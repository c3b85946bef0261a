"""What a worker logs about itself: on ``kill -USR1`` and before a stall rule's exit
(streams.state_dump); the real worker's dump is checked in tests/integration/test_faults.py."""

import asyncio
from types import SimpleNamespace

from streams.state_dump import add, log_state


class App:  # a Faust app as far as the dump goes: a log, and nothing else readable
    def __init__(self, warning):
        self.log = SimpleNamespace(warning=warning)


def test_the_state_is_logged_before_a_stall_exit_with_every_part_that_could_be_read():
    records = []
    app = App(lambda msg, *args: records.append(msg % args))
    add(app, "ingest", lambda: "raw 0: published=60000")
    add(app, "aggregate watermarks", lambda: 1 / 0)

    async def main():
        log_state(app, "raw partition 0 stalled")

    asyncio.run(main())
    text = records[0]
    assert text.startswith("state at the exit (raw partition 0 stalled):")
    assert "(state not readable" in text  # no consumer here: said, not raised
    assert "ingest: raw 0: published=60000" in text
    assert "aggregate watermarks: (not readable: ZeroDivisionError" in text
    assert "tasks:" in text and "main (test_state_dump.py" in text


def test_a_dump_that_fails_never_stops_the_exit():
    app = App(lambda *args: 1 / 0)
    log_state(app, "commits stopped")  # no running loop and a broken log: nothing raised
