"""The one root of Buzzwatch's own exceptions, so a caller (the CLI, a test, an embedding app)
can tell "Buzzwatch refused this, with a reason" from a bug with one ``except``.

Each concern raises its own subclass, next to the code that raises it:
``buzzwatch.config.ConfigError`` (a wrong, missing or unknown setting),
``buzzwatch.contract.scored.WireError`` (a record between the stages this version cannot read),
``buzzwatch.stages.brandstore.StateError`` (stored state this version cannot read, or too large),
``buzzwatch.offline.counts.CountsFormatError`` (a counts file that is not one),
``buzzwatch.oncall.book.OnCallError`` (an on-call setting or action that makes no sense).
They also subclass ``ValueError``: bad input, not a broken program.
"""

from __future__ import annotations


class BuzzwatchError(Exception):
    """Something Buzzwatch refused, with a message that says what and where."""
