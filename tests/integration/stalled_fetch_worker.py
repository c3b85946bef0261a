"""`buzzwatch worker` whose consumer never resumes its scored partitions after a rebalance: records
wait on partitions it owns and nothing of them is read, as the second-worker test saw once after
the second worker left. Run as ``python -m tests.integration.stalled_fetch_worker worker ...``
(same arguments as the real command); used by test_faults to prove the worker ends such a stall
(exit 70)."""

from __future__ import annotations

from streams import cli
from streams.faust_consumer import SafeConsumer

_resume = SafeConsumer.resume_partitions


def resume_all_but_scored(self, tps) -> None:
    _resume(self, [tp for tp in tps if not tp.topic.endswith(".mentions.scored")])


if __name__ == "__main__":  # patched only when run as the command (pytest imports this module for doctests)
    SafeConsumer.resume_partitions = resume_all_but_scored
    cli.main()
