"""`buzzwatch worker` whose consumer never resumes its changelog partitions: a table recovery
that has records to read and never reads them, as CI saw once after a second worker joined.
Run as ``python -m tests.integration.stalled_recovery_worker worker ...`` (same arguments as the
real command); used by test_faults to prove the worker ends such a recovery (exit 70)."""

from __future__ import annotations

from streams import cli
from streams.faust_consumer import SafeConsumer

_resume = SafeConsumer.resume_partitions


def resume_all_but_changelogs(self, tps) -> None:
    _resume(self, [tp for tp in tps if not tp.topic.endswith("-changelog")])


if __name__ == "__main__":  # patched only when run as the command (pytest imports this module for doctests)
    SafeConsumer.resume_partitions = resume_all_but_changelogs
    cli.main()
