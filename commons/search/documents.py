"""Rows of the database made into index documents, pages and media.

A media is found by its name, title, description, authors and the captions pages give
it when they show it; a written office document (.odt, .docx) by its text too. A page's
document keeps those captions, so that when a page changes, the media it showed before
or shows now are indexed again with what every page says of them, without reading other
pages from the database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from .. import office, sheets
from ..media import file_path
from ..models import Media, MediaVersion, Page, PageTag, Revision, Tag
from .schema import MEDIA_ID_PREFIX, MEDIA_TYPE, facet_term
from .text import captions_in, plain_text

#: Pages per index commit when catching up: readers see progress and a crash loses little.
BATCH_PAGES = 500


def _naive_utc(value: datetime | None) -> datetime:
    # Whoosh's DATETIME field only takes naive datetimes.
    return (value or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)


def current_pages(
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
                Revision.fields,
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


def write_pages(
    writer: Any, connection: Connection, page_ids: Sequence[int], replace: bool
) -> dict[int, dict[str, list[str]]]:
    """Write the current state of ``page_ids``; deleted or missing pages leave the index.

    Returns the captions each of ``page_ids`` now gives the media it shows (none for a
    page that left the index).
    """
    shown: dict[int, dict[str, list[str]]] = {}
    for start in range(0, len(page_ids), BATCH_PAGES):
        chunk = list(page_ids[start : start + BATCH_PAGES])
        rows, tags = current_pages(connection.execute, chunk)
        authors = _authors(
            connection, (Revision.page_id, Revision.author_name, Revision.coauthors), chunk
        )
        live = set()
        for page_id, _slug, title, kind, deleted, updated, body, hidden, fields in rows.values():
            if deleted:
                continue
            live.add(page_id)
            # A hidden revision's text is withheld from everyone, the index included.
            visible = "" if hidden or body is None else body
            sheet = {} if hidden or fields is None else fields
            text = plain_text(visible)
            page_tags = sorted(tags.get(page_id, []))
            # One string for the fields, so it is split into words only once.
            words = "\n".join(
                (
                    title,
                    " ".join(page_tags),
                    sheets.searchable_text(sheet),
                    text,
                    " ".join(authors[page_id]),
                )
            )
            document = {
                "id": str(page_id),
                "kind": kind,
                "tags": "\n".join(page_tags),
                "facets": "\n".join(
                    sorted(facet_term(name, value) for name, value in sheets.facets(sheet))
                ),
                "title": title,
                "all": words,
                "pairs": words,
                "spell": words,
                "size": len(words),
                "updated": _naive_utc(updated),
            }
            shown[page_id] = captions_in(visible)
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


def indexed_captions(searcher: Any, page_ids: Iterable[int]) -> dict[int, dict[str, list[str]]]:
    """The captions pages gave the media they showed when they were last indexed."""
    found = {}
    for page_id in page_ids:
        document = searcher.document(id=str(page_id))
        if document and document.get("captions"):
            found[page_id] = document["captions"]
    return found


def shown_captions(
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


def current_media(
    execute: Callable[..., Any], ids: Iterable[int], names: Iterable[str] = ()
) -> list[Any]:
    """The current state of the media with these ids or names."""
    return list(
        execute(
            select(
                Media.id,
                Media.name,
                Media.kind,
                Media.title,
                Media.description,
                MediaVersion.sha256,
                MediaVersion.content_type,
            )
            .outerjoin(MediaVersion, MediaVersion.id == Media.current_version_id)
            .where(or_(Media.id.in_(list(ids)), Media.name.in_(list(names))))
        )
    )


def write_media(
    writer: Any,
    connection: Connection,
    rows: Sequence[Any],
    shown: dict[str, list[str]],
    replace: bool,
) -> None:
    """Write media ``rows`` (from :func:`current_media`) with the captions ``shown``."""
    authors = _authors(
        connection,
        (MediaVersion.media_id, MediaVersion.author_name, MediaVersion.creators),
        [row.id for row in rows],
    )
    for row in rows:
        texts = shown.get(row.name, [])
        # The name's words too: "affiche-atelier-2024.png" is found by "atelier".
        words = "\n".join((row.title, row.name, row.description, *texts, " ".join(authors[row.id])))
        # A written document (.odt, .docx) is found by its text too.
        content = row.sha256 and office.document_text(file_path(row.sha256), row.content_type)
        if content:
            words = f"{words}\n{content}"
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
