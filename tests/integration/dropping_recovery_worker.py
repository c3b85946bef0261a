"""`buzzwatch worker` whose fetch loop loses the first pass of each changelog partition: every
record is fetched and marked read, none reaches the table recovery, as the recovery stall's dumps
showed (aiokafka's position at the end of the log, nothing applied). Records fetched again
after a seek of their partition go through. Run as
``python -m tests.integration.dropping_recovery_worker worker ...`` (same arguments as the real
command); used by test_faults to prove the recovery watch reads them again instead of exiting."""

from __future__ import annotations

from streams import cli
from streams.faust_consumer import SafeConsumer

_init = SafeConsumer.__init__
_first_pass: dict = {}  # changelog partition -> its seek count when its first record came


def __init__(self, *args, **kwargs) -> None:
    _init(self, *args, **kwargs)
    deliver = self.callback  # the conductor's hand-over, which the fetch loop calls per record

    async def losing_the_first_pass_of_changelogs(message):
        tp = message.tp
        if tp.topic.endswith("-changelog"):
            seeks = (self._sought or {}).get(tp, 0)
            if _first_pass.setdefault(tp, seeks) == seeks:
                return None  # "handed over": it never reaches the recovery
        return await deliver(message)

    self.callback = losing_the_first_pass_of_changelogs


if __name__ == "__main__":  # patched only when run as the command (pytest imports this module for doctests)
    SafeConsumer.__init__ = __init__
    cli.main()
