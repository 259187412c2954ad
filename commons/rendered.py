"""Rendered HTML per revision, cached in the database so views never re-run Markdown.

A page view that renders a revision stores the rendering in the request's transaction,
which the request's end commits (a GET writes only here).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import get_template_attribute
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import licenses, media, page_queries, render, transaction
from .extensions import db
from .models import Media, RenderedRevision, Revision


@dataclass(frozen=True)
class View:
    """What a template needs to show a revision's body."""

    html: str
    toc: str


def _cached(revision: Revision, *, store: bool) -> RenderedRevision:
    row = db.session.get(RenderedRevision, revision.id)
    if row is not None and row.renderer == render.RENDERER_VERSION:
        return row
    result = render.render_markdown(revision.body)
    if not store:
        return _uncached(revision, result)
    try:
        with transaction.savepoint():
            if row is None:
                row = RenderedRevision(revision_id=revision.id)
                db.session.add(row)
            row.renderer = render.RENDERER_VERSION
            row.html = result.html
            row.toc = result.toc
            db.session.flush()
    except IntegrityError:
        # A concurrent worker stored the same revision's rendering first: losing that race
        # is harmless, and the savepoint keeps the rest of the request's work.
        return _uncached(revision, result)
    return row


def _uncached(revision: Revision, result: render.Rendered) -> RenderedRevision:
    return RenderedRevision(
        revision_id=revision.id, renderer=render.RENDERER_VERSION, html=result.html, toc=result.toc
    )


def _finish(html: str, links: list[str], media_names: list[str]) -> str:
    """What depends on other pages and files: missing links, media credit lines."""
    missing = set(links) - page_queries.existing_slugs(links)
    html = render.mark_missing_links(html, missing)
    if media_names:
        found = media.by_names(set(media_names))
        credit_lines = {name: media_credit_line(item) for name, item in found.items()}
        html = render.decorate_media(
            html, credit_lines, gettext("This file does not exist yet: upload it.")
        )
    return html


def media_credit_line(item: Media) -> str:
    """Authors and licence of a media, as escaped HTML for its caption: the markup is the
    ``media_credit_line`` macro's, as on the credits pages."""
    credit_line = get_template_attribute("_media_credit.html", "media_credit_line")
    return str(credit_line(media.creators(item), licenses.get(item.license)))


def revision_view(revision: Revision, *, store: bool = True) -> View:
    """The revision's HTML with links to missing pages marked, and its table of contents.

    A rendering missing from the cache is stored in it, unless ``store`` is False: an
    export reads the whole wiki and must not hold a write transaction while it streams.
    """
    row = _cached(revision, store=store)
    html = _finish(
        row.html, render.link_targets(revision.body), render.media_targets(revision.body)
    )
    return View(html=html, toc=row.toc)


def preview(body: str) -> View:
    """Render unsaved text with the same pipeline as a page view."""
    result = render.render_markdown(body)
    return View(html=_finish(result.html, result.links, result.media), toc=result.toc)


def cached_ids(revision_ids: list[int]) -> set[int]:
    """Which revisions already have rendered HTML (used by benchmarks and warm-up)."""
    return set(
        db.session.scalars(
            select(RenderedRevision.revision_id).where(
                RenderedRevision.revision_id.in_(revision_ids)
            )
        )
    )
