"""Contributors' agreement to release their work under a page's licence, remembered.

Someone who agreed once to a licence is not asked again for pages under the same
licence, until the terms change (the ``TERMS_VERSION`` setting). Services only flush.
"""

from __future__ import annotations

from flask import current_app

from .extensions import db
from .models import LicenseAgreement, User, utcnow


def _terms_version() -> str:
    return str(current_app.config["TERMS_VERSION"])


def has_agreed(user: User | None, license: str) -> bool:
    """Whether ``user`` agreed to ``license`` under the current terms."""
    if user is None or user.id is None:
        return False
    agreement = db.session.get(LicenseAgreement, (user.id, license))
    return agreement is not None and agreement.terms_version == _terms_version()


def agree(user: User | None, license: str) -> None:
    """Remember that ``user`` agreed to ``license`` under the current terms."""
    if user is None or user.id is None:
        return
    agreement = db.session.get(LicenseAgreement, (user.id, license))
    if agreement is None:
        agreement = LicenseAgreement(user_id=user.id, license=license)
        db.session.add(agreement)
    agreement.terms_version = _terms_version()
    agreement.agreed_at = utcnow()
    db.session.flush()
