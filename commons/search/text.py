"""Markdown as plain words, for indexing; extracts of it with the query's words marked."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from .. import render
from .analysis import analyse_word

SNIPPET_CHARS = 220


# Every pattern runs in time linear in the body, whatever it holds: a class that stops
# a construct's text also stops at the bracket that would open another (so no two tries
# scan the same characters), whitespace never crosses a line where a pattern is anchored
# to lines, and runs that could be split in several ways are taken whole (``*+``).
_SPACE = r"[^\S\n]"
_EDGE = rf"{_SPACE}*+(?:\|{_SPACE}*+)?"
_DASHES = r":?-{3,}+"
_MARKDOWN = [
    (re.compile(rf"^{_SPACE}*(?:```|~~~).*$", re.M), " "),
    (re.compile(r"!\[([^\[\]]*)\]\([^)\]]*\)"), r"\1"),
    (re.compile(r"\[\[[^\[\]|]*\|([^\[\]]*)\]\]"), r"\1"),
    (re.compile(r"\[\[([^\[\]]*)\]\]"), r"\1"),
    (re.compile(r"\[([^\[\]]*)\]\([^)\]]*\)"), r"\1"),
    # What a cut through a link leaves.
    (re.compile(r"\]\(\S*|[\[\]]"), " "),
    (re.compile(r"<[^<>]*>"), " "),
    # Table rules and thematic breaks: runs of at least three dashes, between them at
    # most a colon, a pipe and a colon.
    (
        re.compile(rf"^{_EDGE}{_DASHES}(?::?+{_EDGE}{_DASHES})*+:?{_EDGE}$", re.M),
        " ",
    ),
    (re.compile(r"^\s{0,3}(#{1,6}|>|[-*+]|\d+[.)])\s+", re.M), ""),
    (re.compile(r"[*_`|~#]+"), " "),
    (re.compile(r"\s+"), " "),
    # What removing markup left before a full stop or a comma.
    (re.compile(r" ([.,)])"), r"\1"),
]


def plain_text(body: str) -> str:
    """The readable words of a Markdown body, for indexing and snippets."""
    for pattern, replacement in _MARKDOWN:
        body = pattern.sub(replacement, body)
    return body.strip()


def captions_in(body: str) -> dict[str, list[str]]:
    """The captions a Markdown ``body`` gives the media it shows: {name: [caption]}.

    Media shown without a caption are left out: they add no words to search.
    """
    found: dict[str, list[str]] = {}
    for name, caption in render.media_references(body):
        text = plain_text(caption)
        if text and text not in found.get(name, ()):
            found.setdefault(name, []).append(text)
    return found


_ACCENTED = {
    "a": "aàâäáã",
    "c": "cç",
    "e": "eéèêë",
    "i": "iîïíì",
    "n": "nñ",
    "o": "oôöóò",
    "u": "uùûüú",
    "y": "yÿ",
}


class Highlighter:
    """Finds the words of a text that the analyser makes into one of ``terms``.

    Analysing every word of every hit would cost more than the search: a regular
    expression first picks the words starting like a term (whatever their accents),
    and only those are analysed.
    """

    def __init__(self, terms: set[str]) -> None:
        self.terms = terms
        # A stem is a prefix of its words once its last letter is dropped ("economi" of
        # "economy"); "oe" may have been written "œ".
        prefixes = sorted({term[:-1] if len(term) > 3 else term for term in terms}, reverse=True)
        alternatives = [
            "".join(f"[{_ACCENTED[c]}]" if c in _ACCENTED else re.escape(c) for c in prefix)
            .replace("[oôöóò][eéèêë]", "(?:[oôöóò][eéèêë]|œ)")
            .replace("[aàâäáã][eéèêë]", "(?:[aàâäáã][eéèêë]|æ)")
            for prefix in prefixes
        ]
        self.pattern = (
            re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")\w*", re.IGNORECASE)
            if alternatives
            else None
        )

    def matches(self, text: str, limit: int = 8) -> list[re.Match[str]]:
        """The first words of ``text`` standing for one of the terms."""
        found: list[re.Match[str]] = []
        if self.pattern is None:
            return found
        for match in self.pattern.finditer(text):
            if analyse_word(match.group()) in self.terms:
                found.append(match)
                if len(found) >= limit:
                    break
        return found


def _window(text: str, matches: list[re.Match[str]]) -> tuple[int, int]:
    """The stretch of ``text`` (start, end) showing the most different matched words."""
    keys = [analyse_word(match.group()) for match in matches]
    best = (-1, 0, 0)
    for index, anchor in enumerate(matches):
        start = max(0, anchor.start() - 60)
        if start:
            start = text.find(" ", start, anchor.start()) + 1 or anchor.start()
        end = min(len(text), start + SNIPPET_CHARS)
        if end < len(text) and " " in text[anchor.end() : end]:
            end = text.rfind(" ", anchor.end(), end)
        following = zip(matches[index:], keys[index:], strict=True)
        shown = {key for match, key in following if match.end() <= end}
        if len(shown) > best[0]:
            best = (len(shown), start, end)
    return best[1], best[2]


def snippet(body: str, terms: set[str] | Highlighter) -> Markup:
    """A short extract of a Markdown ``body`` around the words of ``terms``.

    Plain text, HTML-escaped, with those words in ``<mark>``.
    """
    highlighter = terms if isinstance(terms, Highlighter) else Highlighter(terms)
    # Find the words in the Markdown, then turn only that stretch into text: far cheaper
    # than converting a whole page for a few lines of it.
    raw = highlighter.matches(body)
    if raw:
        start, end = _window(body, raw)
        begin = max(0, start - SNIPPET_CHARS)
        piece = body[begin : end + SNIPPET_CHARS]
    else:
        begin, piece = 0, body[: SNIPPET_CHARS * 4]
    before, after = begin > 0, begin + len(piece) < len(body)
    text = plain_text(piece)
    matches = highlighter.matches(text)
    if matches:
        start, end = _window(text, matches)
    else:
        start, end = 0, len(text)
        if end > SNIPPET_CHARS:
            end = text.rfind(" ", 0, SNIPPET_CHARS) + 1 or SNIPPET_CHARS
    parts = [Markup("… ") if before or start else Markup("")]
    position = start
    for match in matches:
        if match.start() < position or match.end() > end:
            continue
        parts.append(escape(text[position : match.start()]))
        parts.append(Markup("<mark>%s</mark>") % match.group())
        position = match.end()
    parts.append(escape(text[position:end].rstrip()))
    if after or end < len(text):
        parts.append(Markup(" …"))
    return Markup("").join(parts)
