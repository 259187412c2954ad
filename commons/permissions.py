"""Who may do what: every "may this user …" rule of the wiki, in one place.

Each rule takes the acting user (``None`` for a visitor) and answers yes or no. Services
enforce them; views and templates (through the ``permissions`` template global) ask them
only to decide what to offer. Roles are ranked reader < member < editor < admin, and a
blocked account has none (:meth:`commons.models.User.has_role`).
"""

from __future__ import annotations

from flask import current_app

from .models import Page, Revision, Role, User


def _has_role(user: User | None, role: Role) -> bool:
    return user is not None and user.has_role(role)


# --- pages ---------------------------------------------------------------------------


def can_edit(user: User | None, page: Page | None) -> bool:
    """Members edit and create pages (``page`` None); protected pages need an editor;
    visitors only when anonymous editing is configured, and never a protected page."""
    if user is None:
        return bool(current_app.config["ANONYMOUS_EDITING"]) and not (page and page.protected)
    needed = Role.EDITOR if page is not None and page.protected else Role.MEMBER
    return user.has_role(needed)


def can_manage_pages(user: User | None) -> bool:
    """Editors and admins rename, protect, delete and restore pages (saving a deleted
    page restores it)."""
    return _has_role(user, Role.EDITOR)


def can_see_deleted(user: User | None) -> bool:
    """A deleted page, its text and its history are for those who may restore it."""
    return can_manage_pages(user)


# --- hidden revisions --------------------------------------------------------------


def can_see_hidden(user: User | None) -> bool:
    """Admins alone see what a hidden revision holds: its text and anything derived from it."""
    return _has_role(user, Role.ADMIN)


def can_read(user: User | None, revision: Revision) -> bool:
    """Whether ``user`` may see ``revision``'s text (and its size, hash and rendering)."""
    return not revision.hidden or can_see_hidden(user)


def can_hide_revisions(user: User | None) -> bool:
    """Those who see hidden text are those who hide a revision's content or show it again."""
    return can_see_hidden(user)


# --- files and bundles -----------------------------------------------------------------


def can_upload(user: User | None) -> bool:
    """Members upload files and new versions of them."""
    return _has_role(user, Role.MEMBER)


def can_import(user: User | None) -> bool:
    """Editors and admins import bundles."""
    return _has_role(user, Role.EDITOR)


def can_manage_themes(user: User | None) -> bool:
    """Admins add, relabel and retire the themes of the thesaurus."""
    return _has_role(user, Role.ADMIN)


# --- accounts --------------------------------------------------------------------------


def can_manage_tokens(user: User | None) -> bool:
    """Every account (whatever its role) lists, creates and revokes its own API tokens."""
    return _has_role(user, Role.READER)


def can_manage_accounts(user: User | None) -> bool:
    """Admins list accounts, change roles and block or unblock users."""
    return _has_role(user, Role.ADMIN)


def can_watch(user: User | None) -> bool:
    """Every account (whatever its role) follows pages and gets notified of their changes."""
    return _has_role(user, Role.READER)
