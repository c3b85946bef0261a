"""Who is talking: a flood from a handful of accounts or one text pasted by throwaway accounts
is a spam/troll episode, not a bad buzz.

The agencies' rule is to answer legitimate criticism and to remove only insults, spam and
trolls: one account posting the same complaint 300 times is one unhappy (or hostile) person,
not 300. So the detector counts *people*, and what is left over is reported on its own:

* **repeats**: posts beyond each author's first in the interval (``mentions -
  distinct_authors``): from ``spam_min_posts`` of them, a single-source flood, whose authors
  (``top_posters``) then do not count at all: a troll posting every minute is one person
  over the whole episode, not one per minute;
* **copies**: posts whose normalised text was already seen in the interval
  (``duplicate_texts``), counted as spam only when they are most of the interval
  (``spam_copy_share``) *and* come from accounts with far fewer followers than the brand's usual
  audience (``spam_low_reach``): a copy-paste campaign by new accounts. Many real people
  retweeting an angry post bring their usual (or bigger) audiences and stay a buzz. The
  first copy of each pasted text goes too, and once a campaign is reported every copy of its
  texts (``top_copies``) is spam until it ends, unless the posters of a text are known to
  have a real audience (``copy_reach``): a slogan taken up by people while a campaign runs;
* **pasted texts**: when the followers of each copied text's own posts are known
  (``copy_reach``), a text pasted ``spam_copy_min`` times or more whose posters have far fewer
  followers than the brand's usual audience (``spam_low_reach``) is spam whatever the rest of
  the interval: a campaign of 10 copies a minute on a brand with 8 ordinary posts a minute is
  neither most of the interval nor visible in the interval's mean reach, and was alerted as a
  bad buzz before. The slogan of real people is judged on its own posters too, and stays a buzz.

Spam is taken from the negative count first (a flood that is not negative is not a bad buzz
either way). When authors are unknown (counts files: ``distinct_authors == 0``) nothing is
removed.

>>> from buzzwatch.stages.summary import MinuteSummary
>>> flood = MinuteSummary("acme", 0, 40, negative=32, neutral=8, distinct_authors=11, duplicate_texts=29, reach=700)
>>> split(flood, usual_reach_per_mention=100.0)
Split(mentions=10, negative=2, scored=10, spam=30, kind='flood')
>>> slogan = MinuteSummary("acme", 0, 40, negative=32, neutral=8, distinct_authors=40, duplicate_texts=30, reach=5000)
>>> split(slogan, usual_reach_per_mention=100.0).spam  # 40 people repeating a slogan: a buzz
0
>>> diluted = MinuteSummary("acme", 0, 20, negative=11, neutral=9, distinct_authors=20, duplicate_texts=9, reach=2500,
...                         top_copies=(("scam!!", 10),), copy_reach=(("scam!!", 50),))
>>> split(diluted, usual_reach_per_mention=100.0)  # 10 pasted copies from 5-follower accounts
Split(mentions=10, negative=1, scored=10, spam=10, kind='copy')
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from buzzwatch.stages.summary import MinuteSummary


@dataclass(frozen=True)
class SpamParams:
    spam_copy_share: float = 0.5  # copies are suspect when they are at least this share of the interval ...
    spam_low_reach: float = 0.5  # ... and the interval's followers per post are below this x usual
    spam_min_posts: int = 2  # an interval with this many repeated posts by the same authors holds a flood
    spam_copy_min: int = 3  # a text pasted this many times by low-reach accounts is spam (``copy_reach``)
    spam_report_posts: int = 20  # a spam/troll episode is reported from this many spam posts in 10 minutes ...
    spam_report_share: float = 0.3  # ... making at least this share of all posts of those minutes
    spam_quiet_minutes: int = 30  # ... and ends after this long without spam


@dataclass(frozen=True)
class Split:
    """An interval's organic counts (people) and the spam taken out."""

    mentions: int
    negative: int
    scored: int
    spam: int
    kind: str | None  # "flood" (few accounts) | "copy" (one text, many low-reach accounts) | None


def split(s: MinuteSummary, usual_reach_per_mention: float, p: SpamParams = SpamParams(),
          known_texts: tuple[str, ...] = ()) -> Split:
    """Organic counts of one interval and the spam removed from it; see the module docstring.

    ``known_texts`` are the texts of the spam episode under way: their copies are spam
    whatever the interval's reach (a campaign does not become a buzz on a quieter minute).
    """
    if s.distinct_authors <= 0 or s.mentions <= 0:
        return Split(s.mentions, s.negative, s.scored, 0, None)
    repeats = max(0, s.mentions - s.distinct_authors)
    flood = 0
    if repeats >= p.spam_min_posts:  # a flood: its authors do not count at all, not even once
        flood = repeats + max(1, len(s.top_posters))
    copies = 0
    if (s.duplicate_texts >= max(1, p.spam_copy_share * s.mentions) and usual_reach_per_mention > 0
            and s.reach < p.spam_low_reach * usual_reach_per_mention * s.mentions):
        copies = s.duplicate_texts + max(1, len(s.top_copies))  # the pasted texts' first copies too
    copies = max(copies, pasted_copies(s, usual_reach_per_mention, p))
    if known_texts:
        real = _posted_by_real_audiences(s, usual_reach_per_mention, p)
        copies = max(copies, sum(n for text, n in s.top_copies if text in known_texts and text not in real))
    spam = min(max(flood, copies), s.mentions)
    if not spam:
        return Split(s.mentions, s.negative, s.scored, 0, None)
    kind = "flood" if flood >= copies else "copy"
    negative = max(0, s.negative - spam)
    scored = max(negative, s.scored - spam)
    return Split(s.mentions - spam, negative, scored, spam, kind)


def pasted_copies(s: MinuteSummary, usual_reach_per_mention: float, p: SpamParams = SpamParams()) -> int:
    """Copies of texts pasted by low-reach accounts, each text judged by its own posters' followers.

    >>> s = MinuteSummary("acme", 0, 30, distinct_authors=30, top_copies=(("scam!!", 8), ("#Boycott", 12), ("hi", 2)),
    ...                   copy_reach=(("scam!!", 40), ("#Boycott", 3000), ("hi", 0)))
    >>> pasted_copies(s, 100.0)  # the 8 copies of "scam!!"; the slogan's posters have a real audience
    8
    """
    if usual_reach_per_mention <= 0 or not s.copy_reach:
        return 0
    reach = dict(s.copy_reach)
    low = p.spam_low_reach * usual_reach_per_mention
    return sum(n for text, n in s.top_copies if n >= p.spam_copy_min and text in reach and reach[text] < low * n)


def _posted_by_real_audiences(s: MinuteSummary, usual_reach_per_mention: float, p: SpamParams) -> set[str]:
    """Copied texts whose own posters have the brand's usual audience or more: people, even if
    an episode under way recorded the text (a slogan taken up while a campaign runs)."""
    if usual_reach_per_mention <= 0:
        return set()
    low = p.spam_low_reach * usual_reach_per_mention
    return {text for text, n in s.top_copies for t, r in s.copy_reach if t == text and r >= low * n}


def organic(s: MinuteSummary, out: Split) -> MinuteSummary:
    """The interval as the detector's evidence should see it: organic counts, and no worst posts
    written by the flooding accounts or carrying the pasted texts.

    >>> from buzzwatch.stages.summary import TopPost
    >>> s = MinuteSummary("acme", 0, 40, negative=32, neutral=8, distinct_authors=11, duplicate_texts=29,
    ...                   top_posters=(("@bot", 30),), top_negative=(TopPost("1", "scam", -0.9, 0, None, "@bot"),
    ...                                                             TopPost("2", "my refund?", -0.5, 0, None, "ann")))
    >>> o = organic(s, split(s, 100.0))
    >>> o.mentions, o.negative, [p.author for p in o.top_negative]
    (10, 2, ['ann'])
    """
    if not out.spam:
        return s
    authors = {a for a, _ in s.top_posters}
    texts = {t for t, _ in s.top_copies}
    posts = tuple(p for p in s.top_negative if p.author not in authors and p.text not in texts)
    positive = min(s.positive, out.scored - out.negative)
    return replace(s, mentions=out.mentions, negative=out.negative, positive=positive,
                   neutral=out.scored - out.negative - positive, unscored=out.mentions - out.scored,
                   top_negative=posts)


def top_accounts(s: MinuteSummary) -> list[tuple[str, int]]:
    """The accounts behind an interval's posts, most prolific first (``top_posters``, else the
    authors of several of the worst negative posts: a lower bound of their posts)."""
    if s.top_posters:
        return [(a, int(n)) for a, n in s.top_posters]
    counts: dict[str, int] = {}
    for post in s.top_negative:
        if post.author:
            counts[post.author] = counts.get(post.author, 0) + 1
    return sorted(((a, n) for a, n in counts.items() if n >= 2), key=lambda kv: (-kv[1], kv[0]))


@dataclass(frozen=True)
class SpamEpisode:
    """A running spam/troll episode (small, JSON-friendly): accounts and texts kept bounded."""

    id: str
    start_ms: int
    posts: int
    kind: str
    last_ms: int
    accounts: dict
    texts: tuple = ()

    def add(self, s: MinuteSummary, spam: int, kind: str | None) -> "SpamEpisode":
        accounts = dict(self.accounts)
        for a, n in top_accounts(s):
            accounts[a] = accounts.get(a, 0) + n
        accounts = dict(sorted(accounts.items(), key=lambda kv: (-kv[1], kv[0]))[:5])
        texts = list(self.texts)
        for text, _n in s.top_copies:
            if text not in texts:
                texts.append(text)
        if not s.top_copies:
            for post in s.top_negative:
                if post.text not in texts:
                    texts.append(post.text)
        return SpamEpisode(self.id, self.start_ms, self.posts + spam, kind or self.kind,
                           s.end_ms if spam else self.last_ms, accounts, tuple(texts[:3]))

    def report(self) -> dict:
        return {"kind": self.kind, "spam_posts": self.posts,
                "top_accounts": [{"author": a, "posts": n} for a, n in self.accounts.items()],
                "sample_texts": list(self.texts)}

    def to_dict(self) -> dict:
        return {"id": self.id, "s": self.start_ms, "n": self.posts, "k": self.kind, "l": self.last_ms,
                "a": self.accounts, "t": list(self.texts)}

    @classmethod
    def from_dict(cls, d: dict | None) -> "SpamEpisode | None":
        if not d:
            return None
        return cls(d["id"], d["s"], d["n"], d["k"], d["l"], dict(d["a"]), tuple(d["t"]))
