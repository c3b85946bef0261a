"""Synthetic social traffic with truth: EN/FR mentions, a daily and weekly rhythm, bursty noise.

Two modes, both seeded (same arguments, same output, same ids):

* :func:`generate_mentions` yields mention dicts in the contract's JSON form, for the demo, the
  CLI (``buzzwatch simulate``) and the integration tests; optionally with one injected bad buzz.
* scenario mode (:func:`make_scenario`, :func:`scenario_summaries`, :func:`scenario_mentions`)
  produces weeks of traffic for many brands with a truth list of injected events (bad buzz,
  positive launch, neutral news, short benign bursts). For speed it yields the closed-minute
  :class:`~buzzwatch.stages.summary.MinuteSummary` rows the detector sees, not individual mentions;
  a small slice can be rendered to mentions for end-to-end tests.

Real traffic is overdispersed, so the noise is not plain Poisson: the minute rate is a
gamma-Poisson draw around a rhythm that also drifts slowly (a log-AR(1) "mood" of the day).

>>> ms = list(generate_mentions(["Acme"], 1_795_000_000_000, 3, seed=1, rate_per_min=5))
>>> ms == list(generate_mentions(["Acme"], 1_795_000_000_000, 3, seed=1, rate_per_min=5))
True
>>> {"id", "text", "created_at", "author", "engagement"} <= set(ms[0])
True
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from typing import Iterator, Sequence

from buzzwatch.timeutil import DAY_MS, MINUTE_MS, format_timestamp
from buzzwatch.stages.summary import MinuteSummary


# -- texts ---------------------------------------------------------------------------------------
# Templates take {b} (brand name or @handle), {h} (@handle), {t} (hashtag stem), {n} (a number).
EN = {
    "positive": [
        "Love my new {b} order, arrived early and works great",
        "Big thanks to {h} support, fixed my issue in {n} minutes",
        "{b} just nailed it with this update, fantastic",
        "Really happy with {b}, best purchase this year",
        "Shoutout to the {b} team, amazing service today",
        "The new {b} app is so smooth, great job",
        "Impressed by {b} again, excellent quality",
    ],
    "neutral": [
        "Anyone know what time {b} opens on Sunday?",
        "Just ordered from {b}, let's see",
        "{b} announced new store hours for the holidays",
        "Reading the {b} quarterly report this morning",
        "Is the {b} app available on tablets?",
        "Heading to {b} store number {n} later",
        "{b} is hiring {n} people in Lyon according to the news",
    ],
    "negative": [
        "{h} my order is {n} days late and nobody answers, terrible",
        "Worst experience ever with {b}, still waiting for my refund",
        "{b} charged me twice and support hung up on me #{t}fail",
        "Day {n} without service from {b}. Useless and rude",
        "Never buying from {b} again, broken product and awful support",
        "{b} customer service is a joke, {n} hours on hold",
    ],
}
FR = {
    "positive": [
        "Super contente de ma commande {b}, livrée en avance, merci",
        "Merci {h} pour votre aide rapide, service au top",
        "J'adore la nouvelle appli {b}, excellent travail",
        "Très bonne expérience chez {b} aujourd'hui",
        "Bravo {b}, livraison en {n} heures, génial",
    ],
    "neutral": [
        "Quelqu'un sait à quelle heure ouvre {b} dimanche ?",
        "{b} annonce de nouveaux horaires pour les fêtes",
        "Je viens de commander chez {b}, on verra",
        "Le rapport annuel de {b} est sorti ce matin",
        "{b} ouvre {n} nouveaux magasins cette année",
    ],
    "negative": [
        "{h} toujours pas remboursé après {n} jours, service client nul",
        "Honteux, {b} m'a facturé deux fois et personne ne répond #{t}fail",
        "Colis perdu par {b}, c'est une arnaque, je suis furieux",
        "Encore en panne chez {b}, inadmissible et horrible",
        "{b} c'est vraiment n'importe quoi, {n} appels sans réponse",
    ],
}
BUZZ = {
    "en": [
        "Boycott {b}! They lied to customers about the data leak #{t}fail",
        "{h} leaked my personal data and won't even apologize. Disgusting",
        "Shame on {b}, the scandal is everywhere, cancel your account now #boycott{t}",
        "So {b} knew about the leak for {n} days and said nothing? Unacceptable",
    ],
    "fr": [
        "Boycott {b} ! Ils ont menti sur la fuite de données #{t}fail",
        "{h} scandale : mes données volées et aucune excuse, honteux",
        "{b} savait depuis {n} jours et n'a rien dit, inadmissible #boycott{t}",
    ],
}
OPENERS = {"en": ("", "", "", "Honestly, ", "Wow. ", "Ok so ", "PSA: "), "fr": ("", "", "", "Franchement, ", "Bon. ", "Alors ")}
CLOSERS = ("", "", "", " !", " 🙄", " #{t}", " (again)", " 😡", " 👍", "...")
TONES = ("negative", "neutral", "positive")


def _text(rng: random.Random, lang: str, tone: str, name: str, handle: str, tag: str, buzz: bool) -> str:
    if buzz and tone == "negative":
        template = rng.choice(BUZZ[lang])
    else:
        template = rng.choice((FR if lang == "fr" else EN)[tone])
    closer = rng.choice(CLOSERS)
    if tone == "positive" and closer in (" 😡", " 🙄"):
        closer = ""
    text = rng.choice(OPENERS[lang]) + template + closer
    return text.format(b=name, h=handle, t=tag, n=rng.randint(2, 40))


# -- rhythm and noise ----------------------------------------------------------------------------
def _diurnal(minute_of_day: float) -> float:
    """Daily rhythm (UTC minute of day): low at night, an evening peak; mean ~1."""
    return (1.0 + 0.6 * math.sin(2 * math.pi * (minute_of_day / 1440 - 0.40))
            + 0.25 * math.exp(-((minute_of_day - 1230) / 90) ** 2))


def _weekly(day: int) -> float:
    """Weekly rhythm (0 = Monday): quieter weekends; mean ~1."""
    return 0.75 if day in (5, 6) else 1.1


def _weekday(ms: int) -> int:
    return ((ms // DAY_MS) + 3) % 7  # 1970-01-01 was a Thursday


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam < 30:
        limit, k, prod = math.exp(-lam), 0, rng.random()
        while prod > limit:
            k += 1
            prod *= rng.random()
        return k
    return max(0, int(rng.gauss(lam, math.sqrt(lam)) + 0.5))


def _gamma_poisson(rng: random.Random, mean: float, shape: float = 8.0) -> int:
    """Negative binomial draw: Poisson around a gamma rate (variance ``mean + mean**2 / shape``)."""
    if mean <= 0:
        return 0
    return _poisson(rng, rng.gammavariate(shape, mean / shape))


def _binomial(rng: random.Random, n: int, p: float) -> int:
    if n <= 0 or p <= 0:
        return 0
    if p >= 1:
        return n
    if n < 40:
        return sum(1 for _ in range(n) if rng.random() < p)
    k = int(rng.gauss(n * p, math.sqrt(n * p * (1 - p))) + 0.5)
    return min(n, max(0, k))


def buzz_factor(minute: int, event: dict) -> float:
    """Volume multiplier of an injected event at ``minute`` (linear ramp, hold, exponential decay).

    >>> e = {"start_minute": 10, "ramp_minutes": 10, "peak_factor": 11.0, "hold_minutes": 30}
    >>> [buzz_factor(m, e) for m in (9, 10, 14, 19, 30)]
    [1.0, 2.0, 6.0, 11.0, 11.0]
    """
    start, ramp = event["start_minute"], max(1, event.get("ramp_minutes", 10))
    hold = event.get("hold_minutes", 120)
    if minute < start:
        return 1.0
    peak = event.get("peak_factor", 8.0)
    if minute < start + ramp:
        return 1.0 + (peak - 1.0) * (minute - start + 1) / ramp
    if minute < start + ramp + hold:
        return peak
    decay = math.exp(-(minute - start - ramp - hold) / max(event.get("decay_minutes", hold / 2), 1))
    return 1.0 + (peak - 1.0) * decay


def _handle(brand: str) -> str:
    return "@" + "".join(ch for ch in brand.lower() if ch.isalnum())


def _tag(brand: str) -> str:
    return "".join(ch for ch in brand.lower() if ch.isascii() and ch.isalnum()) or "brand"


class _MentionWriter:
    """Turns (brand, minute, tone) into contract dicts; shared by both modes."""

    def __init__(self, rng: random.Random, prefix: str, fr_share: float):
        self.rng, self.prefix, self.fr_share, self.n = rng, prefix, fr_share, 0
        self.recent: list[str] = []  # texts that may be copied (retweet-like duplicates)
        self._minute_ms, self._minute_iso = -1, ""

    def write(self, brand: str, minute_ms: int, tone: str, buzz: bool) -> dict:
        rng = self.rng
        self.n += 1
        lang = "fr" if rng.random() < self.fr_share else "en"
        if self.recent and rng.random() < (0.15 if buzz else 0.03):
            text = rng.choice(self.recent)  # a copy-pasted text: bots, retweets without comment
        else:
            name = brand if rng.random() < 0.7 else _handle(brand)
            text = _text(rng, lang, tone, name, _handle(brand), _tag(brand), buzz)
            if len(self.recent) < 64:
                self.recent.append(text)
            else:
                self.recent[rng.randrange(64)] = text
        second = rng.randrange(60)
        if minute_ms != self._minute_ms:
            self._minute_ms, self._minute_iso = minute_ms, format_timestamp(minute_ms)[:17]
        created = (minute_ms // 1000 + second) if rng.random() < 0.1 else f"{self._minute_iso}{second:02d}Z"
        followers = int(rng.paretovariate(1.2) * (150 if buzz else 50))
        uid = rng.randrange(200_000)
        m = {
            "id": f"{self.prefix}-{self.n}",
            "text": text,
            "created_at": created,
            "source": "simulator",
            "url": f"https://social.example/p/{self.prefix}/{self.n}",
            "author": {"id": f"u{uid}", "name": f"user{uid}", "followers": followers, "verified": followers > 50_000},
            "engagement": {"likes": rng.randrange(20), "shares": rng.randrange(5) * (3 if buzz else 1),
                           "replies": rng.randrange(5)},
        }
        if rng.random() < 0.85:
            m["lang"] = lang  # sometimes absent: language detection is exercised
        if rng.random() < 0.5:
            m["brand"] = brand  # sometimes absent: brand matching on the text is exercised
        return m


def _sort_key(m: dict) -> tuple[int, str]:
    """Order within one minute: by second, then id (all rows of a batch share the minute)."""
    c = m["created_at"]
    return (c % 60 if isinstance(c, int) else int(c[17:19]), m["id"])


def generate_mentions(
    brands: Sequence[str],
    start_ms: int,
    minutes: int,
    *,
    seed: int,
    rate_per_min: float | dict = 20.0,
    fr_share: float = 0.3,
    bad_buzz: dict | None = None,
    negative_share: float = 0.15,
    positive_share: float = 0.35,
) -> Iterator[dict]:
    """Mentions in the contract's JSON form, minute by minute in event-time order.

    ``rate_per_min`` is the mean rate (one number, or per brand); the minute rate follows the
    daily and weekly rhythm with gamma-Poisson noise. ``bad_buzz`` injects one event on one
    brand: ``{"brand", "start_minute", "ramp_minutes", "peak_factor", "negative_share"}``
    (optional ``hold_minutes``): the extra mentions are mostly negative, with more duplicate
    texts and bigger accounts. ``created_at`` is ISO-8601 or (10 %) epoch seconds; ``lang``
    and ``brand`` are sometimes left out. Ids are ``sim-<seed>-<n>``.

    >>> ms = list(generate_mentions(["Acme", "Lavéria"], 1_795_000_000_000, 30, seed=3, rate_per_min=4,
    ...                             bad_buzz={"brand": "Acme", "start_minute": 10, "ramp_minutes": 5,
    ...                                       "peak_factor": 10, "negative_share": 0.9}))
    >>> len({m["id"] for m in ms}) == len(ms) > 100
    True
    >>> any("Acme" in m["text"] or "@acme" in m["text"] for m in ms)
    True
    """
    rng = random.Random(seed)
    writer = _MentionWriter(rng, f"sim-{seed}", fr_share)
    start_ms -= start_ms % MINUTE_MS
    for minute in range(minutes):
        t0 = start_ms + minute * MINUTE_MS
        rhythm = _diurnal((t0 // MINUTE_MS) % 1440) * _weekly(_weekday(t0))
        rows: list[dict] = []
        for b in brands:
            base = rate_per_min[b] if isinstance(rate_per_min, dict) else rate_per_min
            buzz = buzz_factor(minute, bad_buzz) if bad_buzz and bad_buzz.get("brand") == b else 1.0
            count = _gamma_poisson(rng, base * rhythm * buzz)
            extra_share = 1.0 - 1.0 / buzz  # share of this minute's mentions that the buzz brought
            for _ in range(count):
                in_buzz = buzz > 1.0 and rng.random() < extra_share
                u = rng.random()
                if in_buzz:
                    tone = "negative" if u < bad_buzz.get("negative_share", 0.8) else "neutral"
                else:
                    tone = "negative" if u < negative_share else ("positive" if u < negative_share + positive_share else "neutral")
                rows.append(writer.write(b, t0, tone, in_buzz))
        rows.sort(key=_sort_key)
        yield from rows


# -- scenario mode -------------------------------------------------------------------------------
@dataclass(frozen=True)
class BrandProfile:
    """One simulated brand's usual traffic."""

    name: str
    rate_per_min: float  # mean mentions/min over a week
    negative_share: float
    positive_share: float
    shape: float  # gamma shape of the minute noise (smaller = burstier)
    phase_minutes: int  # shift of the daily rhythm (brands whose audience lives elsewhere)
    followers: float  # mean followers per mention
    fr_share: float


@dataclass(frozen=True)
class ScenarioEvent:
    """One injected event: the truth the evaluation scores against (times in epoch ms)."""

    brand: str
    kind: str  # "bad_buzz" | "launch" | "news" | "burst" | "flood" | "copypaste"
    start_ms: int
    ramp_minutes: int
    hold_minutes: int
    peak_factor: float  # for "flood" / "copypaste": posts per minute of the spam
    negative_share: float | None  # share of the extra mentions; None = the brand's usual
    positive_share: float | None
    wave: int = 1  # 2 = the second wave of a bad buzz, hours after the first
    copy_share: float = 0.12  # share of the extra mentions that are copies (retweets, slogans)

    @property
    def end_ms(self) -> int:
        """End of the hold; the decay that follows lasts about ``hold_minutes / 2`` more."""
        return self.start_ms + (self.ramp_minutes + self.hold_minutes) * MINUTE_MS

    @property
    def spam(self) -> bool:
        return self.kind in ("flood", "copypaste")

    def factor(self, minute_ms: int) -> float:
        minute = (minute_ms - self.start_ms) // MINUTE_MS
        return buzz_factor(minute, {"start_minute": 0, "ramp_minutes": self.ramp_minutes,
                                    "hold_minutes": self.hold_minutes, "peak_factor": self.peak_factor,
                                    "decay_minutes": min(60, max(1, self.hold_minutes // 2))})

    @property
    def doubling_ms(self) -> int:
        """First minute at which the event had doubled the brand's usual volume."""
        m = self.start_ms
        while self.factor(m) < 2.0 and m < self.end_ms:
            m += MINUTE_MS
        return m

    def to_dict(self) -> dict:
        return {**asdict(self), "onset_at": format_timestamp(self.start_ms),
                "doubling_at": format_timestamp(self.doubling_ms), "end_at": format_timestamp(self.end_ms)}


@dataclass(frozen=True)
class Scenario:
    seed: int
    start_ms: int
    days: int
    brands: tuple[BrandProfile, ...]
    events: tuple[ScenarioEvent, ...]

    def truth(self) -> list[dict]:
        return [e.to_dict() for e in self.events]


SCENARIO_START_MS = 1_793_491_200_000  # 2026-11-01T00:00Z


def make_scenario(seed: int, *, brands: int = 20, days: int = 14, warmup_days: int = 3,
                  start_ms: int = SCENARIO_START_MS, min_rate: float = 0.1, max_rate: float = 300.0,
                  bad_per_brand: int = 1, launches_per_brand: int = 1, news_per_brand: int = 1,
                  bursts_per_brand: int = 3, floods_per_brand: int = 0, copypastes_per_brand: int = 0,
                  second_wave: bool = False) -> Scenario:
    """Brands with log-uniform rates in ``[min_rate, max_rate]`` mentions/min and a truth list.

    After ``warmup_days`` each brand gets its main events in shuffled order, in separate slots
    at least ~12 h apart, starting at any time of day or night: bad buzz (ramp 5 min to 4 h,
    peak 3-20x, negative share of the extra mentions 0.45-0.9; one in three a retweet storm,
    60 % copies of a few posts by real people), a positive launch (3-12x, 75-90 % positive), a
    neutral news spike (3-10x, about the usual negative share), spam: a single-account flood
    (one account, 5-40 negative posts/min for 10-60 min) and a copy-paste campaign (one
    negative text, 5-40 new accounts/min); with ``second_wave`` the bad buzz is 60 min at 7x,
    70 % negative, and comes back 8 h later. Short benign bursts (1-3 min, 3-8x, the usual mix)
    are sprinkled at random times away from the main events.

    >>> sc = make_scenario(1, brands=3, days=7)
    >>> sorted({e.kind for e in sc.events})
    ['bad_buzz', 'burst', 'launch', 'news']
    >>> sc == make_scenario(1, brands=3, days=7)
    True
    """
    rng = random.Random(f"scenario-{seed}")
    profiles, events = [], []
    for i in range(brands):
        name = f"brand{seed}_{i:02d}"
        p = BrandProfile(
            name=name,
            rate_per_min=round(math.exp(rng.uniform(math.log(min_rate), math.log(max_rate))), 4),
            negative_share=round(rng.uniform(0.06, 0.3), 3),
            positive_share=round(rng.uniform(0.2, 0.45), 3),
            shape=round(rng.uniform(3.0, 12.0), 2),
            phase_minutes=rng.choice((0, 0, 0, -60, -300, -360, 60, 120)),
            followers=round(math.exp(rng.uniform(math.log(40), math.log(800))), 1),
            fr_share=rng.choice((0.0, 0.2, 0.5, 0.9)),
        )
        profiles.append(p)
        kinds = (["bad_buzz"] * bad_per_brand + ["launch"] * launches_per_brand + ["news"] * news_per_brand
                 + ["flood"] * floods_per_brand + ["copypaste"] * copypastes_per_brand)
        if not (floods_per_brand or copypastes_per_brand or second_wave):
            kinds += ["burst"] * bursts_per_brand  # the original layout (same scenarios as before)
            bursts = 0
        else:
            bursts = bursts_per_brand
        rng.shuffle(kinds)
        first, last = warmup_days * 1440, days * 1440 - 10 * 60
        span = (last - first) // max(1, len(kinds))
        main: list[ScenarioEvent] = []
        for j, kind in enumerate(kinds):
            start_min = first + j * span + rng.randrange(0, max(1, span - 12 * 60))
            t = start_ms + start_min * MINUTE_MS
            if kind == "bad_buzz" and second_wave:
                e = ScenarioEvent(name, kind, t, 10, 60, 7.0, 0.7, 0.05)
                main.append(ScenarioEvent(name, kind, t + 8 * 3_600_000, 10, 60, 7.0, 0.7, 0.05, wave=2))
            elif kind == "bad_buzz":
                e = ScenarioEvent(name, kind, t, rng.choice((5, 10, 15, 30, 60, 120, 240)), rng.randrange(30, 240),
                                  round(math.exp(rng.uniform(math.log(3), math.log(20))), 2),
                                  round(rng.uniform(0.45, 0.9), 3), 0.05,
                                  copy_share=0.6 if rng.random() < 1 / 3 else 0.12)
            elif kind == "launch":
                e = ScenarioEvent(name, kind, t, rng.choice((5, 15, 30, 60)), rng.randrange(60, 300),
                                  round(rng.uniform(3, 12), 2), 0.03, round(rng.uniform(0.75, 0.9), 3))
            elif kind == "news":
                e = ScenarioEvent(name, kind, t, rng.choice((5, 10, 20)), rng.randrange(30, 180),
                                  round(rng.uniform(3, 10), 2), round(p.negative_share + rng.uniform(0, 0.04), 3),
                                  round(rng.uniform(0.1, 0.3), 3))
            elif kind in ("flood", "copypaste"):
                e = ScenarioEvent(name, kind, t, 1, rng.randrange(10, 60), float(rng.randrange(5, 40)), 1.0, 0.0,
                                  copy_share=1.0)
            else:
                e = ScenarioEvent(name, kind, t, 1, rng.randrange(1, 3), round(rng.uniform(3, 8), 2), None, None)
            main.append(e)
        busy = [(e.start_ms - 2 * 3_600_000, e.end_ms + 4 * 3_600_000) for e in main]
        for _ in range(bursts):
            for _try in range(50):
                t = start_ms + rng.randrange(first, last) * MINUTE_MS
                if not any(a <= t <= b for a, b in busy):
                    break
            main.append(ScenarioEvent(name, "burst", t, 1, rng.randrange(1, 3), round(rng.uniform(3, 8), 2), None, None))
            busy.append((t - 60 * MINUTE_MS, t + 60 * MINUTE_MS))
        events += main
    return Scenario(seed, start_ms, days, tuple(profiles), tuple(events))


def _brand_rng(scenario: Scenario, brand: BrandProfile) -> random.Random:
    return random.Random(f"{scenario.seed}-{brand.name}")


def _scenario_minutes(scenario: Scenario, brand: BrandProfile, rng: random.Random):
    """(minute_ms, usual count, extra count, active event) for every minute of the scenario."""
    events = [e for e in scenario.events if e.brand == brand.name]
    mood = 0.0  # slow log-AR(1) drift of the level: days are not all alike
    rho = math.exp(-1.0 / 180.0)  # three-hour memory
    mood_sd = 0.12
    innov = mood_sd * math.sqrt(1 - rho * rho)
    for m in range(scenario.days * 1440):
        t = scenario.start_ms + m * MINUTE_MS
        mood = rho * mood + rng.gauss(0.0, innov)
        local = (m + brand.phase_minutes) % 1440
        usual = brand.rate_per_min * _diurnal(local) * _weekly(_weekday(t + brand.phase_minutes * MINUTE_MS)) * math.exp(mood)
        factor, active, spam = 1.0, None, None
        for e in events:
            if e.spam:
                if e.start_ms <= t < e.end_ms:
                    spam = e
                continue
            if e.start_ms <= t < e.end_ms + 6 * 3_600_000:
                f = e.factor(t)
                if f > factor:
                    factor, active = f, e
        n_usual = _gamma_poisson(rng, usual, brand.shape)
        n_extra = _gamma_poisson(rng, usual * (factor - 1.0), brand.shape) if factor > 1.0 else 0
        yield t, n_usual, n_extra, active, spam


def scenario_summaries(scenario: Scenario, brand: str | BrandProfile) -> Iterator[MinuteSummary]:
    """Every closed minute of one brand (silent minutes included), as the aggregate stage feeds them.

    >>> sc = make_scenario(2, brands=2, days=1, warmup_days=0)
    >>> rows = list(scenario_summaries(sc, sc.brands[0]))
    >>> len(rows), rows[1].start_ms - rows[0].start_ms, all(r.scored == r.mentions for r in rows)
    (1440, 60000, True)
    """
    p = brand if isinstance(brand, BrandProfile) else next(b for b in scenario.brands if b.name == brand)
    rng = _brand_rng(scenario, p)
    tag = _tag(p.name)
    for t, n_usual, n_extra, e, spam in _scenario_minutes(scenario, p, rng):
        neg = _binomial(rng, n_usual, p.negative_share)
        pos = _binomial(rng, n_usual - neg, p.positive_share / (1 - p.negative_share))
        terms: tuple = ()
        slogan = None
        dup = _binomial(rng, n_usual, 0.03)
        repeats = _binomial(rng, n_usual, 0.02)  # people posting twice in a minute
        reach_per = p.followers
        if n_extra:
            en = e.negative_share if e.negative_share is not None else p.negative_share
            ep = e.positive_share if e.positive_share is not None else p.positive_share
            xneg = _binomial(rng, n_extra, en)
            xpos = _binomial(rng, n_extra - xneg, min(1.0, ep / max(1e-9, 1 - en)))
            neg, pos = neg + xneg, pos + xpos
            xdup = _binomial(rng, n_extra, e.copy_share if e.kind == "bad_buzz" else 0.04)
            dup += xdup
            repeats += _binomial(rng, n_extra, 0.05 if e.kind == "bad_buzz" else 0.02)
            if e.kind == "bad_buzz":
                terms = ((f"#{tag}fail", xneg // 2), ("leak", xneg // 3))
                reach_per *= 2.0
                if xdup:  # real people sharing one angry post: their usual (doubled) audience
                    slogan = (f"#{tag}fail they lied about the leak", xdup + 1)
        n = n_usual + n_extra
        reach = int(n * reach_per * rng.lognormvariate(0.0, 0.5)) if n else 0
        authors = n - repeats
        posters: tuple = ()
        copies: tuple = ()
        copy_reach: tuple = ()
        if slogan is not None:
            copies, copy_reach = (slogan,), ((slogan[0], int(slogan[1] * reach_per)),)
        if spam is not None:
            k = _poisson(rng, spam.peak_factor)
            text = f"{p.name} SCAM SCAM SCAM avoid them #{tag}fail"
            n, neg, dup, reach = n + k, neg + k, dup + max(0, k - 1), reach + k * (12 if spam.kind == "flood" else 5)
            if spam.kind == "flood":
                authors += 1 if k else 0
                posters = ((f"troll_{tag}", k),) if k >= 2 else ()
            else:
                authors += k
            if k >= 2:
                pasted = ((text, k), *copies)
                copies = tuple(sorted(pasted, key=lambda c: -c[1]))
                copy_reach = ((text, k * (12 if spam.kind == "flood" else 5)), *copy_reach)
        yield MinuteSummary(
            brand=p.name, start_ms=t, mentions=n, negative=neg, neutral=n - neg - pos, positive=pos,
            compound_sum=round(0.55 * pos - 0.6 * neg, 4), reach=reach, shares=n // 4,
            distinct_authors=authors, duplicate_texts=dup, terms=tuple(x for x in terms if x[1] > 0),
            top_posters=posters, top_copies=copies, copy_reach=copy_reach,
        )


def scenario_mentions(scenario: Scenario, brand: str, start_minute: int, minutes: int) -> Iterator[dict]:
    """Render ``minutes`` of one brand's scenario traffic to mention dicts (for small end-to-end runs).

    The per-minute volumes and the intended tones are those of :func:`scenario_summaries`.

    >>> sc = make_scenario(3, brands=1, days=1, warmup_days=0)
    >>> ms = list(scenario_mentions(sc, sc.brands[0].name, 600, 5))
    >>> rows = list(scenario_summaries(sc, sc.brands[0]))[600:605]
    >>> len(ms) == sum(r.mentions for r in rows)
    True
    """
    p = next(b for b in scenario.brands if b.name == brand)
    writer = _MentionWriter(random.Random(f"render-{scenario.seed}-{brand}"), f"sc{scenario.seed}-{p.name}", p.fr_share)
    for i, s in enumerate(scenario_summaries(scenario, p)):
        if i < start_minute:
            continue
        if i >= start_minute + minutes:
            break
        tones = ["negative"] * s.negative + ["neutral"] * s.neutral + ["positive"] * s.positive
        buzz_negative = sum(c for term, c in s.terms if term.endswith("fail")) * 2
        rows = [writer.write(p.name, s.start_ms, tone, tone == "negative" and k < buzz_negative)
                for k, tone in enumerate(tones)]
        rows.sort(key=_sort_key)
        yield from rows
