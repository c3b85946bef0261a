"""The detector state a brand carries from minute to minute: the aggregate stage's cheaper
handling of it (one parse per batch, the term baseline left as its JSON until read, values not
re-rounded) must give exactly the bytes and assessments of a parse and a serialisation per
minute, as main does.

Specification:
- ``BrandState.detector_for_step`` is the full state, except the term baseline, which is its
  stored JSON; a state of another layout is parsed whole;
- stepping through silent and busy minutes that way stores the very bytes of the plain way,
  and gives the same assessments and events;
- a term baseline read lazily learns, reports and compares as the parsed one.
"""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from buzzwatch.detection.evidence import StoredJSON, TermBaseline
from buzzwatch.detection.step import DetectionConfig, initial_state, observe
from buzzwatch.stages.brandstore import BrandState
from buzzwatch.stages.summary import MinuteSummary, TopPost

CFG = DetectionConfig.from_dict({"warmup_minutes": 30})
T0 = 1_795_000_000_000 - 1_795_000_000_000 % 60_000


def minute(i: int) -> MinuteSummary:
    """Silent minutes, ordinary ones, then a negative surge with its words and posts."""
    start = T0 + i * 60_000
    if i % 3 == 0 and i < 120:
        return MinuteSummary("acme", start, 0)
    if i < 120:
        return MinuteSummary("acme", start, 6, negative=1, neutral=4, positive=1,
                             terms=(("order", 3), (f"word{i % 17}", 1)))
    return MinuteSummary("acme", start, 60, negative=50, neutral=10, terms=(("refund", 30), ("#acmefail", 20)),
                         top_negative=(TopPost(f"p{i}", "awful, refund me", -0.9, start + 1, author="bob",
                                               followers=900),))


def plain_run(minutes: range) -> tuple[bytes, list]:
    state, out = initial_state(), []
    for i in minutes:
        state, a, events = observe(CFG, orjson.loads(orjson.dumps(state)), minute(i))
        out.append((dataclasses.asdict(a), events))
    return orjson.dumps(state), out


@pytest.mark.parametrize("per_batch", [1, 7])
def test_stepping_through_the_brand_state_stores_the_plain_bytes(per_batch):
    want_bytes, want = plain_run(range(150))
    st, got = BrandState.new("acme", detector=initial_state()), []
    for first in range(0, 150, per_batch):
        d = st.detector_for_step()
        for i in range(first, min(first + per_batch, 150)):
            d, a, events = observe(CFG, d, minute(i))
            got.append((dataclasses.asdict(a), events))
        st.detector = d
    assert st.detector_json == want_bytes
    assert got == want
    assert any(events for _, events in got)  # the surge was alerted: evidence read the lazy terms


def test_the_term_baseline_is_left_as_its_json_and_the_rest_is_parsed():
    st = BrandState.new("acme", detector=orjson.loads(plain_run(range(40))[0]))
    d = st.detector_for_step()
    assert isinstance(d["tb"], StoredJSON)
    assert orjson.loads(d["tb"].raw) == st.detector["tb"]
    assert {k: v for k, v in d.items() if k != "tb"} == {k: v for k, v in st.detector.items() if k != "tb"}
    assert list(d) == list(st.detector)


def test_a_state_of_another_layout_is_parsed_whole():
    st = BrandState.new("acme", detector={"tb": {"c": {"x": 1.0}, "m": 2.0}, "b": {}})  # no "sk" after "tb"
    assert st.detector_for_step() == st.detector


def test_a_lazy_term_baseline_behaves_as_the_parsed_one():
    tb = TermBaseline.new().learn((("refund", 3), ("order", 9)), mentions=20)
    raw = orjson.dumps(tb.to_dict())
    lazy, parsed = TermBaseline.from_dict(StoredJSON(raw)), TermBaseline.from_dict(orjson.loads(raw))
    assert lazy.mentions == parsed.mentions and lazy.share("refund") == parsed.share("refund")
    assert lazy.learn((("refund", 1),), 5).to_dict() == parsed.learn((("refund", 1),), 5).to_dict()
    assert lazy == parsed
