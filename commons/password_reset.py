"""Forgotten passwords: a mailed link, signed, valid one hour, usable once.

The link carries the account's id and a fingerprint of its current password hash, signed
with the secret key (itsdangerous). Setting a new password changes the hash, so the link
stops working after its first use, and so does any older link. Nothing is stored but the
throttling rows.

Asking gives the same answer whether the address has an account or not; requests are
throttled per address asked and per client, across processes.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from werkzeug.security import generate_password_hash

from . import auth, email_verification, mail
from .errors import ValidationError
from .extensions import db
from .models import PasswordResetRequest, User, new_session_key, utcnow

LINK_LIFETIME = timedelta(hours=1)
#: Requests allowed per address asked, and per client, within REQUEST_WINDOW.
MAX_REQUESTS_PER_EMAIL = 3
MAX_REQUESTS_PER_CLIENT = 10
REQUEST_WINDOW = timedelta(hours=1)
_SALT = "commons.password-reset"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _fingerprint(user: User) -> str:
    """Changes whenever the password does; reveals nothing about it."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def make_token(user: User) -> str:
    """A reset token for ``user``, valid until the password changes or an hour passes."""
    return _serializer().dumps({"user": user.id, "password": _fingerprint(user)})


def request_reset(email: str, *, client: str, base_url: str | None = None) -> None:
    """Mail a reset link to every account with this address (if any), throttled.

    Raises :class:`commons.auth.TooManyAttempts` past the limits, whether or not the
    address has an account, so the answer tells nothing about who is registered.
    """
    email_key = email.strip().casefold()[:254]
    since = utcnow() - REQUEST_WINDOW
    per_email = db.session.scalar(
        select(func.count(PasswordResetRequest.id)).where(
            PasswordResetRequest.email_key == email_key, PasswordResetRequest.created_at > since
        )
    )
    per_client = db.session.scalar(
        select(func.count(PasswordResetRequest.id)).where(
            PasswordResetRequest.address == client[:64], PasswordResetRequest.created_at > since
        )
    )
    if per_email >= MAX_REQUESTS_PER_EMAIL or per_client >= MAX_REQUESTS_PER_CLIENT:
        raise auth.TooManyAttempts(
            _l("Too many password reset requests. Please wait an hour before trying again.")
        )
    db.session.execute(delete(PasswordResetRequest).where(PasswordResetRequest.created_at < since))
    db.session.add(PasswordResetRequest(email_key=email_key, address=client[:64]))
    for user in _accounts_with_email(email_key):
        _mail_link(user, base_url)
    db.session.flush()


def _accounts_with_email(email_key: str) -> list[User]:
    if not email_key:
        return []
    # Addresses are few per key; fold in Python so SQLite and PostgreSQL agree.
    candidates = db.session.scalars(
        select(User).where(func.lower(User.email) == email_key.lower(), User.blocked.is_(False))
    )
    return [
        user
        for user in candidates
        if (user.email or "").casefold() == email_key and email_verification.may_receive_mail(user)
    ]


def _mail_link(user: User, base_url: str | None) -> None:
    link = mail.absolute_url("password.reset", base_url=base_url, token=make_token(user))
    subject, text, html = mail.render(
        "password_reset",
        mail.recipient_locale(user),
        _l("Choose a new password"),
        user=user,
        link=link,
    )
    mail.send(mail.compose(to=user.email or "", subject=subject, text=text, html=html))


def user_for_token(token: str) -> User:
    """The account a valid, unused, unexpired token is for; :class:`ValidationError` else."""
    try:
        payload = _serializer().loads(token, max_age=int(LINK_LIFETIME.total_seconds()))
    except SignatureExpired:
        raise ValidationError(
            _l("This link has expired: ask for a new one."), code="reset_expired"
        ) from None
    except BadSignature:
        raise ValidationError(
            _l("This link is not valid: ask for a new one."), code="reset_invalid"
        ) from None
    user = db.session.get(User, payload.get("user")) if isinstance(payload, dict) else None
    if user is None or user.blocked or payload.get("password") != _fingerprint(user):
        raise ValidationError(
            _l("This link has already been used or is no longer valid: ask for a new one."),
            code="reset_used",
        )
    return user


def reset_password(token: str, password: str) -> User:
    """Set a new password from a reset link; ends every session of the account."""
    user = user_for_token(token)
    if len(password or "") < auth.MIN_PASSWORD:
        raise ValidationError(
            _l("The password needs at least %(count)s characters.", count=auth.MIN_PASSWORD),
            code="password_too_short",
        )
    user.password_hash = generate_password_hash(password)
    user.session_key = new_session_key()
    db.session.flush()
    return user
