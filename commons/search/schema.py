"""The fields of the index, and the documents that are not pages.

Media (uploaded files) are documents of their own in the same index, with fields of
their own, so they never change what a page query matches, counts, ranks or suggests.
One more document holds the catch-up state (see :mod:`commons.search.sync`).
"""

from __future__ import annotations

from whoosh.analysis import RegexTokenizer
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from .analysis import WordTokenizer

#: Bumped when the schema or the analysis changes: older indexes are then rebuilt.
SCHEMA_MARKER = "schema_8"
#: The document holding the catch-up state; masked out of every search.
STATE_ID = "__state__"
#: The ``type`` of media documents (pages have none) and the prefix of their ids.
MEDIA_TYPE = "media"
MEDIA_ID_PREFIX = "m"


def schema() -> Schema:
    """The fields of the index, for pages, media and the catch-up state."""
    return Schema(
        id=ID(stored=True, unique=True),
        kind=ID(sortable=True),
        # Tags may contain spaces and commas: one per line.
        tags=KEYWORD(analyzer=RegexTokenizer(r"[^\n]+")),
        # What a page's sheet is found by, one "facet:value" per line (see facet_term).
        facets=KEYWORD(analyzer=RegexTokenizer(r"[^\n]+")),
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


def facet_term(name: str, value: str) -> str:
    """The term of the ``facets`` field for a sheet's facet: ``"departement:30"``."""
    return f"{name}:{value}"


#: Where a media view looks up the fields a query names (see :class:`View`).
MEDIA_FIELDS = {"all": "media_all", "title": "media_title", "pairs": "media_pairs"}
