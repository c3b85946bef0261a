"""`buzzwatch worker` whose first start makes Faust clear raw mentions that were handed over and
not processed yet: its first recovery lets records flow after its seek to the committed offsets
(as a recovery with changelogs to read does while it reads them), the ingest agent's first batch
waits until that recovery has resumed the flow, and the recovery resumes it only once raw
mentions (``QUEUED``) wait in the agent's queue. Resuming
the flow clears the streams' queues (``FlowControlEvent.resume``), and aiokafka's seek to the
committed offsets leaves a partition this group never committed where the fetches got. The
memory bench's first starts hit this by chance (6 of 7 runs lost one mention: the raw backlog
was fetched while the table recovery read 10,000 brands). Run as
``python -m tests.integration.queue_clearing_worker worker ...`` (same arguments as the real
command); used by test_faults to prove no mention is lost and no restart is needed."""

from __future__ import annotations

import asyncio
import logging

import agents.ingest
from streams import cli
from streams.faust_consumer import SafeConsumer, queued_messages

log = logging.getLogger(__name__)
_run_to_completion = agents.ingest.run_to_completion
_perform_seek = SafeConsumer.perform_seek
_flow_resumed = asyncio.Event()
WAIT_S = 30.0  # bound on each wait: the test fails on totals, never hangs here
QUEUED = 50  # raw mentions waiting in the queues when the flow resumes (the backlog has thousands)


async def first_batch_after_the_flow_resumed(coro):
    if not _flow_resumed.is_set():
        try:
            await asyncio.wait_for(_flow_resumed.wait(), WAIT_S)
        except asyncio.TimeoutError:
            log.warning("queue clearing worker: the flow never resumed within %s s", WAIT_S)
    return await _run_to_completion(coro)


def raw_mentions_queued(app) -> int:
    """Raw mentions waiting in the queues that resuming the flow clears."""
    return sum(1 for m in queued_messages(app.flow_control) if m.topic.endswith(".mentions"))


async def perform_seek_then_wait_for_queued_mentions(self) -> None:
    await _perform_seek(self)
    assigned = self.assignment()
    if _flow_resumed.is_set() or not any(tp.topic.endswith(".mentions") for tp in assigned):
        return
    # A recovery with changelogs to read resumes the flow while it reads them (Faust's
    # Recovery._restart_recovery), and the raw partitions' records flow meanwhile: do the same
    self.app.flow_control.resume()
    self.resume_flow()
    await self.app._fetcher.maybe_start()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while raw_mentions_queued(self.app) < QUEUED and loop.time() < deadline:
        await asyncio.sleep(0.01)
    log.warning("queue clearing worker: %d raw mentions wait in the queues as the recovery resumes the flow",
                raw_mentions_queued(self.app))
    loop.call_soon(_flow_resumed.set)  # after the recovery's resume (synchronous after this seek)


def install() -> None:
    """Patch the worker (only when run as the command: pytest's ``--doctest-modules`` imports this
    module into the test process, where the held first batch made a unit test of the ingest
    agent wait for ever)."""
    agents.ingest.run_to_completion = first_batch_after_the_flow_resumed
    SafeConsumer.perform_seek = perform_seek_then_wait_for_queued_mentions


if __name__ == "__main__":
    install()
    cli.main()
