"""The ingest stage's per-mention work: match brands, route language, mask, score, extract terms.

This is all the CPU-heavy work of the pipeline and it runs on the raw topic's partitions, so
it spreads evenly whatever brand is in crisis (DESIGN.md, two stages). It is the same function
for the Faust ingest agent, ``buzzwatch sentiment``, ``buzzwatch backtest`` and replays.

Brand names are masked before scoring: "@united", "Orange", "Free" or "Best Buy" would
otherwise lend their own sentiment to every mention. The mention's own ``brand`` value is
masked too, even when that brand is not configured.

A post written by one of a brand's own accounts (``own_handles``, ``own_author_ids``) always
counts for that brand, flagged ``from_brand``: it is the brand's response, never a complaint,
however apologetic ("Nous sommes désolés pour la panne") its wording.

Short posts ("Acme fail", "Orange nul", "Acme 😡😡😡") are routed to the languages of the
brands they name (``[[brands]].languages``) rather than to a guess of the n-gram model, which
has nothing to go on in two words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from buzzwatch.hashing import hash63

from buzzwatch.text.brands import PLACEHOLDER, BrandMatcher, MatchResult
from buzzwatch.config import CoreConfig
from buzzwatch.text.language import normalize_lang, route_language
from buzzwatch.contract.mention import Mention
from buzzwatch.contract.scored import ScoredMention
from buzzwatch.text.sentiment import Sentiment, SentimentScorer
from buzzwatch.text.terms import terms_and_fingerprint


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the ingest stage learnt of one accepted mention."""

    sentiment: Sentiment
    brands: tuple[str, ...]  # configured brands it counts for (empty: unmatched)
    from_brands: tuple[str, ...] = ()  # those of them whose own account wrote it (responses)


_PLACEHOLDERS = re.compile(rf"(?<!\w)[@#]?{PLACEHOLDER}(?!\w)")


def _author_key(author_id: str | None, author_name: str | None) -> int:
    who = author_id or author_name
    if not who:
        return 0
    return hash63(who)


class MentionAnalyzer:
    """Turns validated mentions into scored, per-brand records."""

    def __init__(self, config: CoreConfig):
        self.config = config
        self.matcher = BrandMatcher(config.brands)
        self.scorer = SentimentScorer(
            lang_thresholds={lang: tuple(pair) for lang, pair in config.pipeline.sentiment_thresholds.items()},
        )
        self._configured = set(config.brand_names)
        self._evidence_chars = config.pipeline.evidence_text_chars
        self._vocabularies = self.scorer.vocabularies()
        self._has_own_accounts = any(b.own_handles or b.own_author_ids for b in config.brands)

    def brands_of(self, m: Mention, detail: MatchResult | None = None,
                  own: list[str] | None = None) -> tuple[str, ...]:
        """Configured brands a mention counts for: every configured brand named in the text
        (fan-out, by each brand's rules), its declared brand (if configured, and unless the
        text names it only in a way its rules refuse: "orange juice"), and the brands whose
        own account wrote it (``own``: ``matcher.own_brands`` of its author, if known)."""
        if detail is None:
            detail = self.matcher.match_detail(m.text)
        found = list(detail.brands)
        declared = self.matcher.canonical(m.brand) if m.brand else None
        if declared and declared not in found and declared not in detail.refused:
            found = [declared, *found]
        if own is None:
            own = self.matcher.own_brands(m.author_id, m.author_name)
        for name in own:
            if name not in found:
                found.append(name)
        return tuple(found)

    def analyze(self, m: Mention) -> Analysis:
        detail, masked = self.matcher.match_and_mask(m.text, extra_names=(m.brand,) if m.brand else ())
        own = self.matcher.own_brands(m.author_id, m.author_name) if self._has_own_accounts else []
        brands = self.brands_of(m, detail, own)
        # a usable declared language decides alone (route_language's first rule): the text
        # is prepared for detection only when it is needed
        lang = normalize_lang(m.lang) or route_language(
            None, _PLACEHOLDERS.sub(" ", masked), self.matcher.languages_of(brands), self._vocabularies)
        return Analysis(self.scorer.score(masked, lang), brands, tuple(b for b in brands if b in own))

    def scored(self, m: Mention, analysis: Analysis, late: bool = False) -> list[ScoredMention]:
        """One compact record per brand (what travels on mentions.scored)."""
        if not analysis.brands:
            return []
        s = analysis.sentiment
        terms, fp = terms_and_fingerprint(m.text)
        akey = _author_key(m.author_id, m.author_name)
        text = m.text[: self._evidence_chars]
        return [
            ScoredMention(
                id=m.id, brand=brand, created_at_ms=m.created_at_ms, lang=s.lang,
                compound=s.compound, label=s.label, text=text, url=m.url,
                author=m.author_name or m.author_id, followers=m.followers, shares=m.shares,
                author_key=akey, fingerprint=fp, terms=terms, late=late,
                from_brand=brand in analysis.from_brands,
            )
            for brand in analysis.brands
        ]
