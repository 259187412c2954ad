"""Log in, log out, register."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from .. import auth
from ..errors import CommonsError

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only redirect within this site after logging in."""
    if (
        target
        and not urlsplit(target).netloc
        and target.startswith("/")
        and not target.startswith("//")
    ):
        return target
    return url_for("wiki.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        try:
            user = auth.authenticate(name, request.form.get("password", ""), auth.client_address())
        except CommonsError as error:
            return render_template("login.html", error=error.message, name=name), error.status
        login_user(user, remember="remember" in request.form)
        flash(_("Welcome, %(name)s.", name=user.name), "success")
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", name="")


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("wiki.home"))


@bp.route("/register", methods=["GET", "POST"])
def register() -> Any:
    if not current_app.config["REGISTRATION_OPEN"]:
        return render_template(
            "error.html", status=403, message=_("Registration is closed on this wiki.")
        ), 403
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        password = request.form.get("password", "")
        if password != request.form.get("password_confirm", ""):
            return render_template(
                "register.html", name=name, error=_("The two passwords differ.")
            ), 400
        try:
            user = auth.create_user(name, password, email=request.form.get("email") or None)
        except CommonsError as error:
            return render_template("register.html", name=name, error=error.message), error.status
        login_user(user)
        flash(_("Your account is ready. Welcome, %(name)s.", name=user.name), "success")
        return redirect(url_for("wiki.home"))
    return render_template("register.html", name="")
