"""The account page: email address (verified by a link), language, contributions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from .. import email_verification, permissions
from ..errors import CommonsError
from ..extensions import db
from ..i18n import LANGUAGE_NAMES
from ..login import acting_user, permission_required
from ..models import Revision

bp = Blueprint("profile", __name__, url_prefix="/account")

CONTRIBUTIONS_SHOWN = 50


class EmailForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[Length(max=254)])


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language of the pages and mails"))


def _language_form(**kwargs: Any) -> LanguageForm:
    form = LanguageForm(**kwargs)
    form.locale.choices = [SelectChoice("", _("The browser’s language"))] + [
        SelectChoice(code, LANGUAGE_NAMES.get(code, code)) for code in current_app.config["LOCALES"]
    ]
    return form


def _profile_page(status: int = 200, **extra: Any) -> tuple[str, int]:
    user = acting_user()
    assert user is not None
    contributions = list(
        db.session.scalars(
            select(Revision)
            .where(Revision.author_id == user.id)
            .order_by(Revision.created_at.desc(), Revision.id.desc())
            .limit(CONTRIBUTIONS_SHOWN)
        )
    )
    extra.setdefault("email_form", EmailForm(data={"email": user.email or ""}))
    extra.setdefault("language_form", _language_form(data={"locale": user.locale or ""}))
    page = render_template(
        "profile.html",
        user=user,
        verified=email_verification.is_verified(user),
        verification=email_verification.mode(),
        contributions=contributions,
        **extra,
    )
    return page, status


@bp.get("")
@permission_required(permissions.can_watch)
def profile() -> Any:
    return _profile_page()


@bp.post("/email")
@permission_required(permissions.can_watch)
def change_email() -> Any:
    user = acting_user()
    assert user is not None
    form = EmailForm()
    if not form.validate_on_submit():
        return _profile_page(400, email_form=form, email_error=_("Check the address."))
    try:
        pending = email_verification.change_email(user, form.email.data, base_url=request.host_url)
    except CommonsError as error:
        return _profile_page(error.status, email_form=form, email_error=error.message)
    if pending:
        flash(
            _(
                "A link is on its way to %(email)s: open it to confirm the address.",
                email=form.email.data,
            ),
            "info",
        )
    else:
        flash(_("Your email address is saved."), "success")
    return redirect(url_for("profile.profile"))


@bp.post("/language")
@permission_required(permissions.can_watch)
def change_language() -> Any:
    user = acting_user()
    assert user is not None
    form = _language_form()
    if not form.validate_on_submit():
        return _profile_page(400, language_form=form)
    user.locale = form.locale.data or None
    flash(_("Your language is saved."), "success")
    return redirect(url_for("profile.profile"))


@bp.get("/email/verify/<token>")
def verify_email(token: str) -> Any:
    """Opening the mailed link proves the address (no login needed: the link is the proof)."""
    try:
        user = email_verification.confirm(token)
    except CommonsError as error:
        return render_template("error.html", status=error.status, message=error.message), (
            error.status
        )
    flash(_("The address %(email)s is confirmed.", email=user.email), "success")
    return redirect(url_for("profile.profile" if acting_user() else "auth.login"))
