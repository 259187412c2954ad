"""What several blueprints share: page numbers, the API's CSRF guard, the friendly 404.
Blueprints import from here (and their forms from ``forms``), never from one another."""

from __future__ import annotations

import io
from typing import IO, Any

from flask import Response, render_template, request, send_file
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError as CSRFValidationError

from .. import permissions
from ..login import acting_user, request_token
from ..slugs import slugify
from . import json_error

#: Methods that only read: they need no CSRF token.
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def page_number() -> int:
    """The ``page`` query argument, at least 1."""
    return max(request.args.get("page", 1, type=int) or 1, 1)


class Pagination:
    """Page numbers for a list of ``total`` items shown ``per_page`` at a time."""

    def __init__(self, number: int, per_page: int, total: int) -> None:
        self.number = number
        self.per_page = per_page
        self.total = total
        self.pages = max((total + per_page - 1) // per_page, 1)

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def numbers(self) -> list[int | None]:
        """The page numbers to link: the first, the last, two around this one; None for gaps.

        Computed here so that a list of 2,000 pages does not loop 2,000 times in a template.
        """
        shown = sorted(
            {1, self.pages, *range(max(self.number - 2, 1), min(self.number + 2, self.pages) + 1)}
        )
        numbers: list[int | None] = []
        for n in shown:
            if numbers and n - (numbers[-1] or 0) > 1:
                numbers.append(None)
            numbers.append(n)
        return numbers


def refuse_session_write_without_csrf() -> Any:
    """Bearer tokens need no CSRF token; a browser session writing through the API does.

    The API's blueprint runs it before every request; API routes of other blueprints that
    are exempt from the form CSRF check call it themselves.
    """
    if request.method in SAFE_METHODS:
        return None
    if request_token() is not None:
        return None
    if acting_user() is None:
        return None
    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except (CSRFValidationError, CSRFError):
        return json_error(400, "csrf", _l("The security token is missing or expired."))
    return None


def not_found_page() -> str:
    """The 404 page: search results for the missing title and a "create it" link."""
    wiki_path = request.path.removeprefix("/wiki/")
    slug = slugify(wiki_path.split("/", 1)[0]) if wiki_path != request.path else ""
    suggestions = []
    if slug:
        from .. import search

        suggestions = search.search(slug.replace("-", " "), per_page=5).hits
    user = acting_user()
    return render_template(
        "404.html",
        slug=slug,
        suggestions=suggestions,
        can_create=bool(slug) and permissions.can_edit(user, None),
    )


def send_pdf(document: bytes | IO[bytes], file_name: str) -> Response:
    """A printed page or booklet, downloaded under ``file_name``; a file is streamed."""
    body = io.BytesIO(document) if isinstance(document, bytes) else document
    return send_file(
        body, mimetype="application/pdf", as_attachment=True, download_name=file_name, max_age=0
    )
