"""Domain errors shared by services, views, the API and the CLI.

Services raise these with a translatable message; views turn them into a
flash message or a form error, the API into ``{"error": {code, message}}``
with ``status``, the CLI into a line on stderr and a non-zero exit.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


class CommonsError(Exception):
    """A request that cannot be carried out, with a message for a person.

    A kind of error names its default code and HTTP status as class arguments:
    ``class NotFound(CommonsError, code="not_found", status=404)``.
    """

    code = "invalid"
    status = 400

    def __init_subclass__(
        cls, *, code: str | None = None, status: int | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
        if status is not None:
            cls.status = status

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


class ValidationError(CommonsError, code="invalid", status=400):
    """Input that breaks a rule (empty title, unknown kind, refused licence...)."""


class NotFound(CommonsError, code="not_found", status=404):
    """What was asked for does not exist (or is not shown to this reader)."""


class Forbidden(CommonsError, code="forbidden", status=403):
    """The acting user may not do this."""


class TooLarge(CommonsError, code="too_large", status=413):
    """Over a size limit: a body, a file, a bundle or one of its members."""


class EditConflict(CommonsError, code="conflict", status=409):
    """The page moved on since ``base_revision`` and the edits overlap."""


def found(value: T | None, message: Any) -> T:
    """``value``, or :class:`NotFound` with ``message`` when there is none."""
    if value is None:
        raise NotFound(message)
    return value
