"""Brand configuration, brand matching in mention text, and brand-name masking before scoring.

A mention counts for every configured brand it names (fan-out), found by one precompiled regex
over the normalized text (casefolded, accents stripped), on word boundaries: "Lavéria" matches
brand ``laveria``, "acmeville" does not match ``acme``. Names and aliases match bare or as
``@name`` / ``#name``; handles match only as ``@handle`` and hashtags only as ``#hashtag``, so
that ``@united`` does not make every "united" a brand mention.

Real brand names are often ordinary words, so each brand can narrow what a *bare* name (no @
or #) means: ``exclude`` phrases ("orange juice"), ``require_any`` context terms (the name
counts only next to one of them), or ``match = "handles"`` (only @handles and #hashtags count:
Free, Apple). Names and aliases ignore punctuation and spaces between their words (Coca-Cola,
coca cola, CocaCola), and nothing inside an e-mail address or a URL is a mention.

Masking replaces brand names with a neutral placeholder before scoring, because VADER reads
"@united" (+1.8), "Free" (+2.3) or "Best Buy" (+3.2) as sentiment words and would lend every
mention of such brands its name's sentiment.

>>> m = BrandMatcher([Brand("Acme", aliases=("Acme Corp",), handles=("@AcmeHelp",)),
...                   Brand("Lavéria", hashtags=("#laveriafail",))])
>>> m.match("@AcmeHelp why is LAVERIA down? #LaveriaFail acmeville")
['Acme', 'Lavéria']
>>> m.mask("I love @United and Acme Corp", extra_names=["United"])
'I love @brand and brand'
>>> orange = BrandMatcher([Brand("Orange", exclude=("orange juice",))])
>>> orange.match("I love orange juice"), orange.match("Orange juice and Orange 4G down")
([], ['Orange'])
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
    parts = list(map(_norm_char_cached, text))
    normalized = "".join(parts)
    # as long as the text and no character vanished: then every character gave exactly one
    if len(normalized) == len(text) and "" not in parts:
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


MATCH_MODES = ("text", "handles")


@dataclass(frozen=True)
class Brand:
    """A watched brand: its canonical name (Prometheus label, Kafka key), the other ways
    people write it, what a bare name must not or must be next to, its languages, and the
    brand's own accounts (whose posts are responses, never complaints).

    >>> Brand.from_dict({"name": "Acme", "handles": ["acme"], "hashtags": "#acmefail"}).hashtags
    ('#acmefail',)
    >>> Brand.from_dict({"handles": ["@acme"]})
    Traceback (most recent call last):
    ...
    ValueError: brand is missing 'name' (a non-empty string)
    >>> Brand.from_dict({"name": "Free", "match": "hashtags"})
    Traceback (most recent call last):
    ...
    ValueError: brand 'Free': 'match' must be one of text, handles, got 'hashtags'
    """

    name: str
    aliases: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en", "fr")
    exclude: tuple[str, ...] = ()  # phrases in which a bare name is not the brand ("orange juice")
    require_any: tuple[str, ...] = ()  # a bare name counts only if one of these is in the text
    match: str = "text"  # "handles": only @handles, #hashtags, @name and #name count
    own_handles: tuple[str, ...] = ()  # the brand's own accounts: their posts are responses
    own_author_ids: tuple[str, ...] = ()

    _KEYS = ("name", "aliases", "handles", "hashtags", "languages", "exclude", "require_any", "match",
             "own_handles", "own_author_ids")

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
        kwargs: dict[str, Any] = {
            k: _tuple_of_str(d, k) for k in ("aliases", "handles", "hashtags", "exclude", "require_any", "own_handles")
        }
        if "languages" in d:
            kwargs["languages"] = tuple(v.lower() for v in _tuple_of_str(d, "languages"))
            if not kwargs["languages"]:
                raise ValueError(f"brand {name!r}: 'languages' must not be empty")
        ids = d.get("own_author_ids", ())
        if isinstance(ids, (str, int)) and not isinstance(ids, bool):
            ids = (ids,)
        if not isinstance(ids, (list, tuple)) or not all(
                isinstance(v, (str, int)) and not isinstance(v, bool) and str(v).strip() for v in ids):
            raise ValueError(f"brand {name!r}: 'own_author_ids' must be a list of non-empty strings or integers, got {ids!r}")
        kwargs["own_author_ids"] = tuple(str(v).strip() for v in ids)
        mode = d.get("match", "text")
        if mode not in MATCH_MODES:
            raise ValueError(f"brand {name!r}: 'match' must be one of {', '.join(MATCH_MODES)}, got {mode!r}")
        if mode == "handles" and kwargs["require_any"]:
            raise ValueError(f"brand {name!r}: 'require_any' has no effect with match = \"handles\" "
                             "(bare names never count there); remove one of them")
        kwargs["match"] = mode
        for h in kwargs["handles"] + kwargs["hashtags"] + kwargs["own_handles"]:
            if not re.fullmatch(r"[@#]?\w+", h):
                raise ValueError(f"brand {name!r}: handle/hashtag {h!r} must be one word (letters, digits, _)")
        for key in ("aliases", "exclude", "require_any"):
            for term in kwargs[key]:
                if not re.search(r"[^\W_]", normalize(term)):
                    raise ValueError(f"brand {name!r}: {key!r} entry {term!r} has no letter or digit")
        return cls(name=name.strip(), **kwargs)

    def terms(self) -> Iterable[tuple[str, str]]:
        """(kind, normalized body) pairs: kind is "" for names/aliases, "@" handles, "#" hashtags.
        Name bodies have ``SEP`` between their words (any punctuation or space, or none, matches)."""
        for n in (self.name, *self.aliases):
            yield "", _name_body(n)
        for h in self.handles:
            yield "@", _norm_term(h.lstrip("@"))
        for h in self.hashtags:
            yield "#", _norm_term(h.lstrip("#"))


def _norm_term(term: str) -> str:
    return " ".join(normalize(term).replace("’", "'").split())


# Between the words of a name: any of these, or nothing ("Coca-Cola", "coca cola", "CocaCola").
_SEP_CHARS = r"\s\-_.·'’&+/"
_SEP_SPLIT = re.compile(f"[{_SEP_CHARS}]+")
SEP = "\x00"  # marks a word break inside a name body (never in normalized text)


def _name_body(term: str) -> str:
    """A name or phrase normalized, its words joined by ``SEP``.

    >>> [_name_body(t).replace(SEP, "|") for t in ("Coca-Cola", "  Best Buy ", "AT&T", "Lavéria")]
    ['coca|cola', 'best|buy', 'at|t', 'laveria']
    """
    return SEP.join(p for p in _SEP_SPLIT.split(normalize(term)) if p)


@lru_cache(maxsize=65_536)
def _name_key(text: str) -> str:
    """What two spellings of one name share: normalized, separators dropped.

    Cached (the 65,536 most recent texts; keyed on the text alone, all it depends on): the
    matcher looks up the key of every brand occurrence of every mention, twice.

    >>> {_name_key(t) for t in ("Coca-Cola", "coca cola", "CocaCola", "COCA_COLA", "coca\u00a0cola")}
    {'cocacola'}
    """
    return _SEP_SPLIT.sub("", normalize(text).replace(SEP, ""))


def _term_regex(term: str) -> str:
    """A normalized term as a regex: ``SEP`` matches any run of separators or none, any run of
    spaces matches any whitespace, either apostrophe."""
    out = []
    for ch in term:
        if ch == SEP:
            out.append(f"[{_SEP_CHARS}]*")
        elif ch == " ":
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


# Spans where a brand name is not a mention: URLs and e-mail addresses (support@acme.com).
_URLS = re.compile(r"(?:https?://|www\.)\S+")
_EMAILS = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_EMAIL_HINT = re.compile(r"\w@\w")


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Which brands a text names (``brands``, config order), and which it names only in ways
    their rules refuse (``refused``: excluded phrase, missing context, bare name of a
    handles-only brand), so that a declared brand can be refused too."""

    brands: tuple[str, ...]
    refused: tuple[str, ...] = ()


class BrandMatcher:
    """Finds configured brands in text, applies each brand's rules, and masks brand names.

    Built once from the configuration; ``match`` and ``mask`` are one regex pass over the
    normalized text, however many brands are configured (exclusions and context are looked
    for only when a brand that has them was found bare).

    >>> m = BrandMatcher([Brand("Free", match="handles"), Brand("Orange", handles=("@orange_fr",))])
    >>> m.match("Ma box FREE est en panne, je passe chez @Orange_FR"), m.match("#Free en panne")
    (['Orange'], ['Free'])
    >>> m.canonical("ORANGE"), m.canonical("@orange_fr"), m.canonical("SFR")
    ('Orange', 'Orange', None)
    """

    def __init__(self, brands: Sequence[Brand]):
        self.brands: dict[str, Brand] = {}
        self._order: dict[str, int] = {}
        # ("", name key) -> owners of a name/alias (matches bare or with @/#);
        # ("@", handle) and ("#", hashtag) -> owners of a configured handle/hashtag
        self._lookup: dict[tuple[str, str], list[str]] = {}
        self._exclude: dict[str, re.Pattern] = {}
        self._context: dict[str, re.Pattern] = {}
        self._own_handles: dict[str, list[str]] = {}
        self._own_ids: dict[str, list[str]] = {}
        bodies = set()
        for brand in brands:
            if brand.name in self.brands:
                raise ValueError(f"brand {brand.name!r} is configured twice")
            self.brands[brand.name] = brand
            self._order[brand.name] = len(self._order)
            for kind, body in brand.terms():
                bodies.add(body)
                key = (kind, _name_key(body) if kind == "" else body)
                owners = self._lookup.setdefault(key, [])
                if brand.name not in owners:
                    owners.append(brand.name)
            if brand.exclude:
                self._exclude[brand.name] = _compile(_name_body(t) for t in brand.exclude)
            if brand.require_any:
                self._context[brand.name] = _compile(_name_body(t) for t in brand.require_any)
            for h in brand.own_handles:
                self._own_handles.setdefault(_norm_term(h.lstrip("@")), []).append(brand.name)
            for i in brand.own_author_ids:
                self._own_ids.setdefault(i, []).append(brand.name)
        self._pattern = _compile(bodies)

    def _owners(self, prefix: str, body: str) -> list[str]:
        found = self._lookup.get(("", _name_key(body)), [])
        if prefix:
            found = found + self._lookup.get((prefix, body), [])
        return found

    def match(self, text: str) -> list[str]:
        """Canonical names of the configured brands mentioned in ``text``, in config order.

        >>> BrandMatcher([Brand("Acme"), Brand("Globex")]).match("globex > ACME, says acme")
        ['Acme', 'Globex']
        """
        return list(self.match_detail(text).brands)

    def match_detail(self, text: str) -> MatchResult:
        """``match`` with the brands the text names only in ways their rules refuse.

        >>> m = BrandMatcher([Brand("Orange", exclude=("orange juice",)), Brand("Acme")])
        >>> m.match_detail("orange juice, mail support@acme.com")
        MatchResult(brands=(), refused=('Orange',))
        """
        if self._pattern is None or not text:
            return MatchResult(())
        normalized = normalize(text)
        return self._detail(normalized, list(self._pattern.finditer(normalized)))

    def match_and_mask(self, text: str, extra_names: Sequence[str] = ()) -> tuple[MatchResult, str]:
        """``match_detail(text)`` and ``mask(text, extra_names)`` in one pass (the ingest path).

        >>> BrandMatcher([Brand("Acme")]).match_and_mask("ACME is down")
        (MatchResult(brands=('Acme',), refused=()), 'brand is down')
        """
        if not text:
            return MatchResult(()), text
        normalized = normalize(text)
        found = list(self._pattern.finditer(normalized)) if self._pattern is not None else []
        return self._detail(normalized, found), self._mask(text, normalized, found, extra_names)

    def _detail(self, normalized: str, found: list[re.Match]) -> MatchResult:
        skip = []
        if "http" in normalized or "www." in normalized:
            skip += [mm.span() for mm in _URLS.finditer(normalized)]
        if "@" in normalized and _EMAIL_HINT.search(normalized):
            skip += [mm.span() for mm in _EMAILS.finditer(normalized)]
        tagged: set[str] = set()
        bare: dict[str, list[tuple[int, int]]] = {}
        for m in found:
            if skip and any(s <= m.start() < e for s, e in skip):
                continue
            owners = self._owners(m.group(1), m.group(2))
            if m.group(1):
                tagged.update(owners)
            else:
                for name in owners:
                    bare.setdefault(name, []).append(m.span(2))
        if not tagged and not bare:
            return MatchResult(())
        found_brands = set(tagged)
        refused = set()
        for name, spans in bare.items():
            if name in found_brands:
                continue
            if self._bare_counts(name, spans, normalized):
                found_brands.add(name)
            else:
                refused.add(name)
        key = self._order.__getitem__
        return MatchResult(tuple(sorted(found_brands, key=key)), tuple(sorted(refused, key=key)))

    def _bare_counts(self, name: str, spans: list[tuple[int, int]], normalized: str) -> bool:
        """Whether bare occurrences of ``name`` at ``spans`` make a mention, by its rules."""
        brand = self.brands[name]
        if brand.match == "handles":
            return False
        excl = self._exclude.get(name)
        if excl is not None:
            excluded = [m.span() for m in excl.finditer(normalized)]
            spans = [(s, e) for s, e in spans if not any(xs <= s and e <= xe for xs, xe in excluded)]
            if not spans:
                return False
        ctx = self._context.get(name)
        if ctx is not None:
            for m in ctx.finditer(normalized):
                cs, ce = m.span(2)
                if not any(s <= cs and ce <= e for s, e in spans):  # the name is not its own context
                    return True
            return False
        return True

    def own_brands(self, author_id: str | None, author_name: str | None) -> list[str]:
        """The brands whose own account (``own_author_ids`` or ``own_handles``) wrote a post.

        >>> m = BrandMatcher([Brand("Orange", own_handles=("@Orange_France",), own_author_ids=("42",))])
        >>> m.own_brands(None, "orange_france"), m.own_brands("42", None), m.own_brands("7", "@bob")
        (['Orange'], ['Orange'], [])
        """
        found: list[str] = []
        if author_id and author_id in self._own_ids:
            found += self._own_ids[author_id]
        if author_name:
            found += self._own_handles.get(_norm_term(author_name.strip().lstrip("@")), [])
        return sorted(set(found), key=self._order.__getitem__)

    def languages_of(self, brands: Iterable[str]) -> tuple[str, ...]:
        """The configured languages of ``brands``, first brand first, without repeats."""
        out: list[str] = []
        for name in brands:
            for lang in self.brands[name].languages:
                if lang not in out:
                    out.append(lang)
        return tuple(out)

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

        >>> BrandMatcher([]).mask("Best Buy is the best, #BestBuy", extra_names=["Best Buy"])
        'brand is the best, #brand'
        """
        if not text:
            return text
        normalized = normalize(text)
        found = list(self._pattern.finditer(normalized)) if self._pattern is not None else []
        return self._mask(text, normalized, found, extra_names)

    def _mask(self, text: str, normalized: str, found: list[re.Match], extra_names: Sequence[str]) -> str:
        found = [m for m in found if self._owners(m.group(1), m.group(2))]  # not "acmefail" bare
        extra = tuple(sorted({_name_body(n.lstrip("@#")) for n in extra_names if n and _name_key(n)}))
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
