"""Answering a search: pages and media matching a query, with facets and snippets."""

from __future__ import annotations

import heapq
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from whoosh import query as wq

from ..extensions import db
from ..text import tag_key
from .documents import current_media, current_pages
from .postings import View
from .query import clean, parse, positive_terms, suggest
from .schema import MEDIA_ID_PREFIX, facet_term
from .sync import Engine, current_engine
from .text import Highlighter, snippet

log = logging.getLogger(__name__)

#: Media shown with the first page of results.
MAX_MEDIA_HITS = 6
#: Pages a query indexes itself before answering; a longer backlog goes to a thread.
QUERY_CATCH_UP_PAGES = 100
QUERY_LOCK_TIMEOUT = 0.25
MAX_TAG_FACETS = 20


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
    #: The sheets' facets of the results: {"departement": [Facet("30", 2)], "theme": …}.
    facets: dict[str, list[Facet]] = field(default_factory=dict)
    message: Any = None
    corrected: str | None = None
    media: list[MediaHit] = field(default_factory=list)


def _facets(counts: dict[str, int], limit: int | None = None) -> list[Facet]:
    ordered = sorted(
        ((value, count) for value, count in counts.items() if count),
        key=lambda item: (-item[1], item[0]),
    )
    return [Facet(value, count) for value, count in ordered[:limit]]


def _run(
    engine: Engine,
    text: str,
    kind: str | None,
    tag: str | None,
    filters: Mapping[str, str],
    results: SearchResults,
    sort: str,
) -> None:
    """Fill ``results`` for the query ``text`` (already cleaned)."""
    searcher = engine.searcher()
    view = engine.view(searcher)
    parsed, message = parse(text, searcher.schema, engine.synonyms()) if text else (None, None)
    results.message = results.message or message
    if parsed is None:
        if not (kind or tag or filters):
            if text and not results.message:
                results.message = _l(
                    "These words are too common to search for: try more specific ones."
                )
            return
        parsed = wq.Every()
    if text:
        results.suggestion = suggest(searcher, text)

    found = _execute(searcher, view, parsed, kind, tag, filters, results, sort)
    queries = [parsed]
    if not found and results.suggestion and text:
        corrected, _ = parse(results.suggestion, searcher.schema, engine.synonyms())
        if corrected is not None and _execute(
            searcher, view, corrected, kind, tag, filters, results, sort
        ):
            queries.append(corrected)
            results.corrected = results.suggestion
            results.message = _l(
                "No page matches “%(query)s”: here are the results for “%(suggestion)s”.",
                query=text,
                suggestion=results.suggestion,
            )
    # Files have no kind, tag or sheet: a filter on those asks for pages only. They are
    # shown once, with the first page of results.
    if not (kind or tag or filters) and results.page == 1:
        results.media = _find_media(engine.view(searcher, media=True), queries)


def _find_media(view: View, queries: Sequence[Any]) -> list[MediaHit]:
    """The best media for the first of ``queries`` matching any (the typed one first)."""
    for parsed in queries:
        # A file's name is often searched whole, as a phrase ("affiche-atelier.png").
        terms = positive_terms(parsed, phrases=True)
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
    rows = {row.id: row for row in current_media(db.session.execute, ids)}
    highlighter = Highlighter(terms)
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


def _tagged(tags: dict[str, set[int]], tag: str) -> set[int]:
    """The documents of ``tag``, whatever the case and accents it is written with."""
    key = tag_key(tag)
    return set().union(*(docs for name, docs in tags.items() if tag_key(name) == key))


def _execute(
    searcher: Any,
    view: View,
    parsed: Any,
    kind: str | None,
    tag: str | None,
    filters: Mapping[str, str],
    results: SearchResults,
    sort: str,
) -> bool:
    """Run ``parsed`` into ``results`` (hits, total, facets); whether anything matched."""
    matching = view.matching(parsed)
    for name, value in filters.items():
        matching = matching & view.facets.get(facet_term(name, value), set())
    of_kind = view.kinds.get(kind, set()) if kind else None
    with_tag = _tagged(view.tags, tag) if tag else None
    # Each facet counts the pages matching the other filter, so its values can be swapped.
    for_kinds = matching & with_tag if with_tag is not None else matching
    for_tags = matching & of_kind if of_kind is not None else matching
    selected = for_kinds & of_kind if of_kind is not None else for_kinds
    results.kinds = _facets({value: len(for_kinds & docs) for value, docs in view.kinds.items()})
    results.tags = _facets(
        {value: len(for_tags & docs) for value, docs in view.tags.items()}, MAX_TAG_FACETS
    )
    results.facets = _sheet_facets(view, selected)
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
        ranked = view.rank(selected, positive_terms(parsed), wanted)[start:]
    matched = [(int(searcher.stored_fields(doc)["id"]), score) for doc, score in ranked]
    results.hits = _hits(matched, positive_terms(parsed))
    # Pages the database no longer shows are left out of the count too.
    results.total = max(0, results.total - (len(matched) - len(results.hits)))
    return bool(results.total)


def _sheet_facets(view: View, selected: set[int]) -> dict[str, list[Facet]]:
    """How many of the selected pages each value of the sheets' facets has."""
    counts: dict[str, dict[str, int]] = {}
    for term, docs in view.facets.items():
        name, _, value = term.partition(":")
        counts.setdefault(name, {})[value] = len(selected & docs)
    return {name: _facets(values, MAX_TAG_FACETS) for name, values in counts.items()}


def _hits(matched: Sequence[tuple[int, float]], terms: set[str]) -> list[Hit]:
    """Hits for the matched (page id, score), with what the database says now."""
    if not matched:
        return []
    ids = [page_id for page_id, _ in matched]
    rows, tags = current_pages(db.session.execute, ids)
    highlighter = Highlighter(terms)
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


def search(
    query: str,
    kind: str | None = None,
    tag: str | None = None,
    page: int = 1,
    per_page: int = 20,
    sort: str = "relevance",
    filters: Mapping[str, str] | None = None,
) -> SearchResults:
    """Search live pages for ``query``, filtered by ``kind``, ``tag`` and the sheets'
    ``filters`` (``{"departement": "30", "theme": "habitat"}``, see
    :data:`commons.experiments.FILTERS`); and media.

    ``sort`` is "relevance" or "recent". The best matching media come with the first
    page of results when neither ``kind`` nor ``tag`` is given. Never raises on a user's
    query: what cannot be understood is searched as plain words, with a friendly
    ``message``.
    """
    page = max(1, int(page or 1))
    per_page = min(max(1, int(per_page or 20)), 100)
    text, message = clean(query or "")
    results = SearchResults(query=query or "", page=page, per_page=per_page, message=message)
    filters = dict(filters or {})
    if not text and not kind and not tag and not filters:
        return results
    engine = current_engine()
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
            _run(engine, text, kind, tag, filters, results, sort)
            return results
        except Exception:  # noqa: BLE001 - see below
            if not attempt and engine.healthy() and engine.searcher_outdated():
                log.warning("search for %r raced a merge: trying again", text)
                continue
            log.exception("search failed for %r", text)
            # A damaged index folder is rebuilt once from the database.
            if attempt or engine.healthy() or not engine.recreate():
                break
    results.hits, results.total, results.kinds, results.tags = [], 0, [], []
    results.facets = {}
    results.media = []
    results.message = _l("Search is not available at the moment. Please try again later.")
    return results
