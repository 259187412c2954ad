"""Full-text search over pages and media, with Whoosh.

The database is the source of truth; the index is a cache of it. The index records
the id of the last revision, of the last media version and of the last visibility
change (a revision hidden or shown again) it has seen (and the ids just below them that
were not yet committed then), and catches up from those three logs after a save, on
first use and before answering a query when it is behind. Every process may
thus keep its own index folder, or share one: writers take Whoosh's lock, readers never
wait. An index that is lost, corrupted or built with another schema is recreated and
refilled from the logs.

Media (uploaded files) are documents of their own in the same index, with fields of
their own, so they never change what a page query matches, counts, ranks or suggests.
A media is found by its name, title, description, authors and the captions pages give
it when they show it. A page's document keeps those captions, so that when a page
changes, the media it showed before or shows now are indexed again with what every
page says of them, without reading other pages from the database.

One analysis serves French and English: elisions split (``l'économie``), accents and
ligatures folded (``œ`` → ``oe``), stop words of both languages dropped, then a light
stemmer that only removes plural and feminine endings, so "ateliers" finds "atelier"
and "économie" finds "economy" without the false friends of a full stemmer. Synonyms
(acronyms of the field and their expansions) are expanded in the query, so editing the
list never needs a reindex.

Whoosh stores and parses; matching, counting and ranking are done here on its posting
lists with set operations, which run in C where Whoosh's matchers step through every
document in Python (see :class:`_View`): a query on 10,000 pages takes milliseconds.
Phrases are looked up through an index of word pairs rather than word positions.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import json
import logging
import math
import operator
import os
import re
import threading
import time
import unicodedata
from array import array
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import Connection, exists, func, inspect, or_, select
from sqlalchemy.exc import SQLAlchemyError
from whoosh import index as whoosh_index
from whoosh import qparser, writing
from whoosh import query as wq
from whoosh.analysis import RegexTokenizer, Token, Tokenizer
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import SegmentReader
from whoosh.support.levenshtein import distance as edit_distance

from . import pages, render
from .extensions import db
from .models import Media, MediaVersion, Page, PageTag, Revision, Tag, VisibilityChange

log = logging.getLogger(__name__)

#: Bumped when the schema or the analysis changes: older indexes are then rebuilt.
SCHEMA_MARKER = "schema_6"
#: The document holding the catch-up state; masked out of every search.
STATE_ID = "__state__"
#: The ``type`` of media documents (pages have none) and the prefix of their ids.
MEDIA_TYPE = "media"
MEDIA_ID_PREFIX = "m"
#: Media shown with the first page of results.
MAX_MEDIA_HITS = 6
#: Revision ids are handed out before their transaction commits, so on PostgreSQL a
#: lower id can appear after a higher one. Ids missing below the newest one seen are
#: re-checked until they fall this far behind it.
GAP_WINDOW = 5000
MAX_GAPS = 2000
#: Pages per index commit when catching up: readers see progress and a crash loses little.
BATCH_PAGES = 500
#: Index segments of one size tier that are merged into one (see merge_tiers).
MERGE_FACTOR = 8
#: Pages a query indexes itself before answering; a longer backlog goes to a thread.
QUERY_CATCH_UP_PAGES = 100
MAX_PENDING_ROWS = 20_000
#: How long a save, a query or a full reindex waits for another process's writer.
SAVE_LOCK_TIMEOUT = 10.0
#: How long a save waits for the writer before handing its indexing to a thread.
SAVE_WRITER_WAIT = 0.25
QUERY_LOCK_TIMEOUT = 0.25
REINDEX_LOCK_TIMEOUT = 120.0
#: A corrupted index is recreated at most this often per process, so a persistent
#: failure cannot turn every query into a rebuild.
RECREATE_COOLDOWN = 60.0
MAX_QUERY_CHARS = 300
MAX_QUERY_WORDS = 32
#: Longer words get no spelling suggestion: the edit-distance automaton grows with them.
MAX_WORD_CHARS = 30
MAX_TAG_FACETS = 20
#: Pages of a change indexed at once by the process that made it (see _changed_pages).
MAX_CHANGED_PAGES = 100
SNIPPET_CHARS = 220
#: Weight of a query word found in a page's title, times the word's rarity, on top of
#: its weight in the page.
TITLE_BOOST = 3.0
#: BM25: how fast repeated words stop adding weight, and how much length dilutes them.
BM25_K1 = 1.2
BM25_B = 0.75
#: Decoded postings kept per process (8 bytes each), shared by its threads.
MAX_CACHED_POSTINGS = 4_000_000
#: Documents of words and their weights kept per thread for the current index version
#: (about 100 bytes each): the words of recent queries.
MAX_VIEW_POSTINGS = 200_000

SYNONYMS_FILE = os.path.join(os.path.dirname(__file__), "synonyms.txt")


# --- results -----------------------------------------------------------------------


@dataclass
class Facet:
    """One value of a facet (a kind or a tag) with the number of matching pages."""

    value: str
    count: int


@dataclass
class Hit:
    """One matching page. ``snippet`` is safe HTML with the matched words in ``<mark>``."""

    slug: str
    title: str
    kind: str
    tags: list[str]
    snippet: Markup
    updated: datetime | None
    score: float


@dataclass
class MediaHit:
    """One matching media (``kind`` is "image" or "document"); ``snippet`` as for pages."""

    name: str
    title: str
    kind: str
    snippet: Markup
    score: float


@dataclass
class SearchResults:
    """One page of results with facets, a "did you mean" and an optional friendly message.

    ``corrected`` is the query actually run when the one typed matched nothing and a
    close spelling did. ``media`` are the best matching files, best first, apart from
    the pages: they count in no total or facet.
    """

    query: str
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = 20
    suggestion: str | None = None
    kinds: list[Facet] = field(default_factory=list)
    tags: list[Facet] = field(default_factory=list)
    message: Any = None
    corrected: str | None = None
    media: list[MediaHit] = field(default_factory=list)


# --- analysis ------------------------------------------------------------------------

_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "’": "'", "ʼ": "'", "‘": "'"})
_ELISION = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu)['’](?=\w)")

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


def fold(text: str) -> str:
    """Lower-case ``text`` and fold accents and ligatures: "Cœur Économie" → "coeur economie"."""
    text = unicodedata.normalize("NFKD", text.lower().translate(_LIGATURES))
    return "".join(char for char in text if not unicodedata.combining(char))


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


_WORD_RE = re.compile(r"\w+(?:['’]\w+)*")


@functools.lru_cache(maxsize=200_000)
def analyse_word(word: str, stem: bool = True) -> str | None:
    """What one word is indexed as, or None for a stop word.

    Folded, French elision split off ("l'économie" → "economie"), English "'s" dropped,
    then (with ``stem``) lightly stemmed. Words recur, hence the cache.
    """
    text = fold(word)
    match = _ELISION.match(text)
    if match:
        text = text[match.end() :]
    if text.endswith("'s"):
        text = text[:-2]
    if len(text) < 2 or text in STOP_WORDS:
        return None
    return light_stem(text) if stem else text


def analyse(text: str, stem: bool = True) -> list[str]:
    """The indexed words of ``text``, in order."""
    words = (analyse_word(match.group(), stem) for match in _WORD_RE.finditer(text))
    return [word for word in words if word]


_last_split: tuple[str, list[str]] = ("", [])


def _words(text: str) -> list[str]:
    """The words of ``text``; the last text is remembered, as each page's text is
    indexed in several fields one after the other."""
    global _last_split  # noqa: PLW0603 - a one-entry cache, replaced whole (thread-safe)
    last = _last_split
    if last[0] is not text:
        last = _last_split = (text, _WORD_RE.findall(text))
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
            spans = [(m.group(), m.start(), m.end()) for m in _WORD_RE.finditer(value)]
        else:
            spans = [(word, 0, 0) for word in _words(value)] if tokenize else [(value, 0, 0)]
        position = start_pos
        previous = None
        for raw, start, end in spans:
            word = analyse_word(raw, self.stem)
            if not word:
                continue
            if self.pairs:
                previous, word = word, previous and _pair(previous, word)
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


def _schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        kind=ID(sortable=True),
        # Tags may contain spaces and commas: one per line.
        tags=KEYWORD(analyzer=RegexTokenizer(r"[^\n]+")),
        title=TEXT(analyzer=WordTokenizer(), phrase=False),
        # Title, tags, authors and text: what a query must match. Words written with a
        # hyphen ("tiers-lieu") are searched as a phrase.
        all=TEXT(analyzer=WordTokenizer(), phrase=False, multitoken_query="phrase"),
        # Consecutive words ("circuit court"): phrases are looked up as their pairs, far
        # faster than checking word positions.
        pairs=TEXT(analyzer=WordTokenizer(pairs=True), phrase=False),
        # Characters of text, for BM25's length normalisation.
        size=NUMERIC(sortable=True),
        # Unstemmed words, for "did you mean".
        spell=TEXT(analyzer=WordTokenizer(stem=False), phrase=False),
        updated=DATETIME(sortable=True),
        state=STORED(),
        # A page's captions of the media it shows ({name: [caption]}), and those names
        # to find the pages showing a media.
        captions=STORED(),
        embeds=KEYWORD(analyzer=RegexTokenizer(r"[^\n]+")),
        # Media documents: their type, and fields of their own, like a page's, so that
        # page queries never meet them.
        type=ID(),
        media_title=TEXT(analyzer=WordTokenizer(), phrase=False),
        media_all=TEXT(analyzer=WordTokenizer(), phrase=False),
        media_pairs=TEXT(analyzer=WordTokenizer(pairs=True), phrase=False),
        media_captions=STORED(),
        **{SCHEMA_MARKER: STORED()},
    )


#: Where a media view looks up the fields a query names (see :class:`_View`).
_MEDIA_FIELDS = {"all": "media_all", "title": "media_title", "pairs": "media_pairs"}


# --- markdown to text ------------------------------------------------------------------

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


def _captions_in(body: str) -> dict[str, list[str]]:
    """The captions a Markdown ``body`` gives the media it shows: {name: [caption]}.

    Media shown without a caption are left out: they add no words to search.
    """
    found: dict[str, list[str]] = {}
    for name, caption in render.media_references(body):
        text = plain_text(caption)
        if text and text not in found.get(name, ()):
            found.setdefault(name, []).append(text)
    return found


# --- synonyms ----------------------------------------------------------------------------


def _read_synonym_groups(path: str) -> list[list[str]]:
    groups = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.split("#", 1)[0]
            terms = [" ".join(term.replace('"', " ").split()) for term in line.split(",")]
            terms = [term for term in terms if term]
            if len(terms) > 1:
                groups.append(terms)
    return groups


class Synonyms:
    """Groups of equivalent expressions, matched on analysed words.

    Groups sharing an expression are merged, so an admin's file can extend a built-in
    group by repeating one of its terms.
    """

    def __init__(self, groups: Iterable[Sequence[str]]) -> None:
        merged: list[dict[tuple[str, ...], str]] = []
        for group in groups:
            variants: dict[tuple[str, ...], str] = {}
            for term in group:
                key = tuple(analyse(term))
                if key:
                    variants.setdefault(key, term)
            overlapping = [m for m in merged if variants.keys() & m.keys()]
            for other in overlapping:
                merged.remove(other)
                for key, term in other.items():
                    variants.setdefault(key, term)
            merged.append(variants)
        #: first word → [(variant words, group)], longest first.
        self._starts: dict[str, list[tuple[tuple[str, ...], dict]]] = {}
        for variants in merged:
            if len(variants) < 2:
                continue
            for key in variants:
                self._starts.setdefault(key[0], []).append((key, variants))
        for candidates in self._starts.values():
            candidates.sort(key=lambda item: -len(item[0]))

    def match(self, words: Sequence[str], start: int) -> tuple[int, dict] | None:
        """The longest variant starting at ``words[start]``: (its length, its group)."""
        for key, variants in self._starts.get(words[start], ()):
            if tuple(words[start : start + len(key)]) == key:
                return len(key), variants
        return None


# --- query text ---------------------------------------------------------------------------

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


# --- the engine -----------------------------------------------------------------------------


@dataclass
class _Log:
    """How far the index has read one log: the revisions, or the media versions."""

    last: int = 0
    gaps: list[int] = field(default_factory=list)

    @classmethod
    def load(cls, data: dict[str, Any]) -> _Log:
        """The log as stored by :meth:`dump`."""
        return cls(int(data["last"]), [int(i) for i in data["gaps"]])

    def dump(self) -> dict[str, Any]:
        """The log as stored in the index."""
        return {"last": self.last, "gaps": self.gaps}

    def advance(self, seen: Sequence[int]) -> _Log:
        """The log after reading the rows ``seen`` (ids, in increasing order)."""
        seen_set = set(seen)
        last = max(self.last, seen[-1]) if seen else self.last
        gaps = {gap for gap in self.gaps if gap not in seen_set}
        lowest = max(self.last, last - GAP_WINDOW)
        gaps.update(i for i in range(lowest + 1, last) if i not in seen_set)
        kept = sorted(gap for gap in gaps if gap > last - GAP_WINDOW)[-MAX_GAPS:]
        return _Log(last, kept)

    def unseen(self, column: Any) -> Any:
        """The condition on the id ``column`` of the log's rows not read yet."""
        condition = column > self.last
        return or_(condition, column.in_(self.gaps)) if self.gaps else condition

    @classmethod
    def read_to_end(cls, connection: Connection, column: Any) -> _Log:
        """The log once every row committed now is read: the state of a full reindex."""
        last = connection.scalar(select(func.max(column))) or 0
        recent = connection.scalars(
            select(column).where(column > last - GAP_WINDOW).order_by(column)
        ).all()
        return cls(max(last - GAP_WINDOW, 0)).advance(list(recent))


@dataclass
class _State:
    """How far the index has read the revision, media version and visibility change logs."""

    revisions: _Log = field(default_factory=_Log)
    media: _Log = field(default_factory=_Log)
    visibility: _Log = field(default_factory=_Log)

    @classmethod
    def load(cls, searcher: Any) -> _State:
        document = searcher.document(id=STATE_ID)
        if not document:
            return cls()
        data = json.loads(document["state"])
        # An index written before the visibility log reads it from the start.
        visibility = data.get("visibility", _Log().dump())
        return cls(_Log.load(data["revisions"]), _Log.load(data["media"]), _Log.load(visibility))

    def dump(self) -> str:
        """The state as stored in the index."""
        return json.dumps(
            {
                "revisions": self.revisions.dump(),
                "media": self.media.dump(),
                "visibility": self.visibility.dump(),
            }
        )


class _Unavailable(Exception):
    """The index could not be opened or created."""


class Engine:
    """The search index of one application: its folder, synonyms and cached searchers."""

    def __init__(self, directory: str, extra_synonyms: str | None = None) -> None:
        self.directory = directory
        self.extra_synonyms = extra_synonyms
        self._index: Any = None
        self._open_lock = threading.Lock()
        self._local = threading.local()
        self._synonyms: Synonyms | None = None
        self._synonyms_stamp: Any = None
        self._last_recreate = 0.0
        self._segments = _SegmentCache()
        self._background: threading.Thread | None = None
        #: Pages a save could not index itself, for the background thread.
        self._waiting_pages: set[int] = set()
        #: Whether saves left segments for :meth:`merge`.
        self.merge_due = False

    # --- the index folder

    def index(self) -> Any:
        """The Whoosh index, opened (or created) on first use."""
        if self._index is None:
            with self._open_lock:
                if self._index is None:
                    self._index = self._open()
        return self._index

    def _open(self) -> Any:
        if not os.path.isdir(self.directory) or not whoosh_index.exists_in(self.directory):
            return self._create()
        try:
            return self._open_existing()
        except Exception as error:  # noqa: BLE001 - whatever is wrong, the index is rebuilt
            log.warning("search index at %s unusable (%r): recreating it", self.directory, error)
        return self._create()

    def _open_existing(self) -> Any:
        index = whoosh_index.open_dir(self.directory)
        if SCHEMA_MARKER not in index.schema.names():
            raise _Unavailable("built with another schema")
        with index.searcher() as searcher:
            _State.load(searcher)
        return index

    def _create(self, force: bool = False) -> Any:
        os.makedirs(self.directory, exist_ok=True)
        storage = FileStorage(self.directory)
        lock = storage.lock(f"{whoosh_index._DEF_INDEX_NAME}_WRITELOCK")
        deadline = time.monotonic() + SAVE_LOCK_TIMEOUT
        while not lock.acquire(blocking=False):
            if time.monotonic() > deadline:
                raise _Unavailable("the index is locked")
            time.sleep(0.05)
        try:
            if not force:
                # Another process may have created it while this one waited for the lock.
                try:
                    return self._open_existing()
                except Exception:  # noqa: BLE001
                    pass
            return storage.create_index(_schema())
        finally:
            lock.release()

    def recreate(self) -> bool:
        """Throw away a corrupted index; False when one was recreated too recently."""
        if time.monotonic() - self._last_recreate < RECREATE_COOLDOWN:
            return False
        with self._open_lock:
            self._last_recreate = time.monotonic()
            self._index = None
            self._local.__dict__.clear()
            self._index = self._create(force=True)
        return True

    def writer(self, timeout: float, **options: Any) -> Any:
        """A writer, once another process's is done; raises LockError after ``timeout``."""
        index = self.index()
        # Whoosh takes its lock before reading the table of contents and keeps it for
        # good when that fails: read it first, so a damaged index raises here instead.
        index.is_empty()
        # Segments stay as separate files: Whoosh copies a compound segment's parts into
        # memory to read them, which made catching up on 10,000 pages grow to 770 MB
        # (flat at 240 MB without).
        return index.writer(timeout=timeout, compound=False, **options)

    def healthy(self) -> bool:
        """Whether the index folder can be opened and read."""
        try:
            self._open_existing().close()
        except Exception:  # noqa: BLE001 - any failure means it cannot be used
            return False
        return True

    def searcher(self) -> Any:
        """This thread's searcher, refreshed when the index has changed."""
        index = self.index()
        local = self._local
        if getattr(local, "index", None) is not index:
            local.index, local.searcher = index, index.searcher()
        elif not local.searcher.up_to_date():
            # Not refresh(): it reuses segment readers and misses their new deletions.
            local.searcher.close()
            local.searcher = index.searcher()
        return local.searcher

    def view(self, searcher: Any, media: bool = False) -> _View:
        """The page (or ``media``) documents of ``searcher``, as sets to match and rank.

        Built once per index version and thread.
        """
        views = getattr(self._local, "views", None)
        if views is None or views[0] is not searcher:
            views = self._local.views = (searcher, {})
        if media not in views[1]:
            views[1][media] = _View(searcher, self._segments, media)
        return views[1][media]

    def synonyms(self) -> Synonyms:
        """The built-in synonyms plus the admin's file, reloaded when that file changes."""
        stamp = None
        if self.extra_synonyms:
            try:
                stamp = os.stat(self.extra_synonyms).st_mtime_ns
            except OSError:
                stamp = "missing"
        if self._synonyms is None or stamp != self._synonyms_stamp:
            groups = _read_synonym_groups(SYNONYMS_FILE)
            if stamp not in (None, "missing"):
                groups += _read_synonym_groups(self.extra_synonyms or "")
            elif stamp == "missing":
                log.warning("search synonyms file %s not found", self.extra_synonyms)
            self._synonyms, self._synonyms_stamp = Synonyms(groups), stamp
        return self._synonyms

    # --- catching up with the database

    @staticmethod
    def _pending(
        connection: Connection, columns: tuple[Any, Any], log: _Log, limit: int
    ) -> list[tuple[int, int]]:
        """(row id, owner id) of the rows of a log the index has not seen, oldest first.

        ``columns`` are the log's id and owner columns: :data:`_REVISIONS`,
        :data:`_VISIBILITY_CHANGES` or :data:`_MEDIA_VERSIONS`.
        """
        row_id, owner = columns
        statement = select(row_id, owner).where(log.unseen(row_id)).order_by(row_id)
        return [(row[0], row[1]) for row in connection.execute(statement.limit(limit))]

    def state(self) -> _State:
        """How far the current version of the index has read the revision log."""
        searcher = self.searcher()
        known = getattr(self._local, "state", None)
        if known is None or known[0] is not searcher:
            known = self._local.state = (searcher, _State.load(searcher))
        return known[1]

    def behind(self) -> bool:
        """Whether the database holds rows of a log (revisions, visibility changes, media
        versions) the index has not seen."""
        state = self.state()
        # One round trip for the three logs: this runs before every query.
        statement = select(
            exists().where(state.revisions.unseen(Revision.id)),
            exists().where(state.visibility.unseen(VisibilityChange.id)),
            exists().where(state.media.unseen(MediaVersion.id)),
        )
        try:
            with db.engine.connect() as connection:
                return any(connection.execute(statement).one())
        except SQLAlchemyError:
            # No tables yet (before migrations): nothing to index.
            return False

    def catch_up(
        self,
        timeout: float,
        page_ids: Iterable[int] = (),
        limit: int | None = None,
        *,
        merge: bool = True,
    ) -> int:
        """Index what the logs hold that the index has not seen, plus ``page_ids``.

        Returns the number of pages and media indexed. With ``limit``, stops after
        about that many. Without ``merge``, segments are left for :meth:`merge`, and
        ``merge_due`` says whether it has work.
        """
        forced = set(page_ids)
        done = 0
        while (forced or self.behind()) and (limit is None or done < limit):
            try:
                writer = self.writer(timeout)
            except LockError:
                # Another process is writing, probably the same revisions: the next
                # save or query will check again.
                return done
            try:
                room = BATCH_PAGES if limit is None else limit - done
                # The writer's searcher shows the index as last committed, by anyone.
                with writer.searcher() as searcher, db.engine.connect() as connection:
                    state = _State.load(searcher)
                    rows = self._pending(connection, _REVISIONS, state.revisions, MAX_PENDING_ROWS)
                    seen, batch = _batch(rows, room)
                    changes = self._pending(
                        connection, _VISIBILITY_CHANGES, state.visibility, MAX_PENDING_ROWS
                    )
                    seen_changes, changed = _batch(changes, room)
                    batch |= changed | forced
                    before = _indexed_captions(searcher, batch)
                    after = _write_pages(writer, connection, sorted(batch), replace=True)
                    versions = self._pending(
                        connection, _MEDIA_VERSIONS, state.media, MAX_PENDING_ROWS
                    )
                    seen_versions, media_ids = _batch(versions, room)
                    # Media whose captions may have changed: those the pages showed
                    # before or show now, when what they say of them changed.
                    names = {
                        name
                        for page_id in batch
                        if before.get(page_id, {}) != after[page_id]
                        for name in (*before.get(page_id, {}), *after[page_id])
                    }
                    if media_ids or names:
                        media_rows = _current_media(connection.execute, media_ids, names)
                        shown = _shown_captions(searcher, {row.name for row in media_rows}, after)
                        _write_media(writer, connection, media_rows, shown, replace=True)
                complete = all(
                    len(read) == len(pending) < MAX_PENDING_ROWS
                    for read, pending in (
                        (seen, rows),
                        (seen_changes, changes),
                        (seen_versions, versions),
                    )
                )
                state = _State(
                    state.revisions.advance(seen),
                    state.media.advance(seen_versions),
                    state.visibility.advance(seen_changes),
                )
                writer.update_document(id=STATE_ID, state=state.dump())
                if not merge:
                    self.merge_due = bool(_tier_to_merge(writer.segments))
                writer.commit(mergetype=merge_tiers if merge else writing.NO_MERGE)
            except BaseException:
                writer.cancel()
                raise
            done += len(batch) + len(media_ids)
            forced = set()
            if complete:
                break
        return done

    def merge(self, timeout: float) -> None:
        """Merge the index's smallest segments when a tier is full (see :func:`merge_tiers`)."""
        try:
            writer = self.writer(timeout)
        except LockError:
            return  # another process is writing, and will merge
        try:
            if _tier_to_merge(writer.segments):
                writer.commit(mergetype=merge_tiers)
            else:
                writer.cancel()
        except BaseException:
            writer.cancel()
            raise
        self.merge_due = False

    def catch_up_in_background(self, app: Flask, page_ids: Iterable[int] = ()) -> None:
        """Catch up (with ``page_ids``) and merge in a thread of this process.

        One thread at most: a running one takes the new ``page_ids`` before it stops.
        """
        with self._open_lock:
            self._waiting_pages.update(page_ids)
            if self._background is not None and self._background.is_alive():
                return
            self._background = threading.Thread(
                target=self._catch_up_for, args=(app,), name="search-catch-up", daemon=True
            )
            self._background.start()

    def wait_for_background(self, timeout: float) -> None:
        """Wait until this process's background catch-up, if any, is done."""
        thread = self._background
        if thread is not None:
            thread.join(timeout)

    def _catch_up_for(self, app: Flask) -> None:
        with app.app_context():
            try:
                while True:
                    with self._open_lock:
                        page_ids, self._waiting_pages = self._waiting_pages, set()
                    self.catch_up(SAVE_LOCK_TIMEOUT, page_ids)
                    self.merge(SAVE_LOCK_TIMEOUT)
                    with self._open_lock:
                        if not self._waiting_pages:
                            self._background = None
                            return
            except Exception:  # noqa: BLE001 - a thread has no one to report to but the log
                log.exception("search: catching up in the background failed")
                with self._open_lock:
                    self._background = None
            finally:
                db.session.remove()

    def reindex(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Rebuild the whole index (pages, then media) from the database.

        Returns the number of pages; ``progress(done, total)`` follows them.
        """
        writer = self.writer(REINDEX_LOCK_TIMEOUT, limitmb=128)
        try:
            with db.engine.connect() as connection:
                # Read before the pages and media: what is committed meanwhile is
                # indexed again by the next catch-up.
                state = _State(
                    _Log.read_to_end(connection, Revision.id),
                    _Log.read_to_end(connection, MediaVersion.id),
                    _Log.read_to_end(connection, VisibilityChange.id),
                )
                page_ids = connection.scalars(
                    select(Page.id).where(Page.deleted.is_(False)).order_by(Page.id)
                ).all()
                total = len(page_ids)
                if progress:
                    progress(0, total)
                shown: dict[str, list[str]] = defaultdict(list)
                for start in range(0, total, BATCH_PAGES):
                    chunk = page_ids[start : start + BATCH_PAGES]
                    written = _write_pages(writer, connection, chunk, replace=False)
                    # In page order, as catching up gathers them.
                    for _, page_captions in sorted(written.items()):
                        for name, texts in page_captions.items():
                            shown[name].extend(texts)
                    if progress:
                        progress(start + len(chunk), total)
                media_ids = connection.scalars(select(Media.id).order_by(Media.id)).all()
                for start in range(0, len(media_ids), BATCH_PAGES):
                    chunk = media_ids[start : start + BATCH_PAGES]
                    media_rows = _current_media(connection.execute, chunk)
                    _write_media(writer, connection, media_rows, shown, replace=False)
            writer.add_document(id=STATE_ID, state=state.dump())
            # CLEAR swaps the new segment in at once: readers never see a half-empty index.
            writer.commit(mergetype=writing.CLEAR)
        except BaseException:
            writer.cancel()
            raise
        return total


#: The logs the index reads: (row id, what the row changes).
_REVISIONS = (Revision.id, Revision.page_id)
_VISIBILITY_CHANGES = (VisibilityChange.id, VisibilityChange.page_id)
_MEDIA_VERSIONS = (MediaVersion.id, MediaVersion.media_id)


def _tier_to_merge(segments: Sequence[Any]) -> list[Any]:
    """The smallest size tier holding MERGE_FACTOR segments, or nothing.

    A segment's tier is the logarithm of its document count in base MERGE_FACTOR, so
    merging a full tier makes a segment of the next one.
    """
    tiers: dict[int, list[Any]] = defaultdict(list)
    for segment in segments:
        tiers[int(math.log(max(segment.doc_count_all(), 1), MERGE_FACTOR))].append(segment)
    full = [tier for tier in sorted(tiers) if len(tiers[tier]) >= MERGE_FACTOR]
    return tiers[full[0]] if full else []


def merge_tiers(writer: Any, segments: list[Any]) -> list[Any]:
    """A Whoosh merge policy: merge segments of one size tier once there are enough.

    The smallest tier holding MERGE_FACTOR segments becomes one segment of the next
    tier: each document is rewritten once per tier, and the index keeps fewer than
    MERGE_FACTOR segments per tier. Whoosh's own MERGE_SMALL merges the four smallest
    segments with the next one whatever its size, which rewrote the whole index every
    fifth save (2.5 s at 2,000 pages).
    """
    merged = _tier_to_merge(segments)
    for segment in merged:
        writer.add_reader(SegmentReader(writer.storage, writer.schema, segment))
    return [segment for segment in segments if segment not in merged]


def _batch(rows: Sequence[tuple[int, int]], owners: int) -> tuple[list[int], set[int]]:
    """The first rows of a log touching at most ``owners`` pages or media: (ids, owners)."""
    seen: list[int] = []
    batch: set[int] = set()
    for row_id, owner_id in rows:
        if owner_id not in batch and len(batch) >= min(owners, BATCH_PAGES):
            break
        batch.add(owner_id)
        seen.append(row_id)
    return seen, batch


def _naive_utc(value: datetime | None) -> datetime:
    # Whoosh's DATETIME field only takes naive datetimes.
    return (value or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)


def _current_pages(
    execute: Callable[..., Any], ids: Sequence[int]
) -> tuple[dict[int, Any], dict[int, list[str]]]:
    """The current state of pages (with their current text) and their tags, by page id."""
    rows = {
        row.id: row
        for row in execute(
            select(
                Page.id,
                Page.slug,
                Page.title,
                Page.kind,
                Page.deleted,
                Page.updated_at,
                Revision.body,
                Revision.hidden,
            )
            .outerjoin(Revision, Revision.id == Page.current_revision_id)
            .where(Page.id.in_(ids))
        )
    }
    tags: dict[int, list[str]] = {}
    for page_id, name in execute(
        select(PageTag.page_id, Tag.name)
        .join(Tag, Tag.id == PageTag.tag_id)
        .where(PageTag.page_id.in_(ids))
        .order_by(Tag.name)
    ):
        tags.setdefault(page_id, []).append(name)
    return rows, tags


def _authors(
    connection: Connection, columns: tuple[Any, Any, Any], ids: Sequence[int]
) -> dict[int, dict[str, None]]:
    """Everyone credited by the rows of a log for ``ids``, in order, once each.

    ``columns`` are the log's owner column, its author's name and its other names.
    """
    owner, author, others = columns
    authors: dict[int, dict[str, None]] = defaultdict(dict)
    for owner_id, name, more in connection.execute(
        select(owner, author, others).where(owner.in_(ids))
    ):
        names = authors[owner_id]
        names[name] = None
        names.update(dict.fromkeys(more or ()))
    return authors


def _write_pages(
    writer: Any, connection: Connection, page_ids: Sequence[int], replace: bool
) -> dict[int, dict[str, list[str]]]:
    """Write the current state of ``page_ids``; deleted or missing pages leave the index.

    Returns the captions each of ``page_ids`` now gives the media it shows (none for a
    page that left the index).
    """
    shown: dict[int, dict[str, list[str]]] = {}
    for start in range(0, len(page_ids), BATCH_PAGES):
        chunk = list(page_ids[start : start + BATCH_PAGES])
        rows, tags = _current_pages(connection.execute, chunk)
        authors = _authors(
            connection, (Revision.page_id, Revision.author_name, Revision.coauthors), chunk
        )
        live = set()
        for page_id, _slug, title, kind, deleted, updated, body, hidden in rows.values():
            if deleted:
                continue
            live.add(page_id)
            # A hidden revision's text is withheld from everyone, the index included.
            visible = "" if hidden or body is None else body
            text = plain_text(visible)
            page_tags = sorted(tags.get(page_id, []))
            # One string for the three fields, so it is split into words only once.
            words = "\n".join((title, " ".join(page_tags), text, " ".join(authors[page_id])))
            document = {
                "id": str(page_id),
                "kind": kind,
                "tags": "\n".join(page_tags),
                "title": title,
                "all": words,
                "pairs": words,
                "spell": words,
                "size": len(words),
                "updated": _naive_utc(updated),
            }
            shown[page_id] = _captions_in(visible)
            if shown[page_id]:
                document["captions"] = shown[page_id]
                document["embeds"] = "\n".join(shown[page_id])
            if replace:
                writer.update_document(**document)
            else:
                writer.add_document(**document)
        for page_id in set(chunk) - live:
            shown[page_id] = {}
            if replace:
                writer.delete_by_term("id", str(page_id))
    return shown


def _indexed_captions(searcher: Any, page_ids: Iterable[int]) -> dict[int, dict[str, list[str]]]:
    """The captions pages gave the media they showed when they were last indexed."""
    found = {}
    for page_id in page_ids:
        document = searcher.document(id=str(page_id))
        if document and document.get("captions"):
            found[page_id] = document["captions"]
    return found


def _shown_captions(
    searcher: Any, names: set[str], batch: dict[int, dict[str, list[str]]]
) -> dict[str, list[str]]:
    """The captions live pages give each media of ``names``, in page order.

    The pages of ``batch`` (being indexed) as it says; the others as the index has them.
    """
    by_page: dict[str, dict[int, list[str]]] = defaultdict(dict)
    for name in names:
        for docnum in searcher.document_numbers(embeds=name):
            stored = searcher.stored_fields(docnum)
            by_page[name][int(stored["id"])] = stored["captions"][name]
    for page_id, page_captions in batch.items():
        for name in names:
            by_page[name].pop(page_id, None)
            if name in page_captions:
                by_page[name][page_id] = page_captions[name]
    return {
        name: [text for _, texts in sorted(pages_captions.items()) for text in texts]
        for name, pages_captions in by_page.items()
    }


def _current_media(
    execute: Callable[..., Any], ids: Iterable[int], names: Iterable[str] = ()
) -> list[Any]:
    """The current state of the media with these ids or names."""
    return list(
        execute(
            select(Media.id, Media.name, Media.kind, Media.title, Media.description).where(
                or_(Media.id.in_(list(ids)), Media.name.in_(list(names)))
            )
        )
    )


def _write_media(
    writer: Any,
    connection: Connection,
    rows: Sequence[Any],
    shown: dict[str, list[str]],
    replace: bool,
) -> None:
    """Write media ``rows`` (from :func:`_current_media`) with the captions ``shown``."""
    authors = _authors(
        connection,
        (MediaVersion.media_id, MediaVersion.author_name, MediaVersion.creators),
        [row.id for row in rows],
    )
    for row in rows:
        texts = shown.get(row.name, [])
        # The name's words too: "affiche-atelier-2024.png" is found by "atelier".
        words = "\n".join((row.title, row.name, row.description, *texts, " ".join(authors[row.id])))
        document = {
            "id": f"{MEDIA_ID_PREFIX}{row.id}",
            "type": MEDIA_TYPE,
            "media_title": f"{row.title}\n{row.name}",
            "media_all": words,
            "media_pairs": words,
            "media_captions": texts,
            "size": len(words),
        }
        if replace:
            writer.update_document(**document)
        else:
            writer.add_document(**document)


# --- queries --------------------------------------------------------------------------------


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


def _clean(query: str) -> tuple[str, Any]:
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


def _parse(text: str, schema: Schema, synonyms: Synonyms) -> tuple[Any, Any]:
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


def _positive_terms(parsed: Any, phrases: bool = False) -> set[str]:
    """The words a query looks for, leaving out those it excludes.

    With ``phrases``, the words of its phrases too.
    """
    if isinstance(parsed, wq.Not):
        return set()
    if isinstance(parsed, wq.AndNot):
        return _positive_terms(parsed.a, phrases)
    if parsed.is_leaf():
        return {str(text) for fieldname, text in parsed.terms(phrases) if fieldname == "all"}
    return set().union(*(_positive_terms(child, phrases) for child in parsed.children()))


def _decode_postings(matcher: Any) -> tuple[array, array]:
    """All document numbers and frequencies of a posting list, deleted documents included.

    Whoosh steps through postings one generator call at a time; reading its blocks
    whole (with C-level prefix sums for the delta-encoded ids) is several times faster.
    Only Whoosh 2.7's own block format is read so; any other matcher is stepped through.
    """
    ids, weights = array("I"), array("f")
    # A segment with deletions wraps its postings in a filter: the caller drops deleted
    # documents itself.
    while isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    if not all(hasattr(matcher, name) for name in ("_read_data", "_byteids", "_next_block")):
        for docnum, weight in matcher.items_as("weight"):
            ids.append(docnum)
            weights.append(weight)
        return ids, weights
    while matcher.is_active():
        if matcher._data is None:
            matcher._read_data()
        block_ids, block_weights = matcher._data[0], matcher._data[1]
        ids.extend(block_ids if matcher._byteids else itertools.accumulate(block_ids))
        if block_weights is None or isinstance(block_weights, float):
            weights.extend(itertools.repeat(block_weights or 1.0, len(block_ids)))
        else:
            weights.extend(block_weights)
        matcher._next_block()
    return ids, weights


class _SegmentCache:
    """Decoded postings and columns of index segments, shared by a process's threads.

    A segment never changes once written (its deletions are kept apart), so what was
    decoded from it stays valid until a merge replaces it. Decoding is most of a query's
    cost: keeping it across queries and index versions keeps searches fast after saves.
    """

    def __init__(self, limit: int = MAX_CACHED_POSTINGS) -> None:
        self.limit = limit
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def postings(self, reader: Any, fieldname: str, text: str) -> tuple[array, array]:
        """The document numbers (in ``reader``'s segment) and frequencies of a term."""

        def load() -> tuple[array, array]:
            if (fieldname, text) not in reader:
                return array("I"), array("f")
            return _decode_postings(reader.postings(fieldname, text))

        return self._get((reader, "postings", fieldname, text), load, lambda v: len(v[0]))

    def values(self, reader: Any, fieldname: str) -> list[tuple[str, array]]:
        """Every term of ``fieldname`` in ``reader``'s segment, with its documents."""

        def load() -> list[tuple[str, array]]:
            terms = list(reader.field_terms(fieldname))
            return [(term, self.postings(reader, fieldname, term)[0]) for term in terms]

        return self._get((reader, "values", fieldname), load, len)

    def column(self, reader: Any, fieldname: str) -> list:
        """The raw values of a sortable field for every document of ``reader``'s segment."""

        def load() -> list:
            if not reader.has_column(fieldname):
                return [0] * reader.doc_count_all()
            return list(reader.column_reader(fieldname, translate=False))

        return self._get((reader, "column", fieldname), load, len)

    def _get(self, key: tuple, load: Callable[[], Any], size: Callable[[Any], int]) -> Any:
        key = (key[0].segment().segment_id(), *key[1:])
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found[0]
        value = load()
        with self._lock:
            self._items[key] = (value, size(value))
            self._size += size(value)
            while self._size > self.limit and len(self._items) > 1:
                _, (_, dropped) = self._items.popitem(last=False)
                self._size -= dropped
        return value


class _View:
    """One version of the index, seen as sets of document numbers, to match and count.

    Whoosh matches and counts by stepping through its matchers in Python, one document
    at a time; set operations on posting lists do the same work in C, many times faster.
    Ranking (BM25 on the page's words, plus a bonus for words in its title) then only
    visits the documents that matched.

    A view sees either the pages or the media (``media``): each is a world of its own,
    with its own documents, word weights and average length. A media view reads the
    fields a query names ("all", "title", "pairs") from the media's fields instead.
    """

    def __init__(self, searcher: Any, cache: _SegmentCache, media: bool = False) -> None:
        self.searcher = searcher
        self.cache = cache
        self.renamed = _MEDIA_FIELDS if media else {}
        subsearchers = searcher.subsearchers or [(searcher, 0)]
        # An index without documents has a reader without a segment: nothing to read.
        self.segments = [
            (sub.reader(), offset) for sub, offset in subsearchers if sub.reader().segment()
        ]
        deleted: set[int] = set()
        for reader, offset in self.segments:
            if reader.has_deletions():
                deleted.update(offset + d for d in reader.segment().deleted_docs())
        typed = set(self.postings("type", MEDIA_TYPE))
        if media:
            docs = typed
        else:
            docs = set().union(
                *(
                    range(offset, offset + reader.doc_count_all())
                    for reader, offset in self.segments
                )
            )
            docs -= typed
            docs -= set(self.postings("id", STATE_ID))
        self.live = docs - deleted
        sizes = self.column("size")
        average = max(sum(map(sizes.__getitem__, self.live)) / max(len(self.live), 1), 1.0)
        # BM25's length normalisation of each document.
        self.norms = [BM25_K1 * (1 - BM25_B + BM25_B * size / average) for size in sizes]
        self._weights: dict[str, tuple[dict[int, float], float]] = {}
        self._weighted = 0
        self._docs_of: dict[tuple[str, str], set[int]] = {}
        self._docs_size = 0

    # Facets and dates serve pages only: a media view never reads them.
    @functools.cached_property
    def kinds(self) -> dict[str, set[int]]:
        """Each page kind with its documents."""
        return self._values("kind")

    @functools.cached_property
    def tags(self) -> dict[str, set[int]]:
        """Each tag with its documents."""
        return self._values("tags")

    @functools.cached_property
    def updated(self) -> list:
        """When each document was last changed, by document number."""
        return self.column("updated")

    def _values(self, fieldname: str) -> dict[str, set[int]]:
        """Each term of a field (a kind, a tag) with its documents, deleted ones included."""
        values: dict[str, set[int]] = defaultdict(set)
        for reader, offset in self.segments:
            for value, ids in self.cache.values(reader, fieldname):
                values[value].update(map(offset.__add__, ids))
        return dict(values)

    def column(self, fieldname: str) -> list:
        """The values of a sortable field, indexed by document number."""
        return list(
            itertools.chain.from_iterable(
                self.cache.column(reader, fieldname) for reader, _ in self.segments
            )
        )

    def postings(self, fieldname: str, text: str) -> dict[int, float]:
        """Document number → frequency of ``text`` in ``fieldname``, deleted ones included."""
        fieldname = self.renamed.get(fieldname, fieldname)
        found: dict[int, float] = {}
        for reader, offset in self.segments:
            ids, weights = self.cache.postings(reader, fieldname, text)
            found.update(zip(map(offset.__add__, ids), weights, strict=True))
        return found

    def matching(self, parsed: Any) -> set[int]:
        """Live documents matching ``parsed``."""
        return self._docs(parsed) & self.live

    def docs(self, fieldname: str, text: str) -> set[int]:
        """Documents containing ``text`` in ``fieldname`` (kept for this version's queries)."""
        key = (fieldname, text)
        if key not in self._docs_of:
            if self._docs_size > MAX_VIEW_POSTINGS:
                self._docs_of.clear()
                self._docs_size = 0
            self._docs_of[key] = set(self.postings(fieldname, text))
            self._docs_size += len(self._docs_of[key])
        return self._docs_of[key]

    def _docs(self, parsed: Any) -> set[int]:
        if isinstance(parsed, wq.Term):
            return self.docs(parsed.fieldname, parsed.text)
        if isinstance(parsed, wq.Phrase):
            # A phrase is the pairs of its consecutive words (see the "pairs" field).
            words = list(parsed.words)
            if len(words) == 1:
                return self.docs(parsed.fieldname, words[0])
            pairs = [_pair(a, b) for a, b in itertools.pairwise(words)]
            parts = sorted((self.docs("pairs", pair) for pair in pairs), key=len)
            return parts[0].intersection(*parts[1:])
        if isinstance(parsed, wq.And):
            parts = sorted((self._docs(q) for q in parsed.subqueries), key=len)
            return parts[0].intersection(*parts[1:])
        if isinstance(parsed, wq.Or):
            return set().union(*(self._docs(q) for q in parsed.subqueries))
        if isinstance(parsed, wq.AndNot):
            return self._docs(parsed.a) - self._docs(parsed.b)
        if isinstance(parsed, wq.Not):
            return self.live - self._docs(parsed.query)
        if isinstance(parsed, wq.Every):
            return self.live
        # Nothing else comes out of the parser as configured.
        return set()

    def weights(self, word: str) -> tuple[dict[int, float], float]:
        """BM25 weight of ``word`` in each document containing it, and the word's idf."""
        if word not in self._weights:
            frequencies = self.postings("all", word)
            # Deleted documents still count in frequencies: near enough for a weight.
            count = max(len(self.live), 1)
            idf = math.log(1 + (count - len(frequencies) + 0.5) / (len(frequencies) + 0.5))
            factor, norms = idf * (BM25_K1 + 1), self.norms
            weights = {doc: factor * f / (f + norms[doc]) for doc, f in frequencies.items()}
            if self._weighted > MAX_VIEW_POSTINGS:
                self._weights.clear()
                self._weighted = 0
            self._weights[word] = (weights, idf)
            self._weighted += len(weights)
        return self._weights[word]

    def rank(self, docs: set[int], words: set[str], limit: int) -> list[tuple[int, float]]:
        """The ``limit`` best of ``docs`` for ``words``, with their scores."""
        candidates = list(docs)
        columns = []
        for word in words:
            weights, idf = self.weights(word)
            bonus = dict.fromkeys(
                docs.intersection(self.postings("title", word)), idf * TITLE_BOOST
            )
            # map() over dict.get runs in C: no Python step per document.
            columns.append(map(weights.get, candidates, itertools.repeat(0.0)))
            columns.append(map(bonus.get, candidates, itertools.repeat(0.0)))
        totals = map(sum, zip(*columns, strict=True)) if columns else itertools.repeat(0.0)
        best = heapq.nlargest(limit, zip(totals, map(operator.neg, candidates), strict=False))
        return [(-negated, total) for total, negated in best]


def _pair(first: str, second: str) -> str:
    return f"{first} {second}"


def _facets(counts: dict[str, int], limit: int | None = None) -> list[Facet]:
    ordered = sorted(
        ((value, count) for value, count in counts.items() if count),
        key=lambda item: (-item[1], item[0]),
    )
    return [Facet(value, count) for value, count in ordered[:limit]]


def _suggest(searcher: Any, text: str) -> str | None:
    """``text`` with unknown words replaced by the closest known ones, or None."""
    reader = searcher.reader()
    replacements = []
    for match in _WORD_RE.finditer(text):
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
            elided = (
                raw[: raw.replace("’", "'").rfind("'") + 1] if _ELISION.match(fold(raw)) else ""
            )
            replacements.append((match.start(), match.end(), elided + min(candidates)[2]))
    if not replacements:
        return None
    for start, end, word in reversed(replacements):
        text = text[:start] + word + text[end:]
    return text


def _engine() -> Engine:
    return current_app.extensions["commons_search"]


def _run(
    engine: Engine,
    text: str,
    kind: str | None,
    tag: str | None,
    results: SearchResults,
    sort: str,
) -> None:
    """Fill ``results`` for the query ``text`` (already cleaned)."""
    searcher = engine.searcher()
    view = engine.view(searcher)
    parsed, message = _parse(text, searcher.schema, engine.synonyms()) if text else (None, None)
    results.message = results.message or message
    if parsed is None:
        if not (kind or tag):
            if text and not results.message:
                results.message = _l(
                    "These words are too common to search for: try more specific ones."
                )
            return
        parsed = wq.Every()
    if text:
        results.suggestion = _suggest(searcher, text)

    found = _execute(searcher, view, parsed, kind, tag, results, sort)
    queries = [parsed]
    if not found and results.suggestion and text:
        corrected, _ = _parse(results.suggestion, searcher.schema, engine.synonyms())
        if corrected is not None and _execute(searcher, view, corrected, kind, tag, results, sort):
            queries.append(corrected)
            results.corrected = results.suggestion
            results.message = _l(
                "No page matches “%(query)s”: here are the results for “%(suggestion)s”.",
                query=text,
                suggestion=results.suggestion,
            )
    # Files have no kind or tag: a filter on those asks for pages only. They are shown
    # once, with the first page of results.
    if not (kind or tag) and results.page == 1:
        results.media = _find_media(engine.view(searcher, media=True), queries)


def _find_media(view: _View, queries: Sequence[Any]) -> list[MediaHit]:
    """The best media for the first of ``queries`` matching any (the typed one first)."""
    for parsed in queries:
        # A file's name is often searched whole, as a phrase ("affiche-atelier.png").
        terms = _positive_terms(parsed, phrases=True)
        # A query of exclusions only would list every file: no files for it.
        matching = view.matching(parsed) if terms and view.live else set()
        if matching:
            return _media_hits(view.searcher, view.rank(matching, terms, MAX_MEDIA_HITS), terms)
    return []


def _media_hits(
    searcher: Any, ranked: Sequence[tuple[int, float]], terms: set[str]
) -> list[MediaHit]:
    """Hits for the ranked (document, score) of media, with what the database says now."""
    stored = [searcher.stored_fields(doc) for doc, _ in ranked]
    ids = [int(fields["id"].removeprefix(MEDIA_ID_PREFIX)) for fields in stored]
    rows = {row.id: row for row in _current_media(db.session.execute, ids)}
    highlighter = _Highlighter(terms)
    hits = []
    for media_id, fields, (_, score) in zip(ids, stored, ranked, strict=True):
        row = rows.get(media_id)
        if row is None:
            continue
        text = " · ".join(filter(None, (row.description, *fields.get("media_captions", ()))))
        hits.append(
            MediaHit(
                name=row.name,
                title=row.title,
                kind=row.kind,
                snippet=snippet(text, highlighter),
                score=float(score),
            )
        )
    return hits


def _execute(
    searcher: Any,
    view: _View,
    parsed: Any,
    kind: str | None,
    tag: str | None,
    results: SearchResults,
    sort: str,
) -> bool:
    """Run ``parsed`` into ``results`` (hits, total, facets); whether anything matched."""
    matching = view.matching(parsed)
    of_kind = view.kinds.get(kind, set()) if kind else None
    with_tag = view.tags.get(tag, set()) if tag else None
    # Each facet counts the pages matching the other filter, so its values can be swapped.
    for_kinds = matching & with_tag if with_tag is not None else matching
    for_tags = matching & of_kind if of_kind is not None else matching
    selected = for_kinds & of_kind if of_kind is not None else for_kinds
    results.kinds = _facets({value: len(for_kinds & docs) for value, docs in view.kinds.items()})
    results.tags = _facets(
        {value: len(for_tags & docs) for value, docs in view.tags.items()}, MAX_TAG_FACETS
    )
    results.total = len(selected)
    start = (results.page - 1) * results.per_page
    wanted = start + results.per_page
    if start >= len(selected):
        results.hits = []
        return bool(selected)
    if sort == "recent" or isinstance(parsed, wq.Every):
        newest = heapq.nlargest(wanted, selected, key=view.updated.__getitem__)
        ranked = [(doc, 0.0) for doc in newest[start:]]
    else:
        ranked = view.rank(selected, _positive_terms(parsed), wanted)[start:]
    matched = [(int(searcher.stored_fields(doc)["id"]), score) for doc, score in ranked]
    results.hits = _hits(matched, _positive_terms(parsed))
    # Pages the database no longer shows are left out of the count too.
    results.total = max(0, results.total - (len(matched) - len(results.hits)))
    return bool(results.total)


def _hits(matched: Sequence[tuple[int, float]], terms: set[str]) -> list[Hit]:
    """Hits for the matched (page id, score), with what the database says now."""
    if not matched:
        return []
    ids = [page_id for page_id, _ in matched]
    rows, tags = _current_pages(db.session.execute, ids)
    highlighter = _Highlighter(terms)
    hits = []
    for page_id, score in matched:
        row = rows.get(page_id)
        if row is None or row.deleted:
            # The index is a moment behind the database: trust the database.
            continue
        body = "" if row.hidden or row.body is None else row.body
        hits.append(
            Hit(
                slug=row.slug,
                title=row.title,
                kind=row.kind,
                tags=tags.get(row.id, []),
                snippet=snippet(body, highlighter),
                updated=row.updated_at,
                score=float(score),
            )
        )
    return hits


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


class _Highlighter:
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


def snippet(body: str, terms: set[str] | _Highlighter) -> Markup:
    """A short extract of a Markdown ``body`` around the words of ``terms``.

    Plain text, HTML-escaped, with those words in ``<mark>``.
    """
    highlighter = terms if isinstance(terms, _Highlighter) else _Highlighter(terms)
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


# --- public API ----------------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Attach a search engine to ``app`` and index pages after each save."""
    app.extensions["commons_search"] = Engine(
        app.config["INDEX_DIR"], app.config.get("SEARCH_SYNONYMS")
    )
    pages.pages_changed.connect(_on_pages_changed)


def _on_pages_changed(sender: Flask, revisions: Sequence[Revision] = (), **_: Any) -> None:
    engine = sender.extensions.get("commons_search")
    if engine is None:
        return
    try:
        changed = _changed_pages(revisions)
        # Merging segments can take seconds: saves leave it to a thread, and when that
        # thread (or another process) holds the writer, hand it their changes.
        # Nothing indexed means the writer was busy (or another process was quicker).
        indexed = engine.catch_up(SAVE_WRITER_WAIT, changed, merge=False)
        if engine.merge_due or not indexed:
            engine.catch_up_in_background(sender, changed)
    except Exception:  # noqa: BLE001 - a save must not fail because the index did
        sender.logger.exception("search: could not index the latest changes")


def _changed_pages(revisions: Sequence[Revision]) -> set[int]:
    """Pages of a change, for this process to index at once, and again if its writer is busy.

    A change with many revisions is an import: catching up finds them in the logs.
    """
    if not revisions or len(revisions) > MAX_CHANGED_PAGES:
        return set()
    # Identities survive the commit's expiry: no query per revision.
    ids = [key[0] for key in (inspect(revision).identity for revision in revisions) if key]
    return set(db.session.scalars(select(Revision.page_id).where(Revision.id.in_(ids))))


def catch_up() -> int:
    """Index what was committed since the index last looked; returns pages and media indexed.

    Revisions and media versions alike: a new upload is found once this has run, in
    any process (a query runs it when the index is behind).
    """
    return _engine().catch_up(SAVE_LOCK_TIMEOUT)


def reindex(progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the index, pages and media, from the database.

    ``progress(done, total)`` follows the pages; returns the number of pages indexed.
    """
    return _engine().reindex(progress)


def search(
    query: str,
    kind: str | None = None,
    tag: str | None = None,
    page: int = 1,
    per_page: int = 20,
    sort: str = "relevance",
) -> SearchResults:
    """Search live pages for ``query``, filtered by ``kind`` and ``tag``; and media.

    ``sort`` is "relevance" or "recent". The best matching media come with the first
    page of results when neither ``kind`` nor ``tag`` is given. Never raises on a user's
    query: what cannot be understood is searched as plain words, with a friendly
    ``message``.
    """
    page = max(1, int(page or 1))
    per_page = min(max(1, int(per_page or 20)), 100)
    text, message = _clean(query or "")
    results = SearchResults(query=query or "", page=page, per_page=per_page, message=message)
    if not text and not kind and not tag:
        return results
    engine = _engine()
    for attempt in range(2):
        try:
            # A few pages are indexed before answering; a long backlog (a lost index)
            # is left to a thread, so the query is answered in time all the same.
            if engine.behind():
                engine.catch_up(QUERY_LOCK_TIMEOUT, limit=QUERY_CATCH_UP_PAGES)
                if engine.behind():
                    engine.catch_up_in_background(current_app._get_current_object())
                    results.message = results.message or _l(
                        "The search index is being rebuilt: some pages may be missing "
                        "for a few minutes."
                    )
            _run(engine, text, kind, tag, results, sort)
            return results
        except Exception:  # noqa: BLE001 - see below
            log.exception("search failed for %r", text)
            # A damaged index folder is rebuilt once from the database.
            if attempt or engine.healthy() or not engine.recreate():
                break
    results.hits, results.total, results.kinds, results.tags = [], 0, [], []
    results.media = []
    results.message = _l("Search is not available at the moment. Please try again later.")
    return results
