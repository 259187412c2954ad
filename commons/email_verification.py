"""Email addresses proved by a mailed link, at registration and on every change.

``COMMONS_EMAIL_VERIFICATION``:

- ``optional`` (the default): a link is mailed to each new address; mails go to the
  address whether or not it was verified;
- ``required``: registration needs an address, and only verified addresses get mails
  (notifications, password resets);
- ``off``: no link is mailed; addresses are used as typed.

A new address replaces the old one only once its link is opened (unless verification
is off), so a typo never cuts an account off from its mails. The link is signed with the
secret key and carries the account and the address; it works for a week.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from . import auth, mail
from .errors import ValidationError
from .extensions import db
from .models import User, VerifiedEmail, utcnow

LINK_LIFETIME = timedelta(days=7)
_SALT = "commons.verify-email"


def mode() -> str:
    return current_app.config["EMAIL_VERIFICATION"]


def is_verified(user: User) -> bool:
    """Whether the user's current address was proved by its link."""
    if not user.email:
        return False
    verified = db.session.get(VerifiedEmail, user.id)
    return verified is not None and verified.email.casefold() == user.email.casefold()


def may_receive_mail(user: User) -> bool:
    """Whether mails may be sent to the user's address under the configured policy."""
    if not user.email or user.blocked:
        return False
    return mode() != "required" or is_verified(user)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def send_link(user: User, email: str, base_url: str | None = None) -> None:
    """Mail ``email`` a link that proves it belongs to ``user`` (sent after the commit)."""
    token = _serializer().dumps({"user": user.id, "email": email})
    link = mail.absolute_url("profile.verify_email", base_url=base_url, token=token)
    subject, text, html = mail.render(
        "verify_email",
        mail.recipient_locale(user),
        _l("Confirm your email address"),
        user=user,
        email=email,
        link=link,
    )
    mail.send(mail.compose(to=email, subject=subject, text=text, html=html))


def change_email(user: User, email: str | None, base_url: str | None = None) -> bool:
    """Change the account's address; True when it waits for its link to be opened.

    An empty address removes it at once.
    """
    cleaned = auth.clean_email(email)
    if cleaned is None:
        if mode() == "required":
            raise ValidationError(
                _l("This wiki needs an email address for every account."), code="email_required"
            )
        user.email = None
    elif mode() == "off":
        user.email = cleaned
    elif cleaned.casefold() != (user.email or "").casefold() or not is_verified(user):
        send_link(user, cleaned, base_url)
        db.session.flush()
        return True
    db.session.flush()
    return False


def confirm(token: str) -> User:
    """Open a verification link: the address becomes the account's, verified."""
    try:
        payload = _serializer().loads(token, max_age=int(LINK_LIFETIME.total_seconds()))
    except SignatureExpired:
        raise ValidationError(
            _l("This link has expired: ask for a new one from your account page."),
            code="verify_expired",
        ) from None
    except BadSignature:
        payload = None
    user = db.session.get(User, payload.get("user")) if isinstance(payload, dict) else None
    if user is None or not isinstance(payload.get("email"), str):
        raise ValidationError(_l("This link is not valid."), code="verify_invalid")
    user.email = payload["email"]
    verified = db.session.get(VerifiedEmail, user.id)
    if verified is None:
        db.session.add(VerifiedEmail(user_id=user.id, email=payload["email"]))
    else:
        verified.email = payload["email"]
        verified.verified_at = utcnow()
    db.session.flush()
    return user
