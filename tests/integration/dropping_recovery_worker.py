"""`buzzwatch worker` whose fetch loop loses the first pass of each changelog partition: every
record is fetched and marked read, none reaches the table recovery, as the recovery stall's dumps
showed (aiokafka's position at the end of the log, nothing applied). Records fetched again
after a seek of their partition go through. Run as
``python -m tests.integration.dropping_recovery_worker worker ...`` (same arguments as the real
command); used by test_faults to prove the recovery watch reads them again instead of exiting."""

from __future__ import annotations

from streams import cli
from streams.faust_consumer import SafeConsumer

_hand_over = SafeConsumer._hand_over
_first_pass: dict = {}  # changelog partition -> its seek count when its first record came


async def drop_the_first_pass_of_changelogs(self, callback, message) -> bool:
    tp = message.tp
    if tp.topic.endswith("-changelog"):
        seeks = (self._sought or {}).get(tp, 0)
        if _first_pass.setdefault(tp, seeks) == seeks:
            return True  # "handed over": it never reaches the recovery
    return await _hand_over(self, callback, message)


SafeConsumer._hand_over = drop_the_first_pass_of_changelogs

if __name__ == "__main__":
    cli.main()
