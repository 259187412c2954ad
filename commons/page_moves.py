"""Moving a page through its history: rename, delete, restore, revert.

Each move appends a revision (:func:`commons.pages.append_revision`) that keeps the
page's visible text or brings an old one back, and announces it; the caller's boundary
commits. Only editors and admins may rename, delete and restore; whoever may edit a
page may revert it.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from . import licenses, pages, permissions, transaction
from .attribution import Author, clean_summary
from .errors import ValidationError
from .extensions import db
from .models import Action, Page, Redirect, Revision, User
from .page_queries import find, get_revision, visible_text
from .slugs import slugify


def rename(
    page: Page,
    new_title: str,
    *,
    author: User | None,
    summary: str = "",
    new_slug: str | None = None,
) -> Revision:
    """Give ``page`` a new title and address; the old address redirects to it.

    Like :func:`delete` and :func:`restore`, the new revision keeps the page's visible
    text (see :func:`commons.page_queries.visible_text`).
    """
    pages.require(permissions.can_manage_pages(author))
    page = pages.lock(page)
    title = pages.clean_title(new_title)
    slug = pages.clean_slug(new_slug) if new_slug else slugify(title)
    if slug == page.slug and title == page.title:
        raise ValidationError(
            _l("The new title is the same as the current one."), code="rename_same"
        )
    if slug != page.slug:
        if db.session.scalar(select(Page.id).where(Page.slug == slug)) is not None:
            raise ValidationError(
                _l("A page already exists at “%(slug)s”.", slug=slug), code="slug_taken"
            )
        db.session.execute(Redirect.__table__.delete().where(Redirect.slug == slug))
        db.session.add(Redirect(slug=page.slug, page_id=page.id))
        page.slug = slug
    page.title = title
    return _record(page, Action.RENAME, author, summary)


def _record(page: Page, action: Action, author: User | None, summary: str) -> Revision:
    """Append the move as a revision that keeps the page's visible text; announce it."""
    assert page.current_revision is not None
    revision = pages.append_revision(
        page,
        action=action,
        body=visible_text(page.current_revision),
        author=Author.of(author),
        summary=clean_summary(summary),
    )
    transaction.announce([revision])
    return revision


def delete(page: Page, *, author: User | None, summary: str = "") -> Revision:
    """Hide ``page``; a revision records it and :func:`restore` undoes it."""
    pages.require(permissions.can_manage_pages(author))
    page = pages.lock(page)
    if page.deleted:
        raise ValidationError(_l("This page is already deleted."), code="already_deleted")
    page.deleted = True
    return _record(page, Action.DELETE, author, summary)


def restore(page: Page, *, author: User | None, summary: str = "") -> Revision:
    """Bring a deleted page back, as a new revision."""
    pages.require(permissions.can_manage_pages(author))
    page = pages.lock(page)
    if not page.deleted:
        raise ValidationError(_l("This page is not deleted."), code="not_deleted")
    if (
        db.session.scalar(select(Page.id).where(Page.slug == page.slug, Page.id != page.id))
        is not None
    ):
        raise ValidationError(_l("Another page now uses this address."), code="slug_taken")
    page.deleted = False
    return _record(page, Action.RESTORE, author, summary)


def revert(page: Page, number: int, *, author: User | None, summary: str = "") -> Revision:
    """Make revision ``number``'s text and metadata current again, as a new revision.

    A hidden revision cannot be brought back, nor one under a licence the page's
    licence cannot become (as for a save).
    """
    pages.require(permissions.can_edit(author, page))
    page = pages.lock(page)
    old = get_revision(page, number)
    if old.hidden:
        raise ValidationError(_l("A hidden revision cannot be restored."), code="hidden")
    current = page.current_revision
    assert current is not None
    if old.id == current.id:
        raise ValidationError(_l("This is already the current revision."), code="revert_same")
    licenses.check_change(page.license, old.license)
    if old.slug != page.slug and find(old.slug, include_deleted=True) is None:
        db.session.execute(Redirect.__table__.delete().where(Redirect.slug == old.slug))
        db.session.add(Redirect(slug=page.slug, page_id=page.id))
        page.slug = old.slug
    page.title = old.title
    page.kind = old.kind
    page.license = old.license
    pages.set_tags(page, list(old.tags))
    summary = clean_summary(summary) or str(_l("Restored revision %(number)s", number=number))
    revision = pages.append_revision(
        page,
        action=Action.REVERT,
        body=old.body,
        author=Author.of(author),
        summary=summary,
        fields=old.fields,
    )
    transaction.announce([revision])
    return revision
