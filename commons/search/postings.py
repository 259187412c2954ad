"""The index read as sets of document numbers: matching, counting and BM25 ranking.

Whoosh stores and parses; matching, counting and ranking are done here on its posting
lists with set operations, which run in C where Whoosh's matchers step through every
document in Python (see :class:`View`): a query on 10,000 pages takes milliseconds.
Phrases are looked up through an index of word pairs rather than word positions.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
import operator
import threading
from array import array
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from typing import Any

from whoosh import query as wq
from whoosh.matching.wrappers import FilterMatcher

from .analysis import pair
from .schema import MEDIA_FIELDS, MEDIA_TYPE, STATE_ID

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


class SegmentCache:
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


class View:
    """One version of the index, seen as sets of document numbers, to match and count.

    Whoosh matches and counts by stepping through its matchers in Python, one document
    at a time; set operations on posting lists do the same work in C, many times faster.
    Ranking (BM25 on the page's words, plus a bonus for words in its title) then only
    visits the documents that matched.

    A view sees either the pages or the media (``media``): each is a world of its own,
    with its own documents, word weights and average length. A media view reads the
    fields a query names ("all", "title", "pairs") from the media's fields instead.
    """

    def __init__(self, searcher: Any, cache: SegmentCache, media: bool = False) -> None:
        self.searcher = searcher
        self.cache = cache
        self.renamed = MEDIA_FIELDS if media else {}
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
    def facets(self) -> dict[str, set[int]]:
        """Each facet of the sheets ("departement:30") with its documents."""
        return self._values("facets")

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
            pairs = [pair(a, b) for a, b in itertools.pairwise(words)]
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
