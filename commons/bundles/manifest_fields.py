"""The manifest's field readers, shared by the page and the media checks: each names the
field it refuses. :func:`located` prefixes a refusal with where it was found."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from .. import attribution, licenses
from ..errors import TooLarge, ValidationError
from .archive import unsafe_member_name

SHA256 = re.compile(r"^[0-9a-f]{64}$")


@contextmanager
def located(where: Any) -> Iterator[None]:
    """Prefix any error raised inside with where it was found."""
    try:
        yield
    except (ValidationError, TooLarge) as error:
        raise type(error)(
            _l("%(where)s: %(problem)s", where=where, problem=error.message), code=error.code
        ) from error


def missing(key: str) -> ValidationError:
    """The refusal of a required field that is absent."""
    return ValidationError(_l("“%(field)s” is missing.", field=key), code="manifest_invalid")


def read_text(data: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    """A text field; an absent optional one is empty."""
    value = data.get(key)
    if value is None:
        if required:
            raise missing(key)
        return ""
    if not isinstance(value, str):
        raise ValidationError(_l("“%(field)s” must be text.", field=key), code="manifest_invalid")
    return value


def read_integer(data: Mapping[str, Any], key: str) -> int:
    """A required whole number, zero or more."""
    value = data.get(key)
    if value is None:
        raise missing(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationError(
            _l("“%(field)s” must be a whole number.", field=key), code="manifest_invalid"
        )
    return value


def read_boolean(data: Mapping[str, Any], key: str) -> bool:
    """A true/false field, false when absent."""
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ValidationError(
            _l("“%(field)s” must be true or false.", field=key), code="manifest_invalid"
        )
    return value


def read_list(data: Mapping[str, Any], key: str) -> list[Any]:
    """A list field, empty when absent."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError(_l("“%(field)s” must be a list.", field=key), code="manifest_invalid")
    return value


def read_url(data: Mapping[str, Any], key: str) -> str | None:
    """An optional http(s) address."""
    value = read_text(data, key, required=False).strip()
    if not value:
        return None
    if not value.startswith(("http://", "https://")) or len(value) > 500:
        raise ValidationError(
            _l("“%(field)s” must be an http:// or https:// address.", field=key),
            code="manifest_invalid",
        )
    return value


def read_date(data: Mapping[str, Any], key: str) -> datetime:
    """A required ISO-8601 date with its time zone, in UTC."""
    text = read_text(data, key)
    try:
        value = datetime.fromisoformat(text)
    except ValueError as error:
        raise ValidationError(
            _l("“%(field)s” must be an ISO-8601 date and time.", field=key),
            code="manifest_invalid",
        ) from error
    if value.tzinfo is None:
        raise ValidationError(
            _l("“%(field)s” must give its time zone (UTC).", field=key), code="manifest_invalid"
        )
    return value.astimezone(UTC)


def read_path(data: Mapping[str, Any], key: str) -> str | None:
    """An optional member path, which must stay inside the bundle."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or unsafe_member_name(value):
        raise ValidationError(
            _l("“%(field)s” must be a relative path inside the bundle.", field=key),
            code="manifest_invalid",
        )
    return value


def read_license(value: str) -> str:
    """A licence's SPDX id, refused when it cannot enter this commons."""
    spdx = licenses.normalize(value)
    if not licenses.can_import(spdx):
        raise ValidationError(
            _l("The licence “%(license)s” cannot enter this commons.", license=value[:80]),
            code="license_refused",
        )
    return spdx


def read_license_or(data: Mapping[str, Any], default: str) -> str:
    """An optional licence's SPDX id (refused when it cannot enter), ``default`` when the
    entry states none."""
    text = read_text(data, "license", required=False)
    return read_license(text) if text.strip() else default


def read_sha256(data: Mapping[str, Any], key: str) -> str:
    """A required sha256: 64 lower-case hexadecimal digits."""
    value = read_text(data, key)
    if not SHA256.match(value):
        raise ValidationError(
            _l("“%(field)s” must be 64 hexadecimal digits.", field=key), code="manifest_invalid"
        )
    return value


def read_license_and_source(
    data: Mapping[str, Any], unstated: Any
) -> tuple[str, dict[str, Any] | None]:
    """An entry's licence, which it must state (``unstated`` says so otherwise), and its
    declared source, whose licence that licence must respect (as for a local save)."""
    license_text = read_text(data, "license", required=False)
    if not license_text.strip():
        raise ValidationError(unstated, code="license_missing")
    license_ = read_license(license_text)
    source = attribution.clean_source(data.get("source"))
    licenses.check_source(source, license_)
    return license_, source
