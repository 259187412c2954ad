"""Log in, log out, register."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from .. import auth, email_verification
from ..errors import CommonsError, ValidationError
from ..login import acting_user, client_address
from ..models import User
from ..security import local_path
from .forms import LoginForm, RegisterForm

bp = Blueprint("auth", __name__)

#: What a session keeps across a login or a logout: only the reader's language.
KEPT_ACROSS_LOGIN = ("locale",)


def _start_session(user: User | None, *, remember: bool = False) -> None:
    """A new session (new CSRF secret, nothing a visitor's page showed) for ``user``.

    A CSRF token that was shown before logging in, maybe in a page other visitors saw,
    must not act for the account afterwards.
    """
    kept = {key: session[key] for key in KEPT_ACROSS_LOGIN if key in session}
    session.clear()
    session.update(kept)
    logout_user()  # after clearing: it marks a remember-me cookie for deletion
    if user is not None:
        login_user(user, remember=remember)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "POST":
        form = LoginForm()
        try:
            form.validated()
            user = auth.authenticate(form.name.data, form.password.data, client_address())
        except CommonsError as error:
            return render_template(
                "login.html", error=error.message, name=form.name.data
            ), error.status
        _start_session(user, remember=form.remember.data)
        flash(_("Welcome, %(name)s.", name=user.name), "success")
        return redirect(local_path(request.args.get("next")) or url_for("wiki.home"))
    return render_template("login.html", name="")


@bp.post("/logout")
def logout() -> Any:
    """Log out here and everywhere: every session and remember-me cookie stops working."""
    user = acting_user()
    if user is not None:
        auth.end_sessions(user)
    _start_session(None)
    flash(_("You are logged out."), "info")
    return redirect(url_for("wiki.home"))


@bp.route("/register", methods=["GET", "POST"])
def register() -> Any:
    if not current_app.config["REGISTRATION_OPEN"]:
        return render_template(
            "error.html", status=403, message=_("Registration is closed on this wiki.")
        ), 403
    if request.method == "POST":
        form = RegisterForm()
        try:
            form.validated()
            email = form.email.data or None
            if email is None and email_verification.mode() == "required":
                raise ValidationError(_("This wiki needs an email address for every account."))
            user = auth.register(
                form.name.data,
                form.password.data,
                email=email,
                address=client_address(),
            )
        except CommonsError as error:
            return render_template(
                "register.html", name=form.name.data, error=error.message
            ), error.status
        if user.email and email_verification.mode() != "off":
            email_verification.send_link(user, user.email, base_url=request.host_url)
        _start_session(user)
        flash(_("Your account is ready. Welcome, %(name)s.", name=user.name), "success")
        return redirect(url_for("wiki.home"))
    return render_template("register.html", name="")
