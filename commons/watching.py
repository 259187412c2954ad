"""Following pages, tags and kinds: the watches, the watchlist's latest changes, and each
user's notification settings.

A page is followed by its id, so a rename keeps its followers. Like every service, this
module only flushes; the request or the job commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from . import permissions
from .errors import ValidationError
from .extensions import db
from .models import (
    Kind,
    NotificationFrequency,
    NotificationSettings,
    Page,
    PageTag,
    Revision,
    Tag,
    User,
    Watch,
    WatchTarget,
)

WATCHLIST_CHANGES = 50


@dataclass(frozen=True)
class Followed:
    """One line of a watchlist: what is followed, and the page it is when it is one."""

    watch: Watch
    page: Page | None = None


def _key(target_type: WatchTarget, target: Page | str) -> str:
    return str(target.id) if isinstance(target, Page) else target


def _check_target(user: User, target_type: WatchTarget, target: Page | str) -> None:
    if target_type is WatchTarget.PAGE:
        assert isinstance(target, Page)
        if target.deleted and not permissions.can_see_deleted(user):
            raise ValidationError(_l("This page has been deleted."), code="page_deleted")
    elif target_type is WatchTarget.KIND and target not in {kind.value for kind in Kind}:
        raise ValidationError(_l("There is no such kind of page."), code="kind_invalid")
    elif target_type is WatchTarget.TAG and not db.session.scalar(
        select(Tag.id).where(Tag.name == target)
    ):
        raise ValidationError(_l("No page has this tag."), code="tag_invalid")


def _find(user: User, target_type: WatchTarget, key: str) -> Watch | None:
    return db.session.scalar(
        select(Watch).where(
            Watch.user_id == user.id, Watch.target_type == target_type.value, Watch.target == key
        )
    )


def is_watching(user: User | None, target_type: WatchTarget, target: Page | str) -> bool:
    """Whether ``user`` follows this page, tag or kind (a visitor follows nothing)."""
    if user is None:
        return False
    return _find(user, target_type, _key(target_type, target)) is not None


def watch(user: User, target_type: WatchTarget, target: Page | str) -> None:
    """Follow a page (a :class:`Page`), a tag or a kind (their names); following twice is once."""
    _check_target(user, target_type, target)
    key = _key(target_type, target)
    if _find(user, target_type, key) is None:
        db.session.add(Watch(user_id=user.id, target_type=target_type.value, target=key))
        db.session.flush()


def unwatch(user: User, target_type: WatchTarget, target: Page | str) -> None:
    """Stop following; nothing happens if ``user`` did not follow it."""
    existing = _find(user, target_type, _key(target_type, target))
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()


def toggle(user: User, target_type: WatchTarget, target: Page | str) -> bool:
    """Follow, or stop following; returns whether ``user`` follows it now."""
    if is_watching(user, target_type, target):
        unwatch(user, target_type, target)
        return False
    watch(user, target_type, target)
    return True


def followed(user: User) -> list[Followed]:
    """What ``user`` follows (pages they may no longer see left out), pages first."""
    watches = list(
        db.session.scalars(
            select(Watch)
            .where(Watch.user_id == user.id)
            .order_by(Watch.target_type.desc(), Watch.target)
        )
    )
    page_ids = [int(w.target) for w in watches if w.target_type == WatchTarget.PAGE.value]
    pages = {
        page.id: page
        for page in db.session.scalars(select(Page).where(Page.id.in_(page_ids)))
        if permissions.can_see_deleted(user) or not page.deleted
    }
    lines = []
    for item in watches:
        if item.target_type != WatchTarget.PAGE.value:
            lines.append(Followed(item))
        elif int(item.target) in pages:
            lines.append(Followed(item, pages[int(item.target)]))
    return sorted(lines, key=lambda line: (line.page is None, line.page and line.page.title))


def watched_pages_clause(user_id: int):  # noqa: ANN201 - a SQLAlchemy condition
    """The condition "the page is followed by ``user_id``", directly, by tag or by kind."""
    watches = select(Watch.target).where(Watch.user_id == user_id)
    tagged = (
        select(PageTag.page_id)
        .join(Tag, Tag.id == PageTag.tag_id)
        .where(Tag.name.in_(watches.where(Watch.target_type == WatchTarget.TAG.value)))
    )
    page_ids = [
        int(target)
        for target in db.session.scalars(watches.where(Watch.target_type == WatchTarget.PAGE.value))
    ]
    return or_(
        Page.id.in_(page_ids),
        Page.id.in_(tagged),
        Page.kind.in_(watches.where(Watch.target_type == WatchTarget.KIND.value)),
    )


def latest_changes(user: User, *, limit: int = WATCHLIST_CHANGES) -> list[Revision]:
    """The latest revisions of what ``user`` follows, newest first, as far as they may see."""
    query = (
        select(Revision)
        .join(Page, Page.id == Revision.page_id)
        .where(watched_pages_clause(user.id))
        .order_by(Revision.created_at.desc(), Revision.id.desc())
        .limit(limit)
    )
    if not permissions.can_see_deleted(user):
        query = query.where(Page.deleted.is_(False))
    return list(db.session.scalars(query))


# --- settings ------------------------------------------------------------------------


def settings(user: User) -> NotificationSettings:
    """The user's notification settings; the defaults (not stored) when never changed."""
    stored = db.session.get(NotificationSettings, user.id)
    if stored is not None:
        return stored
    return NotificationSettings(
        user_id=user.id, frequency=NotificationFrequency.IMMEDIATE.value, watch_created=True
    )


def update_settings(user: User, *, frequency: str, watch_created: bool) -> NotificationSettings:
    """Choose how often to hear about followed changes, and whether to follow one's pages."""
    try:
        chosen = NotificationFrequency(frequency)
    except ValueError:
        raise ValidationError(
            _l("Choose immediately, daily, weekly or never."), code="frequency_invalid"
        ) from None
    stored = db.session.get(NotificationSettings, user.id)
    if stored is None:
        stored = NotificationSettings(user_id=user.id)
        db.session.add(stored)
    stored.frequency = chosen.value
    stored.watch_created = watch_created
    db.session.flush()
    return stored
