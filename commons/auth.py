"""Users, roles, API tokens, login throttling and the flask-login wiring."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from .errors import CommonsError, Forbidden, ValidationError
from .extensions import db, login_manager
from .models import ApiToken, LoginAttempt, Role, User, utcnow

USERNAME = re.compile(r"^[\w.\- ]{2,80}$")
MIN_PASSWORD = 8
#: Failed logins allowed per account, and per address, within THROTTLE_WINDOW.
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
THROTTLE_WINDOW = timedelta(minutes=15)


class TooManyAttempts(CommonsError):
    code = "too_many_attempts"
    status = 429


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and not user.blocked else None


@login_manager.request_loader
def _load_user_from_token(req: Any) -> User | None:
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return user_for_token(header.removeprefix("Bearer ").strip())


def acting_user() -> User | None:
    """The logged-in user, or None for a visitor."""
    return current_user if current_user.is_authenticated else None  # type: ignore[return-value]


# --- accounts ------------------------------------------------------------------------


def create_user(
    name: str, password: str, *, role: Role | str = Role.MEMBER, email: str | None = None
) -> User:
    """Create an account; raises :class:`ValidationError` on a bad or taken name."""
    name = " ".join((name or "").split())
    if not USERNAME.match(name):
        raise ValidationError(
            _l("A user name has 2 to 80 letters, digits, spaces, dots, dashes or underscores."),
            code="name_invalid",
        )
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError(
            _l("The password needs at least %(count)s characters.", count=MIN_PASSWORD),
            code="password_too_short",
        )
    role = _role(role)
    if find_user(name) is not None:
        raise ValidationError(
            _l("The name “%(name)s” is already taken.", name=name), code="name_taken"
        )
    user = User(
        name=name,
        email=(email or None),
        role=role.value,
        password_hash=generate_password_hash(password),
    )
    db.session.add(user)
    db.session.commit()
    return user


def find_user(name: str) -> User | None:
    """The user with this name, ignoring case."""
    return db.session.scalar(select(User).where(func.lower(User.name) == name.lower()))


def _role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValidationError(
            _l("Unknown role “%(role)s”: choose reader, member, editor or admin.", role=value),
            code="role_invalid",
        ) from None


def set_role(user: User, role: Role | str, *, by: User | None = None) -> None:
    """Give ``user`` a role; ``by`` (an admin, not changing their own role) when from the web.

    The CLI, run by whoever holds the server, passes no ``by``.
    """
    new_role = _role(role)
    if by is not None:
        if not by.has_role(Role.ADMIN):
            raise Forbidden(_l("Only administrators can change roles."))
        if by.id == user.id:
            raise ValidationError(
                _l("You cannot change your own role: ask another administrator."),
                code="own_role",
            )
    user.role = new_role.value
    db.session.commit()


def set_blocked(user: User, blocked: bool, *, by: User) -> None:
    """Block or unblock a user; admins only, and never themselves."""
    if not by.has_role(Role.ADMIN):
        raise Forbidden(_l("Only administrators can block users."))
    if by.id == user.id:
        raise ValidationError(_l("You cannot block yourself."), code="own_block")
    user.blocked = blocked
    db.session.commit()


def list_users(*, offset: int = 0, limit: int = 50) -> tuple[list[User], int]:
    """Accounts by name, with the total count."""
    total = db.session.scalar(select(func.count(User.id))) or 0
    users = db.session.scalars(
        select(User).order_by(func.lower(User.name)).offset(offset).limit(limit)
    )
    return list(users), total


def authenticate(name: str, password: str, address: str) -> User:
    """Check credentials, throttling failures per account and per address across processes."""
    since = utcnow() - THROTTLE_WINDOW
    failures_account = db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.username == name.lower(), LoginAttempt.created_at > since
        )
    )
    failures_address = db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.address == address, LoginAttempt.created_at > since
        )
    )
    if failures_account >= MAX_FAILURES_PER_ACCOUNT or failures_address >= MAX_FAILURES_PER_ADDRESS:
        raise TooManyAttempts(
            _l("Too many failed attempts. Please wait 15 minutes before trying again.")
        )
    user = find_user(name)
    if user is None or not check_password_hash(user.password_hash, password):
        db.session.add(LoginAttempt(username=name.lower()[:80], address=address[:64]))
        db.session.commit()
        raise ValidationError(_l("Wrong user name or password."), code="bad_credentials")
    if user.blocked:
        raise Forbidden(_l("This account is blocked."), code="blocked")
    db.session.execute(
        delete(LoginAttempt).where(
            (LoginAttempt.username == name.lower()) | (LoginAttempt.created_at < since)
        )
    )
    db.session.commit()
    return user


# --- tokens --------------------------------------------------------------------------


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(user: User, name: str = "cli") -> str:
    """Create an API token for ``user`` and return it; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, name=name[:80], token_hash=_hash_token(token)))
    db.session.commit()
    return token


def user_for_token(token: str) -> User | None:
    """The active user owning ``token``, or None."""
    if not token:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(token)))
    if row is None or row.user.blocked:
        return None
    return row.user


# --- view helpers ---------------------------------------------------------------------


def role_required(role: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Refuse the view (403 or login redirect) unless the user has at least ``role``."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = acting_user()
            if user is None:
                return login_manager.unauthorized()
            if not user.has_role(role):
                raise Forbidden(_l("You do not have the rights to do this."))
            return view(*args, **kwargs)

        return wrapped

    return decorator


def client_address() -> str:
    return request.remote_addr or "unknown"
