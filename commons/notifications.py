"""Notifications: telling people by mail about changes to what they follow.

After each commit that saved pages, a job (:func:`record_changes`) notes, for every
follower of the changed pages (directly, by tag or by kind), which revision they are to
hear about — never their own — and makes authors follow the pages they create.

Each user's pending changes leave in one mail, a batch (:func:`deliver_batch`):

- "immediately": once the pages have been quiet for ``COMMONS_NOTIFICATION_DELAY``
  seconds, so an editing session of ten saves makes one mail;
- daily or weekly: when ``commons digest send`` (run by cron) finds the digest due.

A batch is claimed by marking its rows sent in the job's transaction, so two jobs never
send it twice; the mail itself is a job of its own, retried until the server takes it.
At the time of sending, what the recipient may not see (a deleted page, a hidden
revision) is left out (:mod:`commons.permissions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, or_, select, update

from . import email_verification, jobs, mail, permissions, transaction, watching
from .errors import ValidationError
from .extensions import db
from .models import (
    NotificationFrequency,
    Page,
    PendingNotification,
    Revision,
    User,
    Watch,
    WatchTarget,
    utcnow,
)

#: How long a digest waits after the previous one; an hour early still counts, so a
#: cron job that runs a little ahead of the clock does not skip a day.
DIGEST_PERIODS = {
    NotificationFrequency.DAILY.value: timedelta(days=1) - timedelta(hours=1),
    NotificationFrequency.WEEKLY.value: timedelta(days=7) - timedelta(hours=1),
}
_UNSUBSCRIBE_SALT = "commons.unsubscribe"


def init_app(app: Flask) -> None:
    transaction.pages_changed.connect(_on_pages_changed)


def _on_pages_changed(sender: Flask, revisions: Sequence[Revision] = (), **_: Any) -> None:
    if not revisions:
        return
    base_url = request.host_url if has_request_context() else None
    jobs.enqueue_committed(sender, record_changes, [rev.id for rev in revisions], base_url)


# --- recording ---------------------------------------------------------------------


def _followers(revision: Revision) -> set[int]:
    """Ids of the users who follow the revision's page, one of its tags or its kind."""
    conditions = [
        and_(Watch.target_type == WatchTarget.PAGE.value, Watch.target == str(revision.page_id)),
        and_(Watch.target_type == WatchTarget.KIND.value, Watch.target == revision.kind),
    ]
    if revision.tags:
        conditions.append(
            and_(Watch.target_type == WatchTarget.TAG.value, Watch.target.in_(revision.tags))
        )
    return set(db.session.scalars(select(Watch.user_id).where(or_(*conditions)).distinct()))


def record_changes(revision_ids: list[int], base_url: str | None) -> None:
    """The job run after pages were saved: note who is to hear about each revision."""
    revisions = list(
        db.session.scalars(
            select(Revision).where(Revision.id.in_(revision_ids)).order_by(Revision.id)
        )
    )
    # A retried job, or a revision announced again (hidden, shown), is noted once.
    known = {
        (user_id, revision_id)
        for user_id, revision_id in db.session.execute(
            select(PendingNotification.user_id, PendingNotification.revision_id).where(
                PendingNotification.revision_id.in_(revision_ids)
            )
        )
    }
    immediate: set[int] = set()
    for revision in revisions:
        for user_id in _followers(revision) - {revision.author_id}:
            user = db.session.get(User, user_id)
            if user is None or not email_verification.may_receive_mail(user):
                continue
            frequency = watching.settings(user).frequency
            if frequency == NotificationFrequency.OFF.value or (user_id, revision.id) in known:
                continue
            db.session.add(PendingNotification(user_id=user_id, revision_id=revision.id))
            if frequency == NotificationFrequency.IMMEDIATE.value:
                immediate.add(user_id)
    db.session.flush()
    delay = float(current_app.config["NOTIFICATION_DELAY"])
    for user_id in sorted(immediate):
        jobs.enqueue(deliver_batch, user_id, base_url, False, delay=delay)


# --- delivering ----------------------------------------------------------------------


@dataclass
class PageChanges:
    """What one mail says about one page: its changes since the last mail."""

    page: Page
    first: Revision
    last: Revision
    count: int = 0
    authors: list[str] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)


def _due(user: User, rows: list[PendingNotification], digest: bool, now: datetime) -> bool:
    frequency = watching.settings(user).frequency
    if frequency == NotificationFrequency.IMMEDIATE.value:
        quiet_since = now - timedelta(seconds=float(current_app.config["NOTIFICATION_DELAY"]))
        return max(row.created_at for row in rows) <= quiet_since
    if frequency in DIGEST_PERIODS:
        last = watching.settings(user).last_digest_at
        return digest and (last is None or now - last >= DIGEST_PERIODS[frequency])
    return True  # notifications switched off since: the rows are only cleared


def deliver_batch(user_id: int, base_url: str | None, digest: bool) -> None:
    """The job that sends a user's pending changes in one mail, if they are due."""
    user = db.session.get(User, user_id)
    rows = list(
        db.session.scalars(
            select(PendingNotification)
            .where(PendingNotification.user_id == user_id, PendingNotification.sent_at.is_(None))
            .order_by(PendingNotification.revision_id)
        )
    )
    now = utcnow()
    if user is None or not rows or not _due(user, rows, digest, now):
        return
    claimed = db.session.execute(
        update(PendingNotification)
        .where(
            PendingNotification.id.in_([row.id for row in rows]),
            PendingNotification.sent_at.is_(None),
        )
        .values(sent_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != len(rows):
        return  # another job is sending this batch
    settings = watching.settings(user)
    frequency = settings.frequency
    if frequency in DIGEST_PERIODS:
        settings.last_digest_at = now
    changes = _visible_changes(user, [row.revision for row in rows])
    wanted = frequency != NotificationFrequency.OFF.value
    if not wanted or not email_verification.may_receive_mail(user):
        changes = []
    if changes:
        _mail_changes(user, changes, base_url, digest=frequency in DIGEST_PERIODS)
    db.session.flush()


def _visible_changes(user: User, revisions: list[Revision]) -> list[PageChanges]:
    """The revisions grouped by page, without what ``user`` may not see."""
    by_page: dict[int, PageChanges] = {}
    for revision in revisions:
        page = revision.page
        if page.deleted and not permissions.can_see_deleted(user):
            continue
        if not permissions.can_read(user, revision):
            continue
        changes = by_page.setdefault(page.id, PageChanges(page, revision, revision))
        changes.last = revision
        changes.count += 1
        if revision.author_name not in changes.authors:
            changes.authors.append(revision.author_name)
        if revision.summary:
            changes.summaries.append(revision.summary)
    return list(by_page.values())


def _mail_changes(
    user: User, changes: list[PageChanges], base_url: str | None, *, digest: bool
) -> None:
    entries = []
    for item in changes:
        if item.first.number > 1:
            link = mail.absolute_url(
                "wiki.diff",
                base_url,
                slug=item.page.slug,
                **{"from": item.first.number - 1, "to": item.last.number},
            )
        else:
            link = mail.absolute_url("wiki.view", base_url, slug=item.page.slug)
        entries.append({"changes": item, "link": link})
    unsubscribe = mail.absolute_url(
        "notifications.unsubscribe", base_url, token=unsubscribe_token(user)
    )
    subject, text, html = mail.render(
        "notification",
        mail.recipient_locale(user),
        lambda: ngettext(
            "%(num)s page you follow changed", "%(num)s pages you follow changed", len(entries)
        ),
        user=user,
        entries=entries,
        digest=digest,
        watchlist=mail.absolute_url("watching.watchlist", base_url),
        unsubscribe=unsubscribe,
    )
    mail.send(
        mail.compose(
            to=user.email or "", subject=subject, text=text, html=html, unsubscribe_url=unsubscribe
        )
    )


def send_digests() -> int:
    """Queue a batch for every user with pending changes (``commons digest send``).

    Digests go to those whose digest is due; "immediate" batches whose job was lost go
    too. Returns the number of users looked at.
    """
    user_ids = list(
        db.session.scalars(
            select(PendingNotification.user_id)
            .where(PendingNotification.sent_at.is_(None))
            .distinct()
        )
    )
    base_url = current_app.config.get("BASE_URL")
    for user_id in user_ids:
        jobs.enqueue(deliver_batch, user_id, base_url, True)
    return len(user_ids)


# --- unsubscribing ---------------------------------------------------------------------


def _unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_UNSUBSCRIBE_SALT)


def unsubscribe_token(user: User) -> str:
    """The token of a user's unsubscribe link: it stops their notification mails."""
    return _unsubscribe_serializer().dumps(user.id)


def user_for_unsubscribe_token(token: str) -> User:
    """The user an unsubscribe link is for; :class:`ValidationError` for a bad link."""
    try:
        user_id = _unsubscribe_serializer().loads(token)
    except BadSignature:
        user_id = None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None:
        raise ValidationError(_l("This unsubscribe link is not valid."), code="unsubscribe_invalid")
    return user


def unsubscribe(token: str) -> User:
    """Stop every notification mail of the link's user (they keep following, by watchlist)."""
    user = user_for_unsubscribe_token(token)
    watching.update_settings(
        user,
        frequency=NotificationFrequency.OFF.value,
        watch_created=watching.settings(user).watch_created,
    )
    return user
