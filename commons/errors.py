"""Domain errors shared by services, views, the API and the CLI.

Services raise these with a translatable message; views turn them into a
flash message or a form error, the API into ``{"error": {code, message}}``
with ``status``, the CLI into a line on stderr and a non-zero exit.
"""

from __future__ import annotations

from typing import Any


class CommonsError(Exception):
    """A request that cannot be carried out, with a message for a person."""

    code = "invalid"
    status = 400

    def __init__(
        self,
        message: Any,
        *,
        code: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(str(message))
        #: A lazy translatable string: rendered in the reader's language when shown.
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details or {}

    def __str__(self) -> str:
        return str(self.message)


class ValidationError(CommonsError):
    """Input that breaks a rule (empty title, unknown kind, refused licence...)."""

    code = "invalid"
    status = 400


class NotFound(CommonsError):
    code = "not_found"
    status = 404


class Forbidden(CommonsError):
    code = "forbidden"
    status = 403


class TooLarge(CommonsError):
    code = "too_large"
    status = 413


class EditConflict(CommonsError):
    """The page moved on since ``base_revision`` and the edits overlap."""

    code = "conflict"
    status = 409
