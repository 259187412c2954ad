"""Read-only queries over pages and revisions: look a page up (by address or
through a redirect), its revisions and history, the text visitors may see,
backlinks, listings and counts, and the cheap stamp the visitor cache checks.

Nothing here writes; :mod:`commons.pages` is the writing service.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import joinedload, selectinload

from .errors import found
from .extensions import db
from .models import Kind, Link, MediaVersion, Page, Redirect, Revision, Tag, VisibilityChange
from .slugs import slugify
from .text import tag_key


def find(slug: str, *, include_deleted: bool = False) -> Page | None:
    """The page at ``slug``, or None. Does not follow redirects."""
    page = db.session.scalar(select(Page).where(Page.slug == slug))
    if page is None or (page.deleted and not include_deleted):
        return None
    return page


def resolve(slug: str) -> tuple[Page | None, bool]:
    """The page at ``slug`` or the page a rename moved it to; and whether it was redirected."""
    page = db.session.scalar(
        select(Page).where(Page.slug == slug).options(joinedload(Page.current_revision))
    )
    if page is not None:
        return page, False
    target = db.session.scalar(
        select(Page).join(Redirect, Redirect.page_id == Page.id).where(Redirect.slug == slug)
    )
    return target, target is not None


def get(slug: str, *, include_deleted: bool = False) -> Page:
    """The page at ``slug``; raises :class:`NotFound`."""
    return found(
        find(slug, include_deleted=include_deleted),
        _l("There is no page at “%(slug)s”.", slug=slug),
    )


def get_revision(page: Page, number: int) -> Revision:
    """Revision ``number`` of ``page``; raises :class:`NotFound`."""
    return found(
        db.session.scalar(
            select(Revision).where(Revision.page_id == page.id, Revision.number == number)
        ),
        _l("This page has no revision %(number)s.", number=number),
    )


def history(page: Page, *, offset: int = 0, limit: int = 50) -> list[Revision]:
    """Revisions of ``page``, newest first."""
    return list(
        db.session.scalars(
            select(Revision)
            .where(Revision.page_id == page.id)
            .order_by(Revision.number.desc())
            .offset(offset)
            .limit(limit)
        )
    )


def previous_sizes(revisions: Sequence[Revision], *, reveal_hidden: bool) -> dict[int, int]:
    """Size of each revision's parent (0 for a first one), by revision id, in one query.

    For size deltas. Without ``reveal_hidden``, a revision whose parent is hidden has
    none: its delta would betray the hidden text's size.
    """
    parent_ids = {rev.parent_id for rev in revisions if rev.parent_id}
    rows = (
        db.session.execute(
            select(Revision.id, Revision.size, Revision.hidden).where(Revision.id.in_(parent_ids))
        ).all()
        if parent_ids
        else []
    )
    sizes = {row_id: size for row_id, size, hidden in rows if reveal_hidden or not hidden}
    return {
        rev.id: sizes[rev.parent_id] if rev.parent_id else 0
        for rev in revisions
        if not rev.parent_id or rev.parent_id in sizes
    }


def recent_changes(*, offset: int = 0, limit: int = 50) -> list[Revision]:
    """The latest revisions across the wiki, newest first."""
    return list(
        db.session.scalars(
            select(Revision).order_by(Revision.id.desc()).offset(offset).limit(limit)
        )
    )


_VISITOR_STAMP = (
    select(
        Page.id,
        Page.current_revision_id,
        Page.protected,
        Revision.hidden,
        select(func.max(Revision.id)).scalar_subquery(),
        select(func.max(MediaVersion.id)).scalar_subquery(),
        select(func.max(VisibilityChange.id)).scalar_subquery(),
    )
    .join(Revision, Revision.id == Page.current_revision_id)
    .where(Page.slug == bindparam("slug"), Page.deleted.is_(False))
)


def visitor_stamp(slug: str) -> tuple[Any, ...] | None:
    """What a visitor's view of the live page at ``slug`` depends on, in one cheap query.

    The page, its current revision and whether that revision is hidden or the page
    protected (which add no revision), and the newest revision, media version and
    visibility change anywhere, which change whenever any page or file is saved,
    renamed, deleted or restored, or a revision hidden (what links here). None for a
    missing or deleted page.
    """
    # This runs on every visit: the statement is compiled once per database dialect and
    # run on a pooled driver connection, which costs a fifth of a session's round trip.
    sql, parameters = _stamp_statement(db.engine.dialect)
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(sql, parameters(slug))
        row = cursor.fetchone()
    finally:
        connection.close()
    return None if row is None else tuple(row)


@functools.lru_cache(maxsize=8)
def _stamp_statement(dialect: Dialect) -> tuple[str, Callable[[str], Any]]:
    """The visitor stamp's SQL for ``dialect``, and how to pass it a slug."""
    compiled = _VISITOR_STAMP.compile(dialect=dialect)
    if compiled.positional:
        return str(compiled), lambda slug: (slug,)
    return str(compiled), lambda slug: {"slug": slug}


def _before_hidden(revision: Revision, column: Any) -> Any:
    """``column`` of the newest revision older than ``revision`` that is not hidden."""
    return db.session.scalar(
        select(column)
        .where(
            Revision.page_id == revision.page_id,
            Revision.number < revision.number,
            Revision.hidden.is_(False),
        )
        .order_by(Revision.number.desc())
        .limit(1)
    )


def visible_fields(revision: Revision) -> dict[str, Any]:
    """The sheet of the page as anyone may see it at ``revision``: like
    :func:`visible_text`, a hidden revision's fields give way to the newest visible ones."""
    if not revision.hidden:
        return dict(revision.fields or {})
    return dict(_before_hidden(revision, Revision.fields) or {})


def visible_text(revision: Revision) -> str:
    """The text of the page as anyone may see it at ``revision``.

    The revision's own text; when it is hidden, that of the newest older revision
    that is not ("" when there is none). Every change made on a page whose current
    revision is hidden (an edit, a merge, a rename, a deletion or a restoration)
    starts from this text, so the hidden text never comes back into a visible one.
    """
    if not revision.hidden:
        return revision.body
    return _before_hidden(revision, Revision.body) or ""


def count_revisions() -> int:
    return db.session.scalar(select(func.count(Revision.id))) or 0


def backlinks(page: Page) -> list[Page]:
    """Live pages whose current text links to ``page``."""
    return list(
        db.session.scalars(
            select(Page)
            .join(Link, Link.source_id == Page.id)
            .where(Link.target_slug == page.slug, Page.deleted.is_(False))
            .order_by(Page.title)
        )
    )


def existing_slugs(slugs: Iterable[str]) -> set[str]:
    """Which of ``slugs`` are live pages, in one query."""
    wanted = set(slugs)
    if not wanted:
        return set()
    return set(
        db.session.scalars(select(Page.slug).where(Page.slug.in_(wanted), Page.deleted.is_(False)))
    )


def list_pages(
    *, kind: str | None = None, tag: str | None = None, offset: int = 0, limit: int = 50
) -> tuple[list[Page], int]:
    """Live pages, by title, filtered by kind and tag; with the total count."""
    query = select(Page).where(Page.deleted.is_(False))
    if kind:
        query = query.where(Page.kind == kind)
    if tag:
        query = query.join(Page.tags).where(Tag.key == tag_key(tag))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    ordered = query.options(selectinload(Page.tags)).order_by(Page.title)
    pages = list(db.session.scalars(ordered.offset(offset).limit(limit)))
    return pages, total


def kind_counts() -> dict[str, int]:
    """Number of live pages of each kind."""
    rows = db.session.execute(
        select(Page.kind, func.count(Page.id)).where(Page.deleted.is_(False)).group_by(Page.kind)
    )
    counts = {kind.value: 0 for kind in Kind}
    counts.update(dict(rows.all()))
    return counts


def tag_counts(*, most_used: int | None = None) -> list[tuple[str, int]]:
    """Tags used by live pages with their page counts, by name.

    With ``most_used``, only that many of the most used tags (still listed by name).
    """
    count = func.count(Page.id)
    query = (
        select(Tag.name, count, Tag.key)
        .join(Page.tags)
        .where(Page.deleted.is_(False))
        .group_by(Tag.name, Tag.key)
    )
    if most_used is not None:
        top = query.order_by(count.desc(), Tag.key).limit(most_used).subquery()
        query = select(top.c.name, top.c[1], top.c.key)
        return [
            (name, n)
            for name, n, _key in sorted(db.session.execute(query).all(), key=lambda row: row[2])
        ]
    return [(name, n) for name, n, _key in db.session.execute(query.order_by(Tag.key)).all()]


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def suggest_titles(text: str, limit: int = 8) -> list[Page]:
    """Live pages whose title holds ``text`` (case and accents aside), those starting
    with it first; what the editor and the search box suggest as one types."""
    wanted = slugify(text)
    if not wanted:
        return []
    starts = Page.slug.like(f"{wanted}%")
    query = (
        select(Page)
        .where(Page.deleted.is_(False), Page.slug.like(f"%{wanted}%"))
        .order_by(starts.desc(), Page.title)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def suggest_tags(text: str, limit: int = 8) -> list[str]:
    """Tags in use whose key holds ``text``, those starting with it first, then the most used."""
    wanted = tag_key(text)
    if not wanted:
        return []
    pattern = _like_escaped(wanted)
    starts = Tag.key.like(f"{pattern}%", escape="\\")
    query = (
        select(Tag.name)
        .join(Page.tags)
        .where(Page.deleted.is_(False), Tag.key.like(f"%{pattern}%", escape="\\"))
        .group_by(Tag.name, Tag.key)
        .order_by(starts.desc(), func.count(Page.id).desc(), Tag.key)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def live_titles(slugs: Iterable[str]) -> list[tuple[str, str]]:
    """(slug, title) of the live pages at ``slugs`` (old addresses followed), in that order."""
    found: dict[str, str] = {}
    for slug in list(dict.fromkeys(slugs))[:1000]:
        page, _redirected = resolve(slug)
        if page is not None and not page.deleted:
            found.setdefault(page.slug, page.title)
    return list(found.items())
