"""Who is acting in this request: Flask-Login's wiring and what it reads from the request.

The account rules (passwords, sessions, tokens, throttling) are :mod:`commons.auth`, which
takes everything as arguments; this module reads the request for it: the session and
remember-me cookies, the ``Authorization: Bearer`` header of the API, the client's
address. It also gives views :func:`acting_user` and :func:`permission_required`.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any

from flask import Flask, Request, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from . import auth
from .errors import Forbidden
from .extensions import db, login_manager
from .models import ApiToken, User

#: Where an ``Authorization: Bearer`` token says who acts; elsewhere only cookies do.
API_PREFIX = "/api/"


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"


@login_manager.user_loader
def _load_user(cookie_id: str) -> User | None:
    """The user of a session or remember-me cookie, if its session key is still the user's.

    Session and remember-me cookies both carry ``User.get_id()``, "id:session key"; a
    logout gives the user a new key, so every cookie issued before stops working. Under
    the API, a bearer token wins over any cookie (see :func:`_load_user_from_token`).
    """
    if bearer_secret() is not None:
        return _load_user_from_token(request)
    user_id, _, key = cookie_id.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or user.blocked or not secrets.compare_digest(user.session_key, key):
        return None
    return user


@login_manager.request_loader
def _load_user_from_token(_request: Request) -> User | None:
    """The owner of the request's API token; None for a missing or unknown token.

    A blocked owner's token makes a visitor: blocking stops tokens without revoking them.
    """
    token = request_token()
    if token is None or token.user.blocked:
        return None
    return token.user


def acting_user() -> User | None:
    """The logged-in user (or the owner of the API token), or None for a visitor."""
    return current_user if current_user.is_authenticated else None  # type: ignore[return-value]


def bearer_secret() -> str | None:
    """The token of an API request's ``Authorization: Bearer`` header, or None."""
    if not request.path.startswith(API_PREFIX):
        return None
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else None


def request_token() -> ApiToken | None:
    """The API token that authenticates this request, if its bearer header names one."""
    if "commons_api_token" not in g:
        secret = bearer_secret()
        g.commons_api_token = auth.use_token(secret) if secret else None
    return g.commons_api_token


def client_address() -> str:
    """The address the request came from, as the throttling of logins counts it."""
    return request.remote_addr or "unknown"


def permission_required(
    rule: Callable[[User], bool],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Refuse the view unless the user passes ``rule`` (one of :mod:`commons.permissions`):
    a visitor is sent to log in, a user who does not pass gets a 403."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = acting_user()
            if user is None:
                return login_manager.unauthorized()
            if not rule(user):
                raise Forbidden(_l("You do not have the rights to do this."))
            return view(*args, **kwargs)

        return wrapped

    return decorator
