"""A shutdown (SIGTERM: Faust cancels its agents) never cuts a batch in half: Faust acks the
batch in hand whatever happened to it, so a half-done batch was a committed loss."""

import asyncio

import pytest

from streams.faust_util import run_to_completion

pytestmark = pytest.mark.timeout(20)


def test_a_batch_runs_as_usual():
    done = []

    async def batch():
        await asyncio.sleep(0)
        done.append("saved")

    asyncio.run(run_to_completion(batch()))
    assert done == ["saved"]


def test_a_cancelled_agent_lets_its_batch_finish_then_stops():
    steps = []

    async def batch():
        steps.append("sent")
        await asyncio.sleep(0.05)  # the shutdown lands here, between the sends and the save
        steps.append("saved")

    async def agent():
        await run_to_completion(batch())
        steps.append("next batch")  # never: the agent is stopping

    async def main():
        task = asyncio.ensure_future(agent())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert steps == ["sent", "saved"]


def test_a_batch_that_fails_raises_its_own_error():
    async def batch():
        raise RuntimeError("broker refused")

    with pytest.raises(RuntimeError, match="broker refused"):
        asyncio.run(run_to_completion(batch()))
