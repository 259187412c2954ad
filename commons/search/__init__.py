"""Full-text search over pages and media, with Whoosh.

The database is the source of truth; the index is a cache of it, caught up from the
database's logs after a save, on first use and before answering a query when it is
behind. Callers use :func:`init_app`, :func:`search`, :func:`catch_up` and
:func:`reindex`; the modules, from words up to answers:

- ``analysis``: elisions, stop words, the light stemmer, on words folded by
  :func:`commons.text.fold` (as slugs are), and the tokenizer that applies them for
  every field.
- ``synonyms``: groups of equivalent expressions, expanded in queries.
- ``query``: a user's text cleaned, expanded with synonyms and parsed; "did you mean".
- ``text``: Markdown as plain text, snippets with the query's words highlighted.
- ``schema``: the index's fields, media documents and the catch-up state document.
- ``documents``: database rows (pages, media, their authors and captions) written as
  index documents.
- ``postings``: posting lists decoded and cached, and the view of one index version
  as sets of documents, to match, count and rank (BM25).
- ``index``: the index folder (opening, recreating, its lock, searchers, merges).
- ``sync``: the engine that keeps the index up with the revision, visibility change
  and media version logs: after saves, in a background thread, or whole (reindex).
- ``results``: running a query into one page of results with facets and media.
"""

from ..text import fold
from .analysis import WordTokenizer
from .index import MERGE_FACTOR
from .results import Facet, Hit, MediaHit, SearchResults, search
from .sync import catch_up, init_app, reindex
from .text import plain_text, snippet

__all__ = [
    "MERGE_FACTOR",
    "Facet",
    "Hit",
    "MediaHit",
    "SearchResults",
    "WordTokenizer",
    "catch_up",
    "fold",
    "init_app",
    "plain_text",
    "reindex",
    "search",
    "snippet",
]
