"""Contributors' agreement to release their work under a page's licence, remembered.

Someone who agreed once to a licence is not asked again for pages under the same
licence, until the terms change (the ``TERMS_VERSION`` setting). Services only flush.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

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
    """Remember that ``user`` agreed to ``license`` under the current terms.

    One statement that inserts or updates, so two saves at once by the same person
    (two tabs) both succeed.
    """
    if user is None or user.id is None:
        return
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {"terms_version": _terms_version(), "agreed_at": utcnow()}
    statement = insert(LicenseAgreement).values(user_id=user.id, license=license, **values)
    db.session.execute(
        statement.on_conflict_do_update(index_elements=["user_id", "license"], set_=values)
    )
