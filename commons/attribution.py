"""The shared attribution vocabulary: who made a change (:class:`Author`), the
cleaning of the names, sources and summaries that pages, media and bundles
declare, and the content hash stored on revisions and checked by bundles.

Pages, media and the bundle importer all carry the same attribution fields;
they are validated here once so the three agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from . import licenses
from .errors import ValidationError
from .models import User
from .text import has_control_characters

MAX_SUMMARY_LENGTH = 500
MAX_COAUTHORS = 50


@dataclass
class Author:
    """Who makes a change: a local account, or an external author carried by an import."""

    user: User | None
    name: str
    origin: str | None = None

    @classmethod
    def of(cls, user: User | None) -> Author:
        if user is None:
            return cls(None, str(_l("Anonymous")))
        return cls(user, user.name)


def content_hash(body: str) -> str:
    """sha256 of a body, as stored on revisions and checked by bundles."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def refuse_control_characters(text: str, message: Any) -> None:
    """Invisible control characters (U+0001...) would break the Atom feed and copies."""
    if has_control_characters(text):
        raise ValidationError(message, code="control_character")


def clean_summary(summary: str | None) -> str:
    refuse_control_characters(
        summary or "",
        _l("The summary contains an invisible control character: please remove it."),
    )
    summary = " ".join((summary or "").split())
    if len(summary) > MAX_SUMMARY_LENGTH:
        raise ValidationError(
            _l("The summary is too long (at most %(limit)s characters).", limit=MAX_SUMMARY_LENGTH),
            code="summary_too_long",
        )
    return summary


def clean_names(names: Iterable[str] | str | None) -> list[str]:
    """Co-authors or attribution parties: free-text names, one per item or line."""
    if names is None:
        return []
    if isinstance(names, str):
        names = names.replace(";", "\n").splitlines()
    cleaned: list[str] = []
    for raw in names:
        if not isinstance(raw, str):
            raise ValidationError(_l("Names must be text."), code="names_invalid")
        refuse_control_characters(
            raw, _l("A name contains an invisible control character: please remove it.")
        )
        name = " ".join(raw.split())
        if len(name) > 200:
            raise ValidationError(
                _l("A name is too long (at most 200 characters)."), code="names_invalid"
            )
        if name and name not in cleaned:
            cleaned.append(name)
    if len(cleaned) > MAX_COAUTHORS:
        raise ValidationError(
            _l("Too many names (at most %(limit)s).", limit=MAX_COAUTHORS), code="names_invalid"
        )
    return cleaned


def clean_source(source: dict[str, Any] | None) -> dict[str, Any] | None:
    """The adapted work a page declares: {title, authors, url, license}, or None."""
    if not source:
        return None
    if not isinstance(source, dict):
        raise ValidationError(_l("The source must be an object."), code="source_invalid")
    title = " ".join(str(source.get("title") or "").split())[:300]
    url = str(source.get("url") or "").strip()[:500]
    if url and not url.startswith(("http://", "https://")):
        raise ValidationError(
            _l("The source address must start with http:// or https://."),
            code="source_invalid",
        )
    authors = clean_names(source.get("authors"))
    license_ = str(source.get("license") or "").strip()
    if license_:
        license_ = licenses.normalize(license_)
    if not (title or url or authors):
        return None
    return {"title": title, "authors": authors, "url": url, "license": license_ or None}
