"""Rendered HTML per revision, cached in the database so views never re-run Markdown."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from . import pages, render
from .extensions import db
from .models import RenderedRevision, Revision


@dataclass(frozen=True)
class View:
    """What a template needs to show a revision's body."""

    html: str
    toc: str


def _cached(revision: Revision) -> RenderedRevision:
    row = db.session.get(RenderedRevision, revision.id)
    if row is not None and row.renderer == render.RENDERER_VERSION:
        return row
    result = render.render_markdown(revision.body)
    if row is None:
        row = RenderedRevision(revision_id=revision.id)
        db.session.add(row)
    row.renderer = render.RENDERER_VERSION
    row.html = result.html
    row.toc = result.toc
    # A concurrent worker may have cached the same revision: losing that race is harmless.
    try:
        db.session.commit()
    except Exception:  # noqa: BLE001 - any integrity error means someone else stored it
        db.session.rollback()
        return _uncached(revision, result)
    return row


def _uncached(revision: Revision, result: render.Rendered) -> RenderedRevision:
    return RenderedRevision(
        revision_id=revision.id, renderer=render.RENDERER_VERSION, html=result.html, toc=result.toc
    )


def revision_view(revision: Revision) -> View:
    """The revision's HTML with links to missing pages marked, and its table of contents."""
    row = _cached(revision)
    targets = render.link_targets(revision.body)
    missing = set(targets) - pages.existing_slugs(targets)
    return View(html=render.mark_missing_links(row.html, missing), toc=row.toc)


def preview(body: str) -> View:
    """Render unsaved text with the same pipeline as a page view."""
    result = render.render_markdown(body)
    missing = set(result.links) - pages.existing_slugs(result.links)
    return View(html=render.mark_missing_links(result.html, missing), toc=result.toc)


def cached_ids(revision_ids: list[int]) -> set[int]:
    """Which revisions already have rendered HTML (used by benchmarks and warm-up)."""
    return set(
        db.session.scalars(
            select(RenderedRevision.revision_id).where(
                RenderedRevision.revision_id.in_(revision_ids)
            )
        )
    )
