"""Moderation: protecting pages and hiding revisions' content.

Protection limits who may edit a page; hiding withholds a revision's text from everyone
but admins, logged as a :class:`VisibilityChange` that every process's search index
reads. Nothing is deleted: the text stays in the database. The caller's boundary commits.
"""

from __future__ import annotations

from flask import current_app

from . import experiments, pages, permissions, transaction
from .extensions import db
from .models import Page, Revision, User, VisibilityChange
from .page_queries import visible_fields, visible_text


def set_protected(page: Page, protected: bool, *, author: User | None) -> None:
    """Protect a page (editors and admins only may then edit it), or lift protection."""
    pages.require(permissions.can_manage_pages(author))
    page.protected = protected
    db.session.flush()


def set_revision_hidden(revision: Revision, hidden: bool, *, author: User | None) -> None:
    """Hide a revision's content from everyone but admins (e.g. personal data), or show it.

    The change is logged as a :class:`VisibilityChange`, which every process's search
    index reads. When the revision is the page's current one, the page's links follow
    its visible text.
    """
    pages.require(permissions.can_hide_revisions(author))
    revision.hidden = hidden
    db.session.add(
        VisibilityChange(
            page_id=revision.page_id,
            revision_id=revision.id,
            hidden=hidden,
            author_id=author.id,
            author_name=author.name,
        )
    )
    page = revision.page
    if page.current_revision_id == revision.id and not page.deleted:
        pages.set_links(page, visible_text(revision))
        experiments.record_sheet(page, visible_fields(revision))
    current_app.logger.warning(
        "revision %s of page %s %s by %s",
        revision.number,
        revision.page_id,
        "hidden" if hidden else "unhidden",
        author.name,
    )
    db.session.flush()
    transaction.announce([revision])
