"""Upper-tail probabilities for counts, in pure Python: how surprising is k given what we expect.

Count-aware tests are what make one detector work for a brand with 0.1 mentions/min and one
with 200/min: 3 mentions in a minute is nothing for the second and a lot for the first. Real
traffic is overdispersed (bursty), so the volume test uses the negative binomial
(variance ``mu + phi * mu**2``), which falls back to Poisson when ``phi`` is 0.

All functions return ``-log10(P)`` ("surprise"), which stays finite and comparable where P
underflows.

>>> round(poisson_surprise(10, 2.0), 2), round(poisson_surprise(2, 2.0), 2)
(4.33, 0.23)
>>> negbin_surprise(10, 2.0, phi=0.5) < poisson_surprise(10, 2.0)
True
>>> round(binomial_surprise(8, 10, 0.2), 2)
4.11
"""

from __future__ import annotations

import math

_EPS = 1e-300


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction for the incomplete beta (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-12:
            break
    return h


def log_betainc(a: float, b: float, x: float) -> float:
    """log of the regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return float("-inf")
    if x >= 1.0:
        return 0.0
    lbt = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return lbt + math.log(max(_betacf(a, b, x), _EPS)) - math.log(a)
    upper = math.exp(lbt) * _betacf(b, a, 1.0 - x) / b
    return math.log(max(1.0 - upper, _EPS)) if upper < 1.0 else math.log(_EPS)


def log_gammainc_lower(a: float, x: float) -> float:
    """log of the regularized lower incomplete gamma P(a, x)."""
    if x <= 0.0:
        return float("-inf")
    if x < a + 1.0:
        term = total = 1.0 / a
        ap = a
        for _ in range(1000):
            ap += 1.0
            term *= x / ap
            total += term
            if term < total * 1e-14:
                break
        return math.log(total) - x + a * math.log(x) - math.lgamma(a)
    # continued fraction for Q, then P = 1 - Q
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = b + an / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-14:
            break
    q = math.exp(-x + a * math.log(x) - math.lgamma(a)) * h
    return math.log(max(1.0 - q, _EPS))


_LOG10 = math.log(10.0)


def poisson_surprise(k: float, mu: float) -> float:
    """-log10 P(X >= k) for X ~ Poisson(mu)."""
    if k <= 0:
        return 0.0
    mu = max(mu, 1e-9)
    return max(0.0, -log_gammainc_lower(k, mu) / _LOG10)


def negbin_surprise(k: float, mu: float, phi: float) -> float:
    """-log10 P(X >= k) for a negative binomial with mean mu and variance mu + phi*mu^2."""
    if phi <= 1e-6:
        return poisson_surprise(k, mu)
    if k <= 0:
        return 0.0
    mu = max(mu, 1e-9)
    r = 1.0 / phi
    p = mu / (mu + r)  # success probability of the "count" side
    return max(0.0, -log_betainc(k, r, p) / _LOG10)


def binomial_surprise(k: float, n: float, p: float) -> float:
    """-log10 P(X >= k) for X ~ Binomial(n, p)."""
    if k <= 0 or n <= 0:
        return 0.0
    if k > n:
        return 0.0
    p = min(max(p, 1e-9), 1 - 1e-9)
    return max(0.0, -log_betainc(k, n - k + 1, p) / _LOG10)
