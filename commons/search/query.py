"""A user's query text made into a Whoosh query: cleaning, synonyms, parsing.

Also the words a query looks for, and "did you mean" for the words the index lacks.
What cannot be understood is searched as plain words, with a friendly message.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from whoosh import qparser
from whoosh import query as wq
from whoosh.fields import Schema
from whoosh.support.levenshtein import distance as edit_distance

from ..text import fold
from .analysis import ELISION, WORD_RE, analyse, analyse_word, light_stem
from .synonyms import Synonyms

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 300
MAX_QUERY_WORDS = 32
#: Longer words get no spelling suggestion: the edit-distance automaton grows with them.
MAX_WORD_CHARS = 30
_QUOTES = str.maketrans({"“": '"', "”": '"', "«": '"', "»": '"', "„": '"', "’": "'", "‘": "'"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SEGMENT = re.compile(r'"[^"]*(?:"|$)|[()]|[^\s()"]+')
_OPERATORS = {"AND": "AND", "ET": "AND", "OR": "OR", "OU": "OR", "NOT": "NOT", "SAUF": "NOT"}
# Characters the parser would read as syntax.
_SYNTAX = re.compile(r"[\^:*?\[\]{}<>~\\]")


@dataclass
class _Segment:
    kind: str  # "word", "phrase", "op", "open" or "close"
    text: str


def _segments(text: str) -> list[_Segment]:
    """Split a cleaned query into words, phrases, operators and parentheses."""
    segments: list[_Segment] = []
    for raw in _SEGMENT.findall(text):
        if raw.startswith('"'):
            inner = raw.strip('"').strip()
            if inner:
                segments.append(_Segment("phrase", inner))
        elif raw in "()":
            segments.append(_Segment("open" if raw == "(" else "close", raw))
        elif raw in _OPERATORS:
            segments.append(_Segment("op", _OPERATORS[raw]))
        else:
            word = _SYNTAX.sub(" ", raw).strip()
            if word.startswith("-") and len(word) > 1:
                segments.append(_Segment("op", "NOT"))
                word = word.lstrip("-")
            word = word.lstrip("+-")
            if word:
                segments.append(_Segment("word", word))
    if sum(s.kind == "open" for s in segments) != sum(s.kind == "close" for s in segments):
        segments = [s for s in segments if s.kind not in ("open", "close")]
    return segments


def _quoted(text: str) -> str:
    return f'"{text}"'


def _parser(schema: Schema) -> qparser.QueryParser:
    parser = qparser.QueryParser("all", schema, group=qparser.AndGroup)
    for plugin in (
        qparser.SingleQuotePlugin,
        qparser.FieldsPlugin,
        qparser.WildcardPlugin,
        qparser.RangePlugin,
        qparser.BoostPlugin,
        qparser.EveryPlugin,
    ):
        parser.remove_plugin_class(plugin)
    parser.replace_plugin(qparser.OperatorsPlugin(AndNot=None, AndMaybe=None, Require=None))
    return parser


def clean(query: str) -> tuple[str, Any]:
    """The query without control characters, shortened when too long; and a message."""
    text = " ".join(_CONTROL.sub(" ", query.translate(_QUOTES)).split())
    if len(text) <= MAX_QUERY_CHARS:
        return text, None
    cut = text[:MAX_QUERY_CHARS]
    cut = cut.rsplit(" ", 1)[0] if " " in cut else cut
    message = _l(
        "Your search was long: only its first %(count)s characters were used.",
        count=MAX_QUERY_CHARS,
    )
    return cut, message


def _expand(segments: list[_Segment], synonyms: Synonyms) -> str:
    """The query string for the parser, with synonyms added to plain words."""
    parts: list[str] = []
    index = 0
    while index < len(segments):
        segment = segments[index]
        if segment.kind != "word":
            parts.append(_quoted(segment.text) if segment.kind == "phrase" else segment.text)
            index += 1
            continue
        # A run of plain words; the word after NOT stands alone, as NOT applies to it only.
        end = index + 1
        if not (parts and parts[-1] == "NOT"):
            while end < len(segments) and segments[end].kind == "word":
                end += 1
        run = [s.text for s in segments[index:end]]
        parts.extend(_expand_run(run, [analyse(word) for word in run], synonyms))
        index = end
    return " ".join(parts)


def _expand_run(run: list[str], stems: list[list[str]], synonyms: Synonyms) -> list[str]:
    flat: list[str] = []
    starts: list[int] = []
    ends: dict[int, int] = {}
    for position, words in enumerate(stems):
        starts.append(len(flat))
        flat.extend(words)
        ends[len(flat)] = position
    parts: list[str] = []
    position = 0
    while position < len(run):
        found = synonyms.match(flat, starts[position]) if stems[position] else None
        if found:
            length, variants = found
            last = ends.get(starts[position] + length)
            if last is not None:
                typed = " ".join(run[position : last + 1])
                typed_key = tuple(flat[starts[position] : starts[position] + length])
                others = [_quoted(term) for key, term in variants.items() if key != typed_key]
                parts.append("((" + typed + ") OR " + " OR ".join(others) + ")")
                position = last + 1
                continue
        parts.append(run[position])
        position += 1
    return parts


def parse(text: str, schema: Schema, synonyms: Synonyms) -> tuple[Any, Any]:
    """A Whoosh query for the user's text (None when no word is searchable); a message."""
    segments = _segments(text)
    message = None
    if sum(s.kind in ("word", "phrase") for s in segments) > MAX_QUERY_WORDS:
        segments = [s for s in segments if s.kind in ("word", "phrase")][:MAX_QUERY_WORDS]
        message = _l("Only the first %(count)s words were used.", count=MAX_QUERY_WORDS)
    parser = _parser(schema)
    try:
        parsed = parser.parse(_expand(segments, synonyms))
    except Exception:  # noqa: BLE001 - a user's query must never break the page
        log.info("search: could not parse %r", text, exc_info=True)
        # Operators the parser could not make sense of: search the words as they are.
        parsed = parser.parse(_expand([s for s in segments if s.kind == "word"], synonyms))
        message = message or _l(
            "Some operators of your search could not be understood: its words were "
            "searched as they are."
        )
    if parsed is wq.NullQuery or not list(parsed.iter_all_terms()):
        return None, message
    return parsed, message


def positive_terms(parsed: Any, phrases: bool = False) -> set[str]:
    """The words a query looks for, leaving out those it excludes.

    With ``phrases``, the words of its phrases too.
    """
    if isinstance(parsed, wq.Not):
        return set()
    if isinstance(parsed, wq.AndNot):
        return positive_terms(parsed.a, phrases)
    if parsed.is_leaf():
        return {str(text) for fieldname, text in parsed.terms(phrases) if fieldname == "all"}
    return set().union(*(positive_terms(child, phrases) for child in parsed.children()))


def suggest(searcher: Any, text: str) -> str | None:
    """``text`` with unknown words replaced by the closest known ones, or None."""
    reader = searcher.reader()
    replacements = []
    for match in WORD_RE.finditer(text):
        raw = match.group()
        word = analyse_word(raw, stem=False)
        if not word or not 3 <= len(word) <= MAX_WORD_CHARS or not word.isalpha():
            continue
        if reader.doc_frequency("all", light_stem(word)):
            continue
        limit = 1 if len(word) <= 4 else 2
        candidates = [
            (edit_distance(word, candidate), -reader.doc_frequency("spell", candidate), candidate)
            for candidate in reader.terms_within("spell", word, limit, prefix=1)
        ]
        if candidates:
            # Keep an elision: "l'economei" → "l'economie".
            elided = raw[: raw.replace("’", "'").rfind("'") + 1] if ELISION.match(fold(raw)) else ""
            replacements.append((match.start(), match.end(), elided + min(candidates)[2]))
    if not replacements:
        return None
    for start, end, word in reversed(replacements):
        text = text[:start] + word + text[end:]
    return text
