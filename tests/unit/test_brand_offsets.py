"""The normalized text brand matching reads maps back to the original characters, whatever
each character normalizes to (one character, several: "ß", "ﬁ", none: a combining mark)."""

from __future__ import annotations

import pytest

from buzzwatch.text.brands import _norm_char, _normalize_with_offsets


def _reference(text: str):
    """The mapping as first written: identity only when every character gives exactly one."""
    if text.isascii():
        return text.lower(), None, None
    parts = [_norm_char(c) for c in text]
    normalized = "".join(parts)
    if len(normalized) == len(text) and all(len(p) == 1 for p in parts):
        return normalized, None, None
    ends, total = [], 0
    for p in parts:
        total += len(p)
        ends.append(total)
    return normalized, ends, parts


@pytest.mark.parametrize("text", [
    "Lavéria", "Straße ÉTÉ", "e\u0301te\u0301", "ﬁle ß", "ß\u0301", "ǅ\u0301", "Acme 😡😡😡 👍🏽",
    "l’avion", "ÀÉÎÕÜ", "\u0301\u0301ab", "ßß\u0301\u0301", "İstanbul", "日本語", "ŉ\u0301x",
])
def test_offsets_as_first_written(text):
    assert _normalize_with_offsets(text) == _reference(text)
