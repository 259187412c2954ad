"""Following: the one-click watch forms of pages, tags and kinds, and the watchlist."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField
from wtforms.fields.choices import SelectChoice

from .. import page_queries, permissions, watching
from ..login import acting_user, permission_required
from ..models import Kind, NotificationFrequency, Page, WatchTarget

bp = Blueprint("watching", __name__)


class WatchForm(FlaskForm):
    """A form with no field but its CSRF token: the button follows or stops following."""


class NotificationSettingsForm(FlaskForm):
    frequency = RadioField(
        _l("Tell me about changes"),
        choices=[
            SelectChoice(
                NotificationFrequency.IMMEDIATE.value,
                _l("As they happen (one mail per editing session)"),
            ),
            SelectChoice(NotificationFrequency.DAILY.value, _l("Once a day, in a digest")),
            SelectChoice(NotificationFrequency.WEEKLY.value, _l("Once a week, in a digest")),
            SelectChoice(NotificationFrequency.OFF.value, _l("Never by mail")),
        ],
    )
    watch_created = BooleanField(_l("Follow the pages I create"))


@bp.record_once
def _template_helpers(state: Any) -> None:
    app: Flask = state.app

    def is_watching(target_type: str, target: Page | str) -> bool:
        return watching.is_watching(acting_user(), WatchTarget(target_type), target)

    app.jinja_env.globals["is_watching"] = is_watching


def _toggle(target_type: WatchTarget, target: Page | str, label: str, back: str) -> Any:
    if not WatchForm().validate_on_submit():
        abort(400)
    user = acting_user()
    assert user is not None
    if watching.toggle(user, target_type, target):
        flash(
            _("You follow %(name)s. Its changes appear in your watchlist.", name=label), "success"
        )
    else:
        flash(_("You no longer follow %(name)s.", name=label), "info")
    return redirect(back)


@bp.post("/wiki/<slug>/watch")
@permission_required(permissions.can_watch)
def watch_page(slug: str) -> Any:
    page, _redirected = page_queries.resolve(slug)
    if page is None or (page.deleted and not permissions.can_see_deleted(acting_user())):
        abort(404)
    title = page.current_revision.title if page.current_revision else page.title
    label = _("the page “%(title)s”", title=title)
    return _toggle(WatchTarget.PAGE, page, label, url_for("wiki.view", slug=page.slug))


@bp.post("/tag/<tag>/watch")
@permission_required(permissions.can_watch)
def watch_tag(tag: str) -> Any:
    label = _("the tag “%(tag)s”", tag=tag)
    return _toggle(WatchTarget.TAG, tag, label, url_for("wiki.by_tag", tag=tag))


@bp.post("/kind/<kind>/watch")
@permission_required(permissions.can_watch)
def watch_kind(kind: str) -> Any:
    if kind not in {value.value for value in Kind}:
        abort(404)
    label = _("this kind of page")
    return _toggle(WatchTarget.KIND, kind, label, url_for("wiki.by_kind", kind=kind))


def _watchlist_page(form: NotificationSettingsForm, status: int = 200) -> tuple[str, int]:
    user = acting_user()
    assert user is not None
    page = render_template(
        "watchlist.html",
        followed=watching.followed(user),
        changes=watching.latest_changes(user),
        reveal_hidden=permissions.can_see_hidden(user),
        form=form,
    )
    return page, status


@bp.get("/watchlist")
@permission_required(permissions.can_watch)
def watchlist() -> Any:
    user = acting_user()
    assert user is not None
    current = watching.settings(user)
    form = NotificationSettingsForm(
        data={"frequency": current.frequency, "watch_created": current.watch_created}
    )
    return _watchlist_page(form)


@bp.post("/watchlist/settings")
@permission_required(permissions.can_watch)
def notification_settings() -> Any:
    user = acting_user()
    assert user is not None
    form = NotificationSettingsForm()
    if not form.validate_on_submit():
        return _watchlist_page(form, 400)
    watching.update_settings(
        user, frequency=form.frequency.data or "", watch_created=bool(form.watch_created.data)
    )
    flash(_("Your notification settings are saved."), "success")
    return redirect(url_for("watching.watchlist"))
