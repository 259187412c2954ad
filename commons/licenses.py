"""The licences a page may carry, their legal texts and the rules for changing them.

The metadata and the official texts live in the repository's ``licenses/`` folder so that
bundles and the web pages serve exactly the same files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l

from .errors import ValidationError

LICENSES_DIR = Path(__file__).resolve().parent.parent / "licenses"
DEFAULT_LICENSE = "CC-BY-SA-4.0"


@dataclass(frozen=True)
class License:
    """One allowed licence, as described in ``licenses/licenses.json``."""

    spdx: str
    name: str
    title: str
    url: str
    legal_file: str
    requires_attribution: bool
    share_alike: bool
    #: SPDX ids this licence's content may move to (always including itself).
    can_become: tuple[str, ...]


@cache
def _catalogue() -> dict[str, License]:
    data = json.loads((LICENSES_DIR / "licenses.json").read_text(encoding="utf-8"))
    return {
        entry["spdx"]: License(**{**entry, "can_become": tuple(entry["can_become"])})
        for entry in data["licenses"]
    }


def all_licenses() -> list[License]:
    """Every allowed licence, the default first."""
    return list(_catalogue().values())


def get(spdx: str) -> License:
    """The licence with this SPDX id; KeyError when it is not one of ours."""
    return _catalogue()[spdx]


def name_of(spdx: str) -> str:
    """What people read for a licence: its short name ("CC BY-SA 4.0"), or the text as
    given when it is not one of ours."""
    found = _catalogue().get(spdx)
    return found.name if found is not None else spdx


def legal_text(spdx: str) -> str:
    """The official legal text of a licence; KeyError when it is not one of ours."""
    return (LICENSES_DIR / get(spdx).legal_file).read_text(encoding="utf-8")


def _key(value: str) -> str:
    """Reduce the ways people write a licence ("CC BY-SA 4.0", "cc-by-sa-4.0", its URL)."""
    text = value.strip().lower()
    text = re.sub(r"^https?://(www\.)?creativecommons\.org/", "", text)
    text = text.replace("licenses/", "cc ").replace("publicdomain/zero/", "cc0 ")
    text = re.sub(r"[^a-z0-9.]+", " ", text)
    text = re.sub(r"\b(legalcode|deed|international|intl|fr|en)\b", " ", text)
    text = text.replace("creative commons", "cc").replace("attribution", "by")
    text = text.replace("sharealike", "sa").replace("share alike", "sa")
    return " ".join(text.split())


def _aliases() -> dict[str, str]:
    aliases = {}
    for license_ in _catalogue().values():
        for spelling in (license_.spdx, license_.name, license_.title, license_.url):
            aliases[_key(spelling)] = license_.spdx
    aliases[_key("CC0")] = "CC0-1.0"
    aliases[_key("public domain")] = "CC0-1.0"
    aliases[_key("domaine public")] = "CC0-1.0"
    # The Licence Ouverte is written many ways; 2.0 declares itself compatible with 1.0,
    # so the name without a version means the current one.
    for spelling in (
        "Licence Ouverte",
        "Licence Ouverte v2.0",
        "Licence Ouverte version 2.0",
        "Licence Ouverte / Open Licence",
        "Licence Ouverte / Open Licence version 2.0",
        "Licence Ouverte Etalab",
        "Licence Ouverte Etalab 2.0",
        "Open Licence 2.0",
        "Open License 2.0",
        "Etalab Open License 2.0",
        "LO 2.0",
        "https://www.etalab.gouv.fr/licence-ouverte-open-licence",
        "https://www.etalab.gouv.fr/wp-content/uploads/2017/04/ETALAB-Licence-Ouverte-v2.0.pdf",
    ):
        aliases[_key(spelling)] = "etalab-2.0"
    return aliases


def _allowed_names() -> str:
    return ", ".join(license_.name for license_ in all_licenses())


_NON_COMMERCIAL = re.compile(r"\bnc\b|noncommercial|non commercial|pas d utilisation commerciale")
_NO_DERIVATIVES = re.compile(r"\bnd\b|noderiv|no deriv|pas de modification")
_ALL_RIGHTS = re.compile(r"all rights reserved|tous droits r[ée]serv[ée]s|copyright|©|\(c\)")


def _refusal_reason(value: str, key: str) -> object:
    if _NON_COMMERCIAL.search(key):
        return _l(
            "“%(value)s” forbids commercial use, which CC BY-SA 4.0 allows: "
            "such content cannot be published here.",
            value=value,
        )
    if _NO_DERIVATIVES.search(key):
        return _l(
            "“%(value)s” forbids adaptations, but a wiki page is made to be changed: "
            "such content cannot be published here.",
            value=value,
        )
    if _ALL_RIGHTS.search(value.lower()) or _ALL_RIGHTS.search(key):
        return _l(
            "Content whose rights are all reserved cannot be published here: ask its authors "
            "to release it under one of these licences: %(allowed)s.",
            allowed=_allowed_names(),
        )
    if re.search(r"\bcc\b", key):
        return _l(
            "“%(value)s” is not a licence accepted here: use version 4.0 of CC BY-SA or CC BY, "
            "or CC0 1.0.",
            value=value,
        )
    return _l(
        "“%(value)s” is not a licence we know. Allowed licences: %(allowed)s (the first is "
        "the default).",
        value=value,
        allowed=_allowed_names(),
    )


def normalize(value: str | None) -> str:
    """The SPDX id of an allowed licence written in any usual way; empty means the default.

    Raises ValidationError (code ``license_refused``) with the reason for anything else.
    """
    if value is None or not value.strip():
        return DEFAULT_LICENSE
    key = _key(value)
    spdx = _aliases().get(key)
    if spdx is None:
        raise ValidationError(_refusal_reason(value.strip()[:100], key), code="license_refused")
    return spdx


def can_change(current: str, new: str) -> bool:
    """Whether content under ``current`` may be republished under ``new``."""
    return new in get(current).can_become


def check_change(current: str, new: str) -> None:
    """Refuse a licence change that would make the content less protected."""
    if not can_change(current, new):
        raise ValidationError(
            _l(
                "Content under %(current)s cannot move to %(new)s: a page may only move to a "
                "licence that keeps its authors' conditions (towards CC BY-SA 4.0).",
                current=get(current).name,
                new=get(new).name,
            ),
            code="license_refused",
        )


def check_source(source: Mapping[str, Any] | None, spdx: str) -> None:
    """Refuse content under ``spdx`` that declares adapting a work whose licence forbids it.

    An adaptation keeps its source's conditions: a CC BY-SA source makes a CC BY-SA page,
    a CC BY source a CC BY or CC BY-SA one. Pages and media, saved or imported, obey this.
    """
    source_license = (source or {}).get("license")
    if source_license and not can_change(source_license, spdx):
        allowed = get(source_license).can_become
        raise ValidationError(
            _l(
                "The declared source is under %(source)s: an adaptation of it can only be "
                "published under %(allowed)s, not %(license)s.",
                source=get(source_license).name,
                allowed=", ".join(get(other).name for other in allowed),
                license=get(spdx).name,
            ),
            code="license_refused",
        )


def can_import(spdx: str) -> bool:
    """Whether a bundle's content under this licence may be stored here."""
    return spdx in _catalogue()
