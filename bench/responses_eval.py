"""The brand's own replies through the whole offline pipeline: counted as responses, never as
complaints, and they mark an open alert as answered (issue 11).

    nice .venv/bin/python bench/responses_eval.py [--seeds 1,2,3,4] [--hours 6]

Raw mentions (``buzzwatch.offline.simulate.generate_mentions``, ~10 a minute, EN/FR) go through
ingest -> buckets -> detector -> lifecycle (``run_offline``) with and without the posts of the
brand's care account ``@AcmeCare`` (``own_handles``), in two cases per seed:

* ``apology wave``: after the warm-up, the care account posts 10 apologies a minute for 15
  minutes ("Acme here: we're so sorry for the outage, this is unacceptable..."): negative
  wording naming the brand, as many posts as the brand's whole usual traffic. Target: no
  alert, the same detector events as without the replies, every reply counted as a response
  and none as a mention, no spam report. The control (the same run without ``own_handles``)
  says what the replies would have looked like as mentions (one account posting 10 a minute:
  a troll flood to ``spam.py``);
* ``answered bad buzz``: a real bad buzz (ramp 10 min, 8x, 80 % negative) that the care
  account starts answering 15 minutes after onset, one reply a minute. Target: the same
  opened/escalated/resolved events as without the replies, and one ``responded`` event naming
  the care account, after ``opened``, at the first reply made while the alert was open.

Nothing here is tuned: the seeds are only repeats.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from buzzwatch.config import CoreConfig  # noqa: E402
from buzzwatch.offline.pipeline import run_offline  # noqa: E402
from buzzwatch.offline.simulate import generate_mentions  # noqa: E402
from buzzwatch.timeutil import format_timestamp, parse_timestamp_ms  # noqa: E402

START_MS = 1_793_491_200_000 + 6 * 3_600_000  # 2026-11-01T06:00Z
MINUTE_MS = 60_000
CARE = "AcmeCare"
WARMUP_MIN = 120
EVENT_MIN = 200
APOLOGIES = ("Acme here: we're so sorry for the outage, this is unacceptable and we apologise.",
             "Sorry, the Acme delay is our fault, we are terribly sorry. Please DM us.",
             "Acme: nous sommes désolés pour la panne, c'est inacceptable.")


def config(own: bool = True) -> CoreConfig:
    brand = {"name": "Acme", "own_handles": [f"@{CARE}"]} if own else {"name": "Acme"}
    return CoreConfig.from_dict({"brands": [brand],
                                 "pipeline": {"allowed_lateness_s": 60},
                                 "detector": {"warmup_minutes": WARMUP_MIN}})


def reply(i: int, minute: int, second: int) -> dict:
    return {"id": f"care{minute}-{i}", "text": f"@user{i} {APOLOGIES[i % len(APOLOGIES)]}",
            "created_at": format_timestamp(START_MS + minute * MINUTE_MS + second * 1000),
            "lang": "fr" if i % len(APOLOGIES) == 2 else "en",
            "url": f"https://social.example/acmecare/{minute}-{i}",
            "author": {"id": "care-1", "name": CARE, "followers": 80_000}}


def _at(m: dict) -> int:
    c = m["created_at"]
    return c * 1000 if isinstance(c, int) else parse_timestamp_ms(c)


def run(posts: list[dict], own: bool = True):
    values = [orjson.dumps(m) for m in sorted(posts, key=_at)]
    r = run_offline(config(own), values, keep_closed=True)
    closed = [cm.summary for cm in r.closed.get("Acme", [])]
    return r.events, sum(s.mentions for s in closed), sum(s.responses for s in closed)


def detector_events(events: list[dict]) -> list[tuple]:
    return [(e["event"], e.get("detected_at")) for e in events if e["event"] != "responded"]


def one_seed(seed: int, hours: int) -> dict:
    minutes = hours * 60
    out = {}
    traffic = list(generate_mentions(["Acme"], START_MS, minutes, seed=seed, rate_per_min=10.0))
    wave = [reply(i, EVENT_MIN + i // 10, (i % 10) * 6) for i in range(150)]
    base, base_mentions, _ = run(traffic)
    events, mentions, responses = run(traffic + wave)
    control, _, _ = run(traffic + wave, own=False)
    out["apology_wave"] = {
        "opened": sum(e["event"] == "opened" for e in events),
        "spam_reports": sum(e["event"] == "spam_flood" for e in events),
        "control_without_own_handles": {k: sum(e["event"] == k for e in control) for k in ("opened", "spam_flood")},
        "same_detector_events": detector_events(events) == detector_events(base),
        "replies": len(wave), "responses_counted": responses, "mentions_added": mentions - base_mentions,
    }
    buzz = {"brand": "Acme", "start_minute": EVENT_MIN, "ramp_minutes": 10, "peak_factor": 8,
            "negative_share": 0.8, "hold_minutes": 60}
    traffic = list(generate_mentions(["Acme"], START_MS, minutes, seed=seed, rate_per_min=10.0, bad_buzz=buzz))
    answers = [reply(i, EVENT_MIN + 15 + i, 30) for i in range(30)]
    base, base_mentions, _ = run(traffic)
    events, mentions, responses = run(traffic + answers)
    opened = [e for e in events if e["event"] == "opened"]
    responded = [e for e in events if e["event"] == "responded"]
    first_answer = None
    if opened:
        t_open = parse_timestamp_ms(opened[0]["detected_at"])
        first_answer = min((_at(a) for a in answers if _at(a) >= t_open - MINUTE_MS), default=None)
    out["answered_bad_buzz"] = {
        "opened": len(opened), "same_detector_events": detector_events(events) == detector_events(base),
        "responded": len(responded),
        "responded_by_care": all(e["response"]["author"] == CARE for e in responded) and bool(responded),
        "responded_after_opened": bool(opened and responded and responded[0]["detected_at"] >= opened[0]["detected_at"]),
        "response_at": responded[0]["response"]["at"] if responded else None,
        "first_answer_after_opening": format_timestamp(first_answer) if first_answer else None,
        "responses_counted": responses, "mentions_added": mentions - base_mentions,
    }
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1,2,3,4")
    ap.add_argument("--hours", type=int, default=6)
    args = ap.parse_args()
    ok = True
    for seed in (int(s) for s in args.seeds.split(",")):
        r = one_seed(seed, args.hours)
        a, b = r["apology_wave"], r["answered_bad_buzz"]
        good_a = (a["opened"] == 0 and a["spam_reports"] == 0 and a["same_detector_events"] and a["mentions_added"] == 0
                  and a["responses_counted"] == a["replies"])
        good_b = (b["opened"] >= 1 and b["same_detector_events"] and b["responded"] == 1 and b["responded_by_care"]
                  and b["responded_after_opened"] and b["mentions_added"] == 0)
        ok &= good_a and good_b
        print(f"## seed {seed}")
        print(f"- apology wave ({'ok' if good_a else 'FAIL'}): {a}")
        print(f"- answered bad buzz ({'ok' if good_b else 'FAIL'}): {b}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
