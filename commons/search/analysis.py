"""How text becomes indexed words, the same for documents and queries.

One analysis serves French and English: accents and ligatures folded (``œ`` → ``oe``,
by :func:`commons.text.fold`, as slugs are), elisions split (``l'économie``), stop
words of both languages dropped, then a light stemmer that only removes plural and
feminine endings, so "ateliers" finds "atelier" and "économie" finds "economy" without
the false friends of a full stemmer. The whole analysis of a word is one cached step,
applied by :class:`WordTokenizer`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from whoosh.analysis import Token, Tokenizer

from ..text import fold

ELISION = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu)['’](?=\w)")

# Function words only: content words that happen to be verb forms ("été", "avions")
# stay searchable.
_STOP_WORDS_FR = """
a à au aux avec ce ces cet cette ceci cela ça c d dans de des du elle elles en et eux
il ils je j l la le les leur leurs lui m ma mais me mes moi mon n ne ni nos notre nous
on ou où par pas pour qu que quel quelle quels quelles qui s sa sans sauf se ses si son
sur t ta te tes toi ton tu un une vos votre vous y est sont être ont été dont via chez
"""
_STOP_WORDS_EN = """
a an and are as at be been but by can do does for from had has have he her his i if
in into is it its me my no nor not of on or our she so such than that the their them
then there these they this those to too us was we were what when where which while
who whom why will with you your
"""


STOP_WORDS = frozenset(fold(word) for word in (_STOP_WORDS_FR + _STOP_WORDS_EN).split())


def light_stem(word: str) -> str:
    """Remove French and English plural and feminine endings from a folded word.

    Deliberately light: "ateliers" → "atelier", "locales"/"locaux" → "local",
    "communities"/"community" → "communiti", "économie"/"economy" → "economi".
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    plural_x = word.endswith(("eaux", "eux", "oux"))
    plural_s = word.endswith("s") and not word.endswith(("ss", "us"))
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("aux") and not plural_x:
        word = word[:-3] + "al"
    elif plural_x or plural_s:
        word = word[:-1]
    if word.endswith("ee"):
        word = word[:-1]
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    if word.endswith("y") and len(word) > 3:
        word = word[:-1] + "i"
    return word


WORD_RE = re.compile(r"\w+(?:['’]\w+)*")


@functools.lru_cache(maxsize=200_000)
def analyse_word(word: str, stem: bool = True) -> str | None:
    """What one word is indexed as, or None for a stop word.

    Folded, French elision split off ("l'économie" → "economie"), English "'s" dropped,
    then (with ``stem``) lightly stemmed. Words recur, hence the cache.
    """
    text = fold(word)
    match = ELISION.match(text)
    if match:
        text = text[match.end() :]
    if text.endswith("'s"):
        text = text[:-2]
    if len(text) < 2 or text in STOP_WORDS:
        return None
    return light_stem(text) if stem else text


def analyse(text: str, stem: bool = True) -> list[str]:
    """The indexed words of ``text``, in order."""
    words = (analyse_word(match.group(), stem) for match in WORD_RE.finditer(text))
    return [word for word in words if word]


_last_split: tuple[str, list[str]] = ("", [])


def _words(text: str) -> list[str]:
    """The words of ``text``; the last text is remembered, as each page's text is
    indexed in several fields one after the other."""
    global _last_split  # noqa: PLW0603 - a one-entry cache, replaced whole (thread-safe)
    last = _last_split
    if last[0] is not text:
        last = _last_split = (text, WORD_RE.findall(text))
    return last[1]


class WordTokenizer(Tokenizer):
    """Whoosh tokenizer applying :func:`analyse_word` to each word of a text.

    Words with inner apostrophes stay whole so elisions can be recognised; hyphens split
    ("tiers-lieu" is the phrase "tiers lieu"). Doing the whole analysis in one cached
    step per word, rather than a chain of filters, makes indexing several times faster.
    """

    def __init__(self, stem: bool = True, pairs: bool = False) -> None:
        self.stem = stem
        self.pairs = pairs

    def __call__(  # noqa: PLR0913 - Whoosh's tokenizer signature
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if chars:
            spans = [(m.group(), m.start(), m.end()) for m in WORD_RE.finditer(value)]
        else:
            spans = [(word, 0, 0) for word in _words(value)] if tokenize else [(value, 0, 0)]
        position = start_pos
        previous = None
        for raw, start, end in spans:
            word = analyse_word(raw, self.stem)
            if not word:
                continue
            if self.pairs:
                previous, word = word, previous and pair(previous, word)
                if not word:
                    continue
            token.text = word
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = raw
            if positions:
                token.pos = position
                position += 1
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


def pair(first: str, second: str) -> str:
    """The term of two consecutive words in the ``pairs`` fields."""
    return f"{first} {second}"
