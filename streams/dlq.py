"""The dead-letter record: the original bytes, and headers that say why and where from.

One definition for every producer of dead letters (the ingest agent, the aggregate agent, a
replay), so an operator's tooling reads one format:

==========================  =====================================================
header                      value
==========================  =====================================================
``buzzwatch.reason``        one of ``buzzwatch.contract.mention.REASONS``
``buzzwatch.detail``        a human sentence (exception class for internal_error)
``buzzwatch.stage``         ``ingest`` or ``aggregate``
``buzzwatch.topic``         the topic the record was read from
``buzzwatch.partition``     its partition
``buzzwatch.offset``        its offset
==========================  =====================================================
"""

from __future__ import annotations

HEADER_PREFIX = "buzzwatch."


def dlq_headers(*, reason: str, detail: str, topic: str, partition: int, offset: int,
                stage: str = "ingest") -> list[tuple[str, bytes]]:
    """Headers of one dead letter (reason first: what dashboards and tools group by).

    >>> [k for k, _ in dlq_headers(reason="not_json", detail="x", topic="m", partition=0, offset=7)]
    ['buzzwatch.reason', 'buzzwatch.detail', 'buzzwatch.stage', 'buzzwatch.topic', 'buzzwatch.partition', 'buzzwatch.offset']
    """
    return [
        (HEADER_PREFIX + "reason", reason.encode()),
        (HEADER_PREFIX + "detail", detail.encode("utf-8", "replace")),
        (HEADER_PREFIX + "stage", stage.encode()),
        (HEADER_PREFIX + "topic", topic.encode()),
        (HEADER_PREFIX + "partition", str(partition).encode()),
        (HEADER_PREFIX + "offset", str(offset).encode()),
    ]
