"""Brand configuration, brand matching in mention text, and brand-name masking before scoring.

A mention counts for every configured brand it names (fan-out), found by one precompiled regex
over the normalized text (casefolded, accents stripped), on word boundaries: "Lavéria" matches
brand ``laveria``, "acmeville" does not match ``acme``. Names and aliases match bare or as
``@name`` / ``#name``; handles match only as ``@handle`` and hashtags only as ``#hashtag``, so
that ``@united`` does not make every "united" a brand mention.

Masking replaces brand names with a neutral placeholder before scoring, because VADER reads
"@united" (+1.8), "Free" (+2.3) or "Best Buy" (+3.2) as sentiment words and would lend every
mention of such brands its name's sentiment.

>>> m = BrandMatcher([Brand("Acme", aliases=("Acme Corp",), handles=("@AcmeHelp",)),
...                   Brand("Lavéria", hashtags=("#laveriafail",))])
>>> m.match("@AcmeHelp why is LAVERIA down? #LaveriaFail acmeville")
['Acme', 'Lavéria']
>>> m.mask("I love @United and Acme Corp", extra_names=["United"])
'I love @brand and brand'
"""

from __future__ import annotations

import re
import sys
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Sequence

PLACEHOLDER = "brand"  # neutral in the English and French VADER lexicons, lowercase (no ALLCAPS boost)


# str.translate table deleting every combining mark: one C-level pass instead of a Python
# loop over characters (built once, ~0.1 s).
_DROP_COMBINING = {cp: None for cp in range(sys.maxunicode + 1) if unicodedata.combining(chr(cp))}


def _norm_char(c: str) -> str:
    return unicodedata.normalize("NFKD", c.casefold()).translate(_DROP_COMBINING)


def normalize(text: str) -> str:
    """Casefold and strip accents (NFKD, combining marks dropped): the form brands are matched in.

    >>> normalize("Lavéria ÉTÉ Straße")
    'laveria ete strasse'
    """
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text.casefold()).translate(_DROP_COMBINING)


@lru_cache(maxsize=8192)
def _norm_char_cached(c: str) -> str:
    return _norm_char(c)


def _normalize_with_offsets(text: str) -> tuple[str, list[int] | None, list[str] | None]:
    """Normalized text and, when lengths differ, the cumulative normalized length after each
    original character (``ends``), so that a span in the normalized text maps back to the
    original. ``None`` means the mapping is the identity (the common, ASCII case)."""
    if text.isascii():
        return text.lower(), None, None
    parts = [_norm_char_cached(c) for c in text]
    normalized = "".join(parts)
    if len(normalized) == len(text) and all(len(p) == 1 for p in parts):
        return normalized, None, None
    ends, total = [], 0
    for p in parts:
        total += len(p)
        ends.append(total)
    return normalized, ends, parts


def _to_original(span: tuple[int, int], ends: list[int], parts: list[str]) -> tuple[int, int]:
    s, e = span
    start = bisect_right(ends, s)
    end = bisect_left(ends, e) + 1
    while end < len(parts) and parts[end] == "":  # combining marks of the last letter
        end += 1
    return start, end


def _tuple_of_str(d: dict, key: str) -> tuple[str, ...]:
    value = d.get(key, ())
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"brand {d.get('name')!r}: {key!r} must be a list of strings, got {value!r}")
    stripped = tuple(v.strip() for v in value)
    if any(not v for v in stripped):
        raise ValueError(f"brand {d.get('name')!r}: {key!r} contains an empty string")
    return stripped


@dataclass(frozen=True)
class Brand:
    """A watched brand: its canonical name (Prometheus label, Kafka key) and the other ways
    people write it.

    >>> Brand.from_dict({"name": "Acme", "handles": ["acme"], "hashtags": "#acmefail"}).hashtags
    ('#acmefail',)
    >>> Brand.from_dict({"handles": ["@acme"]})
    Traceback (most recent call last):
    ...
    ValueError: brand is missing 'name' (a non-empty string)
    """

    name: str
    aliases: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en", "fr")

    _KEYS = ("name", "aliases", "handles", "hashtags", "languages")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Brand":
        """From one TOML ``[[brands]]`` table; ValueError naming the brand and key on bad input."""
        if not isinstance(d, dict):
            raise ValueError(f"brand must be a table, got {type(d).__name__}")
        name = d.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ValueError("brand is missing 'name' (a non-empty string)")
        unknown = sorted(set(d) - set(cls._KEYS))
        if unknown:
            raise ValueError(f"brand {name!r}: unknown key(s) {', '.join(unknown)}; known: {', '.join(cls._KEYS)}")
        kwargs: dict[str, Any] = {k: _tuple_of_str(d, k) for k in ("aliases", "handles", "hashtags")}
        if "languages" in d:
            kwargs["languages"] = tuple(v.lower() for v in _tuple_of_str(d, "languages"))
        for h in kwargs["handles"] + kwargs["hashtags"]:
            if not re.fullmatch(r"[@#]?\w+", h):
                raise ValueError(f"brand {name!r}: handle/hashtag {h!r} must be one word (letters, digits, _)")
        return cls(name=name.strip(), **kwargs)

    def terms(self) -> Iterable[tuple[str, str]]:
        """(kind, normalized body) pairs: kind is "" for names/aliases, "@" handles, "#" hashtags."""
        for n in (self.name, *self.aliases):
            yield "", _norm_term(n)
        for h in self.handles:
            yield "@", _norm_term(h.lstrip("@"))
        for h in self.hashtags:
            yield "#", _norm_term(h.lstrip("#"))


def _norm_term(term: str) -> str:
    return " ".join(normalize(term).replace("’", "'").split())


def _term_regex(term: str) -> str:
    """A normalized term as a regex: any run of spaces matches any whitespace, either apostrophe."""
    out = []
    for ch in term:
        if ch == " ":
            out.append(r"\s+")
        elif ch == "'":
            out.append("['’]")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def _trie_regex(terms: Iterable[str]) -> str:
    """An alternation of many terms as a character trie, so the regex engine does not try
    thousands of alternatives at each position."""
    trie: dict = {}
    for t in terms:
        node = trie
        for ch in t:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        end = "" in node
        branches = [_term_regex(ch) + build(child) for ch, child in sorted(node.items()) if ch != ""]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:
            # the longer continuation first, the term itself as the fallback
            return "(?:" + body + ")?"
        return body

    return build(trie)


def _compile(bodies: Iterable[str]) -> re.Pattern | None:
    bodies = {b for b in bodies if b}
    if not bodies:
        return None
    return re.compile(r"(?<!\w)([@#]?)(" + _trie_regex(bodies) + r")(?!\w)")


class BrandMatcher:
    """Finds configured brands in text and masks brand names out of it.

    Built once from the configuration; ``match`` and ``mask`` are one regex pass over the
    normalized text, however many brands are configured.

    >>> m = BrandMatcher([Brand("Free"), Brand("Orange", handles=("@orange_fr",))])
    >>> m.match("Ma box FREE est en panne, je passe chez @Orange_FR")
    ['Free', 'Orange']
    >>> m.canonical("ORANGE"), m.canonical("@orange_fr"), m.canonical("SFR")
    ('Orange', 'Orange', None)
    """

    def __init__(self, brands: Sequence[Brand]):
        self.brands: dict[str, Brand] = {}
        self._order: dict[str, int] = {}
        # (kind, body) -> canonical names; kind "" = name/alias (matches with any prefix)
        self._lookup: dict[tuple[str, str], list[str]] = {}
        for brand in brands:
            if brand.name in self.brands:
                raise ValueError(f"brand {brand.name!r} is configured twice")
            self.brands[brand.name] = brand
            self._order[brand.name] = len(self._order)
            for kind, body in brand.terms():
                owners = self._lookup.setdefault((kind, body), [])
                if brand.name not in owners:
                    owners.append(brand.name)
        self._pattern = _compile(body for _, body in self._lookup)

    def _owners(self, prefix: str, body: str) -> list[str]:
        body = " ".join(body.replace("’", "'").split())
        found = self._lookup.get(("", body), [])
        if prefix:
            found = found + self._lookup.get((prefix, body), [])
        return found

    def match(self, text: str) -> list[str]:
        """Canonical names of the configured brands mentioned in ``text``, in config order.

        >>> BrandMatcher([Brand("Acme"), Brand("Globex")]).match("globex > ACME, says acme")
        ['Acme', 'Globex']
        """
        if self._pattern is None or not text:
            return []
        found: set[str] = set()
        for m in self._pattern.finditer(normalize(text)):
            found.update(self._owners(m.group(1), m.group(2)))
        return sorted(found, key=self._order.__getitem__)

    def canonical(self, name: str) -> str | None:
        """The configured brand a declared brand value (name, alias, @handle, #hashtag) refers
        to, or None. The first brand in config order wins if several share the name."""
        norm = _norm_term(name)
        prefix = norm[0] if norm.startswith(("@", "#")) else ""
        owners = self._owners(prefix, norm[len(prefix):])
        return min(owners, key=self._order.__getitem__) if owners else None

    def mask(self, text: str, extra_names: Sequence[str] = ()) -> str:
        """``text`` with every configured brand term, and each of ``extra_names`` (bare, as
        @handle and as #hashtag), replaced by the neutral placeholder; the @/# stays.

        >>> BrandMatcher([]).mask("Best Buy is the best, #BestBuy", extra_names=["Best Buy", "BestBuy"])
        'brand is the best, #brand'
        """
        if not text:
            return text
        normalized = normalize(text)
        found = list(self._pattern.finditer(normalized)) if self._pattern is not None else []
        found = [m for m in found if self._owners(m.group(1), m.group(2))]  # not "acmefail" bare
        extra = tuple(sorted({_norm_term(n.lstrip("@#")) for n in extra_names if n and n.strip("@# ")}))
        if extra:
            found += _extra_pattern(extra).finditer(normalized)
        if not found:
            return text
        spans = [m.span(2) for m in found]
        if not text.isascii():
            _, ends, parts = _normalize_with_offsets(text)
            if ends is not None:
                spans = [_to_original(span, ends, parts) for span in spans]
        return _replace(text, spans)


@lru_cache(maxsize=4096)
def _extra_pattern(bodies: tuple[str, ...]) -> re.Pattern:
    # mentions carry a handful of distinct brand values: compile each set once
    return _compile(bodies)


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    merged: list[list[int]] = []
    for s, e in sorted(spans):  # the configured and the extra pattern can overlap
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out, pos = [], 0
    for s, e in merged:
        out.append(text[pos:s])
        out.append(PLACEHOLDER)
        pos = e
    out.append(text[pos:])
    return "".join(out)
