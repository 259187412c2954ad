"""Accounts: users, roles, passwords, sessions, API tokens, login and registration throttling.

A service like the others: it takes the names, passwords, addresses and secrets it
needs as arguments and never reads the request (that is :mod:`commons.login`, with
Flask-Login's wiring). It flushes; the caller's boundary commits, except the record of a
failed login, which must outlive the error answer (see :func:`authenticate`).
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import unicodedata
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from . import permissions
from .errors import CommonsError, Forbidden, NotFound, ValidationError
from .extensions import db
from .models import (
    ApiToken,
    LoginAttempt,
    RegistrationAttempt,
    Role,
    TokenScope,
    User,
    new_session_key,
    utcnow,
)

USERNAME = re.compile(r"^[\w.\- ]{2,80}$")
MIN_PASSWORD = 8
#: Failed logins allowed per account, and per address, within THROTTLE_WINDOW.
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
THROTTLE_WINDOW = timedelta(minutes=15)
#: Accounts one address may create within REGISTRATION_WINDOW.
MAX_REGISTRATIONS_PER_ADDRESS = 5
REGISTRATION_WINDOW = timedelta(hours=1)
#: Scripts that one name may mix: Japanese and Korean writing combine them, with Latin.
COMPATIBLE_SCRIPTS = [
    {"LATIN", "CJK", "HIRAGANA", "KATAKANA"},
    {"LATIN", "CJK", "HANGUL"},
    {"LATIN", "CJK", "BOPOMOFO"},
]
#: A token's last use is written at most this often, not on every request.
TOKEN_USE_PRECISION = timedelta(minutes=1)


class TooManyAttempts(CommonsError):
    code = "too_many_attempts"
    status = 429


def end_sessions(user: User) -> None:
    """Invalidate every session and remember-me cookie of ``user``, on every device."""
    user.session_key = new_session_key()
    db.session.flush()


# --- accounts ------------------------------------------------------------------------


def name_key(name: str) -> str:
    """The form under which names are compared: NFKC, case-folded, NFKC again.

    Computed in Python so that SQLite (whose ``lower()`` folds ASCII only) and PostgreSQL
    agree: "Élodie", "ÉLODIE" and "élodie" are one name.
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def _scripts(name: str) -> set[str]:
    """The writing systems of a name's letters, from their Unicode character names."""
    return {
        unicodedata.name(char, "UNKNOWN").split()[0]
        for char in name
        if unicodedata.category(char) in {"Lu", "Ll", "Lt", "Lo"}
    }


def _mixes_scripts(name: str) -> bool:
    """True for look-alikes such as "аdmin" whose "а" is Cyrillic."""
    scripts = _scripts(name)
    return len(scripts) > 1 and not any(scripts <= allowed for allowed in COMPATIBLE_SCRIPTS)


def clean_name(name: str | None) -> str:
    """A new account's name, NFKC-normalised; refuses bad characters and mixed scripts."""
    name = unicodedata.normalize("NFKC", " ".join((name or "").split()))
    if not USERNAME.match(name):
        raise ValidationError(
            _l("A user name has 2 to 80 letters, digits, spaces, dots, dashes or underscores."),
            code="name_invalid",
        )
    if _mixes_scripts(name):
        raise ValidationError(
            _l(
                "A user name cannot mix alphabets, such as Latin and Cyrillic letters that look"
                " alike: write “%(name)s” in one alphabet.",
                name=name,
            ),
            code="name_mixed_scripts",
        )
    return name


def clean_email(email: str | None) -> str | None:
    """An optional email address, normalised; its domain is not looked up."""
    email = (email or "").strip()
    if not email:
        return None
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValidationError(
            _l("“%(email)s” is not a valid email address.", email=email), code="email_invalid"
        ) from None


def create_user(
    name: str, password: str, *, role: Role | str = Role.MEMBER, email: str | None = None
) -> User:
    """Create an account; raises :class:`ValidationError` on a bad or taken name."""
    name = clean_name(name)
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
        name_key=name_key(name),
        email=clean_email(email),
        role=role.value,
        password_hash=generate_password_hash(password),
    )
    db.session.add(user)
    db.session.flush()
    return user


def register(name: str, password: str, *, email: str | None, address: str) -> User:
    """Create a member's account from the web, throttled per address across processes."""
    since = utcnow() - REGISTRATION_WINDOW
    recent = db.session.scalar(
        select(func.count(RegistrationAttempt.id)).where(
            RegistrationAttempt.address == address[:64], RegistrationAttempt.created_at > since
        )
    )
    if recent >= MAX_REGISTRATIONS_PER_ADDRESS:
        raise TooManyAttempts(
            _l("Too many accounts were created from your connection. Please try again in an hour.")
        )
    user = create_user(name, password, email=email)
    db.session.execute(delete(RegistrationAttempt).where(RegistrationAttempt.created_at < since))
    db.session.add(RegistrationAttempt(address=address[:64]))
    db.session.flush()
    return user


def find_user(name: str) -> User | None:
    """The user with this name, ignoring case and Unicode variants (see :func:`name_key`)."""
    return db.session.scalar(select(User).where(User.name_key == name_key(name)))


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
        if not permissions.can_manage_accounts(by):
            raise Forbidden(_l("Only administrators can change roles."))
        if by.id == user.id:
            raise ValidationError(
                _l("You cannot change your own role: ask another administrator."),
                code="own_role",
            )
    user.role = new_role.value
    db.session.flush()


def set_blocked(user: User, blocked: bool, *, by: User) -> None:
    """Block or unblock a user; admins only, and never themselves."""
    if not permissions.can_manage_accounts(by):
        raise Forbidden(_l("Only administrators can block users."))
    if by.id == user.id:
        raise ValidationError(_l("You cannot block yourself."), code="own_block")
    user.blocked = blocked
    db.session.flush()


def list_users(*, offset: int = 0, limit: int = 50) -> tuple[list[User], int]:
    """Accounts by name, with the total count."""
    total = db.session.scalar(select(func.count(User.id))) or 0
    users = db.session.scalars(select(User).order_by(User.name_key).offset(offset).limit(limit))
    return list(users), total


def authenticate(name: str, password: str, address: str) -> User:
    """Check credentials, throttling failures per account and per address across processes.

    A password is hashed whether or not the name exists, so the answer's timing does not
    tell which names have an account.
    """
    since = utcnow() - THROTTLE_WINDOW
    key = name_key(name)[:80]
    failures_account = db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.username == key, LoginAttempt.created_at > since
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
    matches = check_password_hash(user.password_hash if user else _unknown_user_hash(), password)
    if user is None or not matches:
        _record_now(LoginAttempt(username=key, address=address[:64]))
        raise ValidationError(_l("Wrong user name or password."), code="bad_credentials")
    if user.blocked:
        raise Forbidden(_l("This account is blocked."), code="blocked")
    db.session.execute(
        delete(LoginAttempt).where(
            (LoginAttempt.username == key) | (LoginAttempt.created_at < since)
        )
    )
    db.session.flush()
    return user


def _record_now(attempt: LoginAttempt) -> None:
    """Store ``attempt`` at once, in a transaction and connection of its own.

    A failed login is answered with an error, so the request's transaction is rolled
    back; counted in it, the failures would vanish and throttling would never start.
    The caller has written nothing before (a login changes nothing until it succeeds),
    so on SQLite this short write waits for no lock of the caller's.
    """
    with Session(db.engine) as session, session.begin():
        session.add(attempt)


@functools.cache
def _unknown_user_hash() -> str:
    """A hash of a random password, checked when the name has no account."""
    return generate_password_hash(secrets.token_hex(16))


# --- tokens --------------------------------------------------------------------------


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _token_scope(value: TokenScope | str) -> TokenScope:
    try:
        return TokenScope(value)
    except ValueError:
        raise ValidationError(
            _l("Unknown scope “%(scope)s”: choose read or write.", scope=value),
            code="scope_invalid",
        ) from None


def create_token(user: User, name: str = "cli", scope: TokenScope | str = TokenScope.WRITE) -> str:
    """Create an API token for ``user`` and return it; only its hash is stored."""
    return issue_token(user, name, scope)[1]


def issue_token(user: User, name: str, scope: TokenScope | str) -> tuple[ApiToken, str]:
    """Create an API token for ``user``: the row and the secret, which is never stored."""
    name = " ".join((name or "").split())
    if not name or len(name) > 80 or not name.isprintable():
        raise ValidationError(
            _l("A token needs a name of 1 to 80 characters, saying what it is for."),
            code="token_name_invalid",
        )
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, name=name, scope=_token_scope(scope).value, token_hash=_hash_token(secret)
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def list_tokens(user: User) -> list[ApiToken]:
    """The user's API tokens, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Delete one of the user's tokens: it stops working at once. Returns the deleted row."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(_l("You have no token with this number."))
    db.session.delete(token)
    db.session.flush()
    return token


def use_token(secret: str) -> ApiToken | None:
    """The token with this secret, its last use recorded; None for an unknown or revoked one."""
    if not secret:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(secret)))
    if token is None:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_USE_PRECISION:
        # Kept when the request's answer is a success, like everything the request does.
        token.last_used_at = now
        db.session.flush()
    return token
