"""One stable 64-bit hash for the whole core (ids, authors, text fingerprints, sketches).

Python's ``hash`` is salted per process; these must be equal on every worker, in a replay and
in a backtest, so they are blake2b digests.

>>> hash64("acme") == hash64("acme"), hash64("acme") < 2**64, hash63("acme") < 2**63
(True, True, True)
"""

from __future__ import annotations

from hashlib import blake2b


def hash64(text: str) -> int:
    return int.from_bytes(blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def hash63(text: str) -> int:
    """63 bits: fits a signed 64-bit integer (JSON readers, Kafka tools)."""
    return hash64(text) >> 1
