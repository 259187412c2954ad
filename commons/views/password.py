"""Forgotten passwords: ask for a link by email, then choose a new password with it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from .. import password_reset
from ..errors import CommonsError
from ..login import client_address

bp = Blueprint("password", __name__, url_prefix="/password")


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(_l("Give the email address of your account.")), Length(max=254)],
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Choose a new password.")), Length(max=1000)],
    )
    password_confirm = PasswordField(
        _l("New password again"),
        validators=[EqualTo("password", _l("The two passwords differ."))],
    )


def _first_error(form: FlaskForm) -> str | None:
    return next((errors[0] for errors in form.errors.values() if errors), None)


@bp.route("/reset", methods=["GET", "POST"])
def forgot() -> Any:
    """Same answer whether the address has an account or not."""
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("password_forgot.html", form=form, error=_first_error(form)), status
    try:
        password_reset.request_reset(
            form.email.data or "", client=client_address(), base_url=request.host_url
        )
    except CommonsError as error:
        return render_template("password_forgot.html", form=form, error=error.message), (
            error.status
        )
    return render_template("password_forgot.html", form=form, sent=True)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> Any:
    try:
        user = password_reset.user_for_token(token)
    except CommonsError as error:
        return render_template("password_reset.html", invalid=error.message), error.status
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            password_reset.reset_password(token, form.password.data or "")
        except CommonsError as error:
            return render_template(
                "password_reset.html", form=form, user=user, error=error.message
            ), error.status
        flash(_("Your password is changed. Log in with it."), "success")
        return redirect(url_for("auth.login"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "password_reset.html", form=form, user=user, error=_first_error(form)
    ), status
