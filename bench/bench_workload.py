"""What the benchmark feeds the pipeline: brands, their config, and realistic EN/FR mentions.

Texts are real tweets (the airline and French dev files under ``../shared/data/sentiment``
(or ``--shared DIR``),
read in place at run time, never copied into the repo), each rewritten to name one brand: the
tweet's first @handle becomes the brand's handle, or the brand name is put in front. Without
the shared data, the simulator's texts stand in (``texts_source`` says which was used).

Brand popularity is Zipf-like with exponent :data:`ZIPF_S`, chosen so that the most popular
of 1,000 brands carries about half of the traffic (the crisis-hour shape of issue 10).

A share :data:`REPLY_SHARE` of the posts are the brand's own replies, written by its care
account (``own_handles``, :func:`care_handle`) in the customer's language and often
apologetic: the pipeline must count them as responses, never as complaints (issue 11), and
they cost the ingest stage what real replies cost.

>>> names = brand_names(3, seed=1)
>>> len(set(names)), all(n[0].isupper() for n in names)
(3, True)
>>> rewrite("@united my bag is lost", "Kavo", "en")
'@kavo my bag is lost'
>>> rewrite("Quelle journée", "Kavo", "fr")
'Kavo Quelle journée'
>>> care_handle("Kavo")
'@kavo_care'
"""

from __future__ import annotations

import bisect
import csv
import itertools
import random
import re
from dataclasses import dataclass
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared"  # ../shared relative to the repo root
ZIPF_S = 1.75  # top brand of 1,000 gets ~52 % of the mentions
REPLY_SHARE = 0.03  # posts written by the brand's own care account (answers, apologies)
REPLIES = {
    "en": ("We're so sorry for the delay, please DM us your booking reference and we'll sort it out.",
           "Sorry to hear about your bag! Our team is on it, please follow the link we sent you.",
           "Thanks for flying with us, glad we could help!",
           "We apologise for the outage, service is being restored."),
    "fr": ("Nous sommes désolés pour la panne, nos équipes sont mobilisées.",
           "Désolés pour ce retard, envoyez-nous votre numéro de dossier en message privé.",
           "Merci pour votre message, bonne journée !"),
}
BASE_MS = 1_793_491_200_000  # 2026-11-01T00:00:00Z: event times of pre-loaded topics start here
MINUTE_MS = 60_000

_CONSONANTS = "bcdfgklmnprstvz"
_VOWELS = "aeiou"
_HANDLE = re.compile(r"(?<![\w.])@\w+")  # a handle, not the "@" of an e-mail address


def brand_names(n: int, seed: int = 7) -> list[str]:
    """``n`` distinct, pronounceable, made-up brand names (3 syllables: no real word collides)."""
    rng = random.Random(seed)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        name = "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(3))
        if name not in seen:
            seen.add(name)
            names.append(name.capitalize())
    return names


def handle(name: str) -> str:
    return "@" + name.lower()


def care_handle(name: str) -> str:
    """The brand's own customer-care account (its posts are responses, never mentions)."""
    return handle(name) + "_care"


def brands_toml(names: list[str]) -> str:
    """``[[brands]]`` tables (name, handle, own care account) for a generated config."""
    return "".join(f'\n[[brands]]\nname = "{n}"\nhandles = ["{handle(n)}"]\nown_handles = ["{care_handle(n)}"]\n'
                   for n in names)


def write_config(path: Path, names: list[str], *, partitions: int = 4, lateness_s: int = 60,
                 batch_size: int = 1000, batch_within_s: float = 0.5, watermark_interval_s: float = 1.0,
                 idle_partition_s: float = 3600) -> Path:
    """A complete Buzzwatch TOML for a bench run (worker, pipeline and brands)."""
    path.write_text(
        f"""
[topics]
partitions = {partitions}

[worker]
batch_size = {batch_size}
batch_within_s = {batch_within_s}
watermark_interval_s = {watermark_interval_s}

[pipeline]
allowed_lateness_s = {lateness_s}
idle_partition_s = {idle_partition_s}
{brands_toml(names)}""",
        encoding="utf-8",
    )
    return path


def rewrite(text: str, name: str, lang: str) -> str:
    """The tweet made about ``name``: its first @handle replaced by the brand's, or the name
    put in front (``lang`` is kept for symmetry; both languages use the same rule). The "@" of
    an e-mail address is no handle: "reality@brand.com" does not name the brand (the matcher
    rightly refuses it), and the latency bench counted such a post as the brand's minute."""
    if _HANDLE.search(text):
        return _HANDLE.sub(handle(name), text, count=1)
    return f"{name} {text}"


@dataclass(frozen=True)
class Corpus:
    """Tweet texts by language, with the source they came from."""

    texts: list[tuple[str, str]]  # (lang, original tweet text)
    source: str


def _read_csv_texts(path: Path, lang: str) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [(lang, row["text"]) for row in csv.DictReader(fh) if row.get("text", "").strip()]


def load_corpus(shared: Path = DEFAULT_SHARED) -> Corpus:
    """Real tweets from ``shared``/data/sentiment (EN airline + FR), or the simulator's texts."""
    data = shared / "data" / "sentiment"
    en, fr = data / "airline_tweets_dev.csv", data / "french_tweets_dev.csv"
    if en.exists() and fr.exists():
        texts = _read_csv_texts(en, "en") + _read_csv_texts(fr, "fr")
        return Corpus(texts, f"{en.name} + {fr.name} ({len(texts)} tweets)")
    from buzzwatch.offline.simulate import generate_mentions

    sims = generate_mentions(["Zzholder"], BASE_MS, 600, seed=11, rate_per_min=10.0)
    texts = [(m.get("lang", "en"), m["text"].replace("@zzholder", "@user").replace("Zzholder", "").strip())
             for m in sims]
    return Corpus(texts, f"buzzwatch.offline.simulate ({len(texts)} texts; shared data absent)")


class ZipfPicker:
    """Draws brand indexes with probability ~ 1 / rank**s."""

    def __init__(self, n: int, s: float = ZIPF_S):
        self.cumulative = list(itertools.accumulate(1.0 / (r ** s) for r in range(1, n + 1)))

    def pick(self, rng: random.Random) -> int:
        return bisect.bisect_left(self.cumulative, rng.random() * self.cumulative[-1])

    def top_share(self) -> float:
        return self.cumulative[0] / self.cumulative[-1]


def mention(rng: random.Random, corpus: Corpus, name: str, ident: str, created_at_ms: int) -> tuple[str, str, bytes]:
    """One contract post about ``name``: (language, text, JSON bytes); with probability
    :data:`REPLY_SHARE` a reply by the brand's care account to one of its customers.

    >>> rng = random.Random(3)
    >>> posts = [orjson.loads(mention(rng, Corpus([("en", "@united lost my bag")], "t"), "Kavo", f"{i}", 0)[2])
    ...          for i in range(400)]
    >>> replies = [p for p in posts if p["author"]["name"] == "kavo_care"]
    >>> 0 < len(replies) < 40, replies[0]["text"].startswith("@user")
    (True, True)
    """
    lang, text = corpus.texts[rng.randrange(len(corpus.texts))]
    author = rng.randrange(200_000)
    if rng.random() < REPLY_SHARE:
        replies = REPLIES.get(lang, REPLIES["en"])
        text = f"@user{author} {replies[rng.randrange(len(replies))]}"
        who = {"id": f"care-{name.lower()}", "name": care_handle(name)[1:], "followers": 50_000}
    else:
        text = rewrite(text, name, lang)
        who = {"id": f"u{author}", "name": f"user{author}", "followers": rng.randrange(5000)}
    return lang, text, orjson.dumps({
        "id": ident,
        "text": text,
        "created_at": created_at_ms,
        "lang": lang,
        "source": "bench",
        "url": f"https://social.example/p/{ident}",
        "author": who,
        "engagement": {"likes": rng.randrange(20), "shares": rng.randrange(5), "replies": rng.randrange(5)},
    })


@dataclass
class Workload:
    """Pre-generated records: ``values[i]`` goes to partition ``partitions[i]``."""

    values: list[bytes]
    partitions: list[int]
    langs: list[str]
    texts: list[str]


def _spread(rng: random.Random, n: int, minutes: int) -> list[int]:
    """``n`` event times spread uniformly over ``minutes`` minutes from :data:`BASE_MS`, sorted."""
    return sorted(BASE_MS + rng.randrange(minutes * MINUTE_MS) for _ in range(n))


def zipf_workload(corpus: Corpus, names: list[str], total: int, *, minutes: int, partitions: int = 4,
                  seed: int = 1) -> Workload:
    """``total`` mentions over ``names`` (Zipf popularity), event times over ``minutes``, round
    robin over ``partitions`` in event-time order (each partition's clock advances evenly)."""
    rng = random.Random(seed)
    zipf = ZipfPicker(len(names))
    w = Workload([], [], [], [])
    for i, ts in enumerate(_spread(rng, total, minutes)):
        lang, text, value = mention(rng, corpus, names[zipf.pick(rng)], f"z{seed}-{i}", ts)
        _append(w, value, i % partitions, lang, text)
    return w


def hot_brand_workload(corpus: Corpus, names: list[str], *, hot_per_min: int, quiet_per_min: float,
                       minutes: int, partitions: int = 4, seed: int = 2) -> Workload:
    """``names[0]`` at ``hot_per_min`` for ``minutes`` event-time minutes; every other brand at
    ``quiet_per_min``. Records go to random partitions, each partition in event-time order."""
    rng = random.Random(seed)
    rows: list[tuple[int, str]] = [(ts, names[0]) for ts in _spread(rng, hot_per_min * minutes, minutes)]
    quiet = int(quiet_per_min * minutes * (len(names) - 1))
    rows += [(ts, names[1 + rng.randrange(len(names) - 1)]) for ts in _spread(rng, quiet, minutes)]
    rows.sort()
    w = Workload([], [], [], [])
    for i, (ts, name) in enumerate(rows):
        lang, text, value = mention(rng, corpus, name, f"h{seed}-{i}", ts)
        _append(w, value, rng.randrange(partitions), lang, text)
    return w


def _append(w: Workload, value: bytes, partition: int, lang: str, text: str) -> None:
    w.values.append(value)
    w.partitions.append(partition)
    w.langs.append(lang)
    w.texts.append(text)
