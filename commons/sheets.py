"""Experiment sheets: the typed fields of each kind of page, checked and normalised.

Fields are stored with every revision (``Revision.fields``), so history, diffs,
reverts, bundles and the API carry them like the text. This module owns their rules:
which fields a kind has, what a valid value is, how a value is written back
(``clean_fields``), and the facets a page is found by (``facets``).

- experiment: ``territory`` (places), ``period`` (``{start, end}``, ``YYYY`` or
  ``YYYY-MM``), ``status``, ``organisations``, ``themes``, ``contact``;
- tool: ``duration_minutes``, ``group_size`` (``{min, max}``), ``audience``, ``themes``;
- synthesis: ``date`` (``YYYY-MM-DD``), ``place``, ``participants`` (a number),
  ``themes``.

Empty values are dropped, so a page without a sheet stores ``{}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from . import territories, themes
from .attribution import refuse_control_characters
from .errors import ValidationError

STATUSES = ("idea", "running", "done", "stopped")
STATUS_LABELS = {
    "idea": _l("Idea"),
    "running": _l("Running"),
    "done": _l("Done"),
    "stopped": _l("Stopped"),
}
MAX_TEXT = 500
MAX_NAMES = 30
MAX_NAME_LENGTH = 200
MAX_MINUTES = 60 * 24 * 30
MAX_COUNT = 1_000_000
_MONTH = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2]))?$")
_DAY = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


def _invalid(field: str, message: Any) -> ValidationError:
    return ValidationError(
        str(_l("%(field)s: %(problem)s", field=FIELD_LABELS.get(field, field), problem=message))
    )


def _refuse_control_characters(field: str, value: str) -> None:
    refuse_control_characters(
        value, _invalid(field, _l("an invisible control character: please remove it.")).message
    )


def _text(field: str, value: Any) -> str | None:
    if not isinstance(value, str):
        raise _invalid(field, _l("a text is expected."))
    _refuse_control_characters(field, value)
    value = " ".join(value.split())
    if len(value) > MAX_TEXT:
        raise _invalid(field, _l("%(num)s characters at most.", num=MAX_TEXT))
    return value or None


def _names(field: str, value: Any) -> list[str] | None:
    if isinstance(value, str):
        value = value.replace("\n", ",").split(",")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _invalid(field, _l("a list of names is expected."))
    names: list[str] = []
    for item in value:
        _refuse_control_characters(field, item)
        name = " ".join(item.split())
        if len(name) > MAX_NAME_LENGTH:
            raise _invalid(field, _l("%(num)s characters at most.", num=MAX_NAME_LENGTH))
        if name and name not in names:
            names.append(name)
    if len(names) > MAX_NAMES:
        raise _invalid(field, _l("%(num)s names at most.", num=MAX_NAMES))
    return names or None


def _count(field: str, value: Any, *, maximum: int = MAX_COUNT) -> int | None:
    if isinstance(value, str):
        if not value.strip():
            return None
        if not value.strip().isdigit():
            raise _invalid(field, _l("a whole number is expected."))
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(field, _l("a whole number is expected."))
    if not 0 <= value <= maximum:
        raise _invalid(field, _l("between 0 and %(num)s.", num=maximum))
    return value


def _minutes(field: str, value: Any) -> int | None:
    return _count(field, value, maximum=MAX_MINUTES)


def _month(field: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _MONTH.match(value.strip()):
        raise _invalid(field, _l("a year (2024) or a month (2024-03) is expected."))
    return value.strip()


def _period(field: str, value: Any) -> dict[str, str] | None:
    if not isinstance(value, Mapping):
        raise _invalid(field, _l("an object with a start and an optional end is expected."))
    start, end = _month(field, value.get("start")), _month(field, value.get("end"))
    if start is None and end is None:
        return None
    if start is None:
        raise _invalid(field, _l("a period needs its start."))
    if end is not None and end < start:
        raise _invalid(field, _l("the end comes before the start."))
    return {"start": start, "end": end} if end else {"start": start}


def _status(field: str, value: Any) -> str | None:
    if value in (None, ""):
        return None
    if value not in STATUSES:
        raise _invalid(field, _l("one of idea, running, done, stopped is expected."))
    return value


def _range(field: str, value: Any) -> dict[str, int] | None:
    if not isinstance(value, Mapping):
        raise _invalid(field, _l("an object with a min and a max is expected."))
    low, high = _count(field, value.get("min")), _count(field, value.get("max"))
    if low is not None and high is not None and high < low:
        raise _invalid(field, _l("the max is smaller than the min."))
    found = {key: number for key, number in (("min", low), ("max", high)) if number is not None}
    return found or None


def _day(field: str, value: Any) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not _DAY.match(value.strip()):
        raise _invalid(field, _l("a date such as 2026-03-14 is expected."))
    return value.strip()


def _places(field: str, value: Any) -> list[dict[str, str]] | None:
    if isinstance(value, (str, Mapping)):
        value = [value]
    if not isinstance(value, list):
        raise _invalid(field, _l("a list of places is expected."))
    try:
        places = territories.resolve_all(item for item in value if item not in ("", None))
    except ValidationError as error:
        raise _invalid(field, error.message) from None
    return [place.as_dict() for place in places] or None


def _place(field: str, value: Any) -> dict[str, str] | None:
    if value in (None, ""):
        return None
    if isinstance(value, list):
        raise _invalid(field, _l("one place is expected."))
    places = _places(field, value)
    return places[0] if places else None


def _themes(field: str, value: Any) -> list[str] | None:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _invalid(field, _l("a list of theme keys is expected."))
    keys = [key.strip() for key in value if key.strip()]
    unknown = [key for key in keys if not themes.exists(key)]
    if unknown:
        raise _invalid(field, _l("unknown theme “%(key)s”.", key=unknown[0]))
    return list(dict.fromkeys(keys)) or None


Cleaner = Callable[[str, Any], Any]

#: The fields of each kind, in the order the sheet shows them.
FIELDS: dict[str, dict[str, Cleaner]] = {
    "experiment": {
        "territory": _places,
        "period": _period,
        "status": _status,
        "organisations": _names,
        "themes": _themes,
        "contact": _text,
    },
    "tool": {
        "duration_minutes": _minutes,
        "group_size": _range,
        "audience": _text,
        "themes": _themes,
    },
    "synthesis": {
        "date": _day,
        "place": _place,
        "participants": _count,
        "themes": _themes,
    },
}

FIELD_LABELS = {
    "territory": _l("Territory"),
    "period": _l("Period"),
    "status": _l("Status"),
    "organisations": _l("Organisations"),
    "themes": _l("Themes"),
    "contact": _l("Contact"),
    "duration_minutes": _l("Duration (minutes)"),
    "group_size": _l("Group size"),
    "audience": _l("Audience"),
    "date": _l("Date"),
    "place": _l("Place"),
    "participants": _l("Participants"),
}


def fields_of(kind: str) -> tuple[str, ...]:
    """The names of the fields a kind of page has (none for plain pages)."""
    return tuple(FIELDS.get(kind, {}))


def keep_fields(kind: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The stored ``fields`` that a page of ``kind`` has (a kind change drops the others)."""
    known = FIELDS.get(kind, {})
    return {name: value for name, value in fields.items() if name in known}


def clean_fields(kind: str, raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """The checked, normalised fields of a sheet; empty values dropped.

    Raises :class:`ValidationError` naming the field for a wrong value or a field
    the kind does not have. Places given by code alone get their name.
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValidationError(str(_l("The fields of a page are an object.")))
    known = FIELDS.get(kind, {})
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ValidationError(
            str(
                _l(
                    "A page of this kind has no field “%(field)s”.",
                    field=unknown[0],
                )
            )
        )
    cleaned: dict[str, Any] = {}
    for name, clean in known.items():
        value = raw.get(name)
        if value is None:
            continue
        value = clean(name, value)
        if value is not None:
            cleaned[name] = value
    return cleaned


def facets(fields: Mapping[str, Any]) -> set[tuple[str, str]]:
    """``(facet, value)`` pairs a page is found by: its places and the larger ones they
    lie in (a commune counts in its département and région), its status, its themes,
    and the years of its period."""
    found: set[tuple[str, str]] = set()
    places = list(fields.get("territory") or [])
    if fields.get("place"):
        places.append(fields["place"])
    for item in places:
        place = territories.territories().find(item["code"], item["type"])
        if place is not None:
            found.update(place.within())
    if fields.get("status"):
        found.add(("status", fields["status"]))
    found.update(("theme", key) for key in fields.get("themes") or [])
    period = fields.get("period")
    if period:
        first = int(period["start"][:4])
        last = int((period.get("end") or period["start"])[:4])
        found.update(("year", str(year)) for year in range(first, min(last, first + 100) + 1))
    return found


def searchable_text(fields: Mapping[str, Any]) -> str:
    """Words of the sheet for full-text search: place names, organisations, audience…"""
    words: list[str] = []
    places = list(fields.get("territory") or [])
    if fields.get("place"):
        places.append(fields["place"])
    words.extend(place["name"] for place in places)
    words.extend(fields.get("organisations") or [])
    for key in ("audience", "contact"):
        if fields.get(key):
            words.append(fields[key])
    # Theme keys are words ("habitat", "finance-solidaire"): labels would need the
    # reader's language, which the index does not have.
    words.extend(key.replace("-", " ") for key in fields.get("themes") or [])
    return "\n".join(words)
