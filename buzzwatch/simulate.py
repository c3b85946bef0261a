"""Synthetic social mentions with truth: EN/FR texts, daily rhythm, bursty noise, injected events.

Real traffic is overdispersed (a gamma-Poisson, not a plain Poisson) and has a daily and weekly
rhythm; the simulator reproduces both so that a detector that alarms on the evening peak or on
ordinary bursts is caught in tests and benchmarks. Injected events:

* ``bad_buzz``: a ramp to ``peak_factor`` x the usual volume with a high negative share;
* positive buzz (launch) and neutral news spikes are produced by :func:`scenario_summaries`.

Everything is seeded: the same arguments give the same mentions, ids and texts.

>>> ms = list(generate_mentions(["Acme"], 1_795_000_000_000, 3, seed=1, rate_per_min=5))
>>> ms == list(generate_mentions(["Acme"], 1_795_000_000_000, 3, seed=1, rate_per_min=5))
True
>>> sorted(ms[0]) == ['author', 'created_at', 'engagement', 'id', 'source', 'text', 'url'] or 'lang' in ms[0] or 'brand' in ms[0]
True
"""

from __future__ import annotations

import math
import random
from typing import Iterator, Sequence

from buzzwatch.mention import format_timestamp

EN = {
    "positive": [
        "Love my new {b} order, arrived early and works great",
        "Big thanks to {h} support, fixed my issue in minutes",
        "{b} just nailed it with this update, fantastic",
        "Really happy with {b}, best purchase this year",
        "Shoutout to the {b} team, amazing service today",
    ],
    "neutral": [
        "Anyone know what time {b} opens on Sunday?",
        "Just ordered from {b}, let's see",
        "{b} announced new store hours for the holidays",
        "Reading the {b} quarterly report this morning",
        "Is the {b} app available on tablets?",
    ],
    "negative": [
        "{h} my order is three weeks late and nobody answers, terrible",
        "Worst experience ever with {b}, still waiting for my refund",
        "{b} charged me twice and support hung up on me #{t}fail",
        "Day 3 without service from {b}. Useless and rude",
        "Never buying from {b} again, broken product and awful support",
    ],
}
FR = {
    "positive": [
        "Super contente de ma commande {b}, livrée en avance, merci",
        "Merci {h} pour votre aide rapide, service au top",
        "J'adore la nouvelle appli {b}, excellent travail",
        "Très bonne expérience chez {b} aujourd'hui",
    ],
    "neutral": [
        "Quelqu'un sait à quelle heure ouvre {b} dimanche ?",
        "{b} annonce de nouveaux horaires pour les fêtes",
        "Je viens de commander chez {b}, on verra",
        "Le rapport annuel de {b} est sorti ce matin",
    ],
    "negative": [
        "{h} toujours pas remboursé après un mois, service client nul",
        "Honteux, {b} m'a facturé deux fois et personne ne répond #{t}fail",
        "Colis perdu par {b}, c'est une arnaque, je suis furieux",
        "Encore en panne chez {b}, inadmissible et horrible",
    ],
}
BUZZ_EN = [
    "Boycott {b}! They lied to customers about the data leak #{t}fail",
    "{h} leaked my personal data and won't even apologize. Disgusting",
    "Shame on {b}, the scandal is everywhere, cancel your account now",
]
BUZZ_FR = [
    "Boycott {b} ! Ils ont menti sur la fuite de données #{t}fail",
    "{h} scandale : mes données volées et aucune excuse, honteux",
]


def _diurnal(minute_of_day: float) -> float:
    """Daily rhythm: low at night, evening peak (mean ~1)."""
    return 1.0 + 0.6 * math.sin(2 * math.pi * (minute_of_day / 1440 - 0.40)) + 0.25 * math.exp(-((minute_of_day - 1230) / 90) ** 2)


def _weekly(day: int) -> float:
    return 0.75 if day in (5, 6) else 1.05


def _gamma_poisson(rng: random.Random, mean: float, shape: float = 8.0) -> int:
    if mean <= 0:
        return 0
    lam = rng.gammavariate(shape, mean / shape)
    # Poisson by inversion (small lam) or normal approximation (large)
    if lam < 50:
        limit, k, prod = math.exp(-lam), 0, rng.random()
        while prod > limit:
            k += 1
            prod *= rng.random()
        return k
    return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))


def buzz_factor(minute: int, event: dict) -> float:
    start, ramp = event["start_minute"], max(1, event.get("ramp_minutes", 10))
    hold = event.get("hold_minutes", 120)
    if minute < start:
        return 1.0
    peak = event.get("peak_factor", 8.0)
    if minute < start + ramp:
        return 1.0 + (peak - 1.0) * (minute - start + 1) / ramp
    if minute < start + ramp + hold:
        return peak
    decay = math.exp(-(minute - start - ramp - hold) / max(hold / 2, 1))
    return 1.0 + (peak - 1.0) * decay


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
    """Mentions in the contract's JSON form, in event-time order."""
    rng = random.Random(seed)
    handles = {b: "@" + "".join(ch for ch in b.lower() if ch.isalnum()) for b in brands}
    tags = {b: "".join(ch for ch in b.lower() if ch.isascii() and ch.isalnum()) for b in brands}
    n = 0
    for minute in range(minutes):
        t0 = start_ms + minute * 60_000
        mod = (t0 // 60_000) % 1440
        day = ((t0 // 86_400_000) + 3) % 7
        rows = []
        for b in brands:
            base = rate_per_min[b] if isinstance(rate_per_min, dict) else rate_per_min
            factor = _diurnal(mod) * _weekly(day)
            buzz = 1.0
            if bad_buzz and bad_buzz.get("brand") == b:
                buzz = buzz_factor(minute, bad_buzz)
            count = _gamma_poisson(rng, base * factor * buzz)
            extra_share = 0.0 if buzz <= 1.0 else (1.0 - 1.0 / buzz)  # share of buzz mentions
            for _ in range(count):
                in_buzz = rng.random() < extra_share
                fr = rng.random() < fr_share
                if in_buzz:
                    tone = "negative" if rng.random() < bad_buzz.get("negative_share", 0.8) else "neutral"
                else:
                    u = rng.random()
                    tone = "negative" if u < negative_share else ("positive" if u < negative_share + positive_share else "neutral")
                bank = FR if fr else EN
                if in_buzz and tone == "negative":
                    template = rng.choice(BUZZ_FR if fr else BUZZ_EN)
                else:
                    template = rng.choice(bank[tone])
                name = b if rng.random() < 0.7 else handles[b]
                text = template.format(b=name, h=handles[b], t=tags[b])
                followers = int(rng.paretovariate(1.2) * 50)
                n += 1
                m = {
                    "id": f"sim-{seed}-{n}",
                    "text": text,
                    "created_at": format_timestamp(t0 + rng.randrange(60_000)),
                    "source": "simulator",
                    "url": f"https://social.example/p/{seed}/{n}",
                    "author": {"id": f"u{rng.randrange(50_000)}", "name": f"user{rng.randrange(50_000)}",
                               "followers": followers, "verified": followers > 50_000},
                    "engagement": {"likes": rng.randrange(20), "shares": rng.randrange(5), "replies": rng.randrange(5)},
                }
                if rng.random() < 0.8:
                    m["lang"] = "fr" if fr else "en"
                if rng.random() < 0.5:
                    m["brand"] = b
                rows.append(m)
        rows.sort(key=lambda m: m["created_at"])
        yield from rows
