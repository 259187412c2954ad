"""Official French territories: régions, départements and communes by INSEE code.

The list comes from INSEE's Code officiel géographique as packaged by Etalab on the
npm registry (``@etalab/decoupage-administratif``); ``commons territories refresh``
rebuilds it. The shipped copy is ``commons/data/territories.json.gz``; a refreshed
copy (``COMMONS_TERRITORIES_FILE``, in the instance folder) takes its place. The
data's source and licence are in ``commons/data/TERRITORIES.md``.

A place is ``{"code", "type", "name"}``. Two-digit codes are shared by some régions
and départements ("76" is Occitanie and Seine-Maritime): a bare code means the
département, ``region:76`` (or ``{"code": "76", "type": "region"}``) the région.
"""

from __future__ import annotations

import bisect
import functools
import gzip
import heapq
import io
import json
import os
import re
import tarfile
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from .errors import ValidationError
from .text import fold

COMMUNE = "commune"
DEPARTEMENT = "departement"
REGION = "region"
TYPES = (COMMUNE, DEPARTEMENT, REGION)
_LARGER_FIRST = {REGION: 0, DEPARTEMENT: 1, COMMUNE: 2}

SHIPPED = Path(__file__).parent / "data" / "territories.json.gz"
OUTLINES = Path(__file__).parent / "data" / "departements-map.json"
PACKAGE = "@etalab/decoupage-administratif"
PACKAGE_VERSION = "6.0.0"
REGISTRY_URL = "https://registry.npmjs.org/{package}/-/{name}-{version}.tgz"
#: What a refresh keeps of the package's communes: current communes, and the
#: arrondissements of Paris, Lyon and Marseille, which people name as places.
_COMMUNE_KINDS = {"commune-actuelle", "arrondissement-municipal"}
MAX_PLACES = 50


@dataclass(frozen=True)
class Place:
    """A territory: its INSEE code, its type, its name, and the larger ones it lies in."""

    code: str
    type: str
    name: str
    departement: str | None = None
    region: str | None = None
    population: int = 0

    def as_dict(self) -> dict[str, str]:
        """The place as stored with a revision and given out by the API."""
        return {"code": self.code, "type": self.type, "name": self.name}

    def describe(self, territories: Territories) -> str:
        """The name, with the département of a commune, since many communes share a name."""
        if self.departement is None:
            return self.name
        return f"{self.name} ({territories.places[(DEPARTEMENT, self.departement)].name})"

    def within(self) -> list[tuple[str, str]]:
        """``(type, code)`` of this place and of every territory that contains it."""
        found = [(self.type, self.code)]
        if self.departement:
            found.append((DEPARTEMENT, self.departement))
        if self.region:
            found.append((REGION, self.region))
        return found


class Territories:
    """The loaded list, indexed by type and code, with names folded for completion."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.source: dict[str, str] = data["source"]
        self.places: dict[tuple[str, str], Place] = {}
        for code, name in data["regions"]:
            self._add(Place(code, REGION, name))
        for code, name, region in data["departements"]:
            self._add(Place(code, DEPARTEMENT, name, region=region))
        for code, name, departement, population in data["communes"]:
            region = self.places[(DEPARTEMENT, departement)].region
            self._add(Place(code, COMMUNE, name, departement, region, population))
        ordered = sorted(self.places.values(), key=lambda place: fold(place.name))
        self._folded_names = [fold(place.name) for place in ordered]
        self._by_folded_name = ordered

    def counts(self) -> dict[str, int]:
        """How many places of each type: ``{"regions": …, "departements": …, "communes": …}``."""
        counts = dict.fromkeys(("regions", "departements", "communes"), 0)
        for kind, _code in self.places:
            counts[f"{kind}s"] += 1
        return counts

    def _add(self, place: Place) -> None:
        self.places[(place.type, place.code)] = place

    def find(self, code: str, kind: str | None = None) -> Place | None:
        """The place with this code (a département before a région when ``kind`` is None)."""
        kinds = (kind,) if kind else (COMMUNE, DEPARTEMENT, REGION)
        for each in kinds:
            place = self.places.get((each, code))
            if place is not None:
                return place
        return None

    def named(self, name: str) -> list[Place]:
        """The places called ``name`` (accents and case ignored), larger ones first.

        "Marsac (Creuse)" picks the Marsac of that département.
        """
        name, _, within = name.strip().partition("(")
        folded, within = fold(name.strip()), fold(within.rstrip(") ").strip())
        start = bisect.bisect_left(self._folded_names, folded)
        end = bisect.bisect_right(self._folded_names, folded)
        found = sorted(
            self._by_folded_name[start:end],
            key=lambda place: (_LARGER_FIRST[place.type], -place.population),
        )
        if within:
            found = [
                place
                for place in found
                if place.departement
                and fold(self.places[(DEPARTEMENT, place.departement)].name) == within
            ]
        return found

    def complete(self, prefix: str, limit: int = 10) -> list[Place]:
        """Places whose name starts with ``prefix`` (accents and case ignored).

        Régions come first, then départements, then communes by population, so
        "mars" offers Marseille before the villages called Mars.
        """
        folded = fold(prefix.strip())
        if not folded:
            return []
        start = bisect.bisect_left(self._folded_names, folded)
        end = bisect.bisect_left(self._folded_names, folded + "\uffff")
        found = self._by_folded_name[start:end]
        return heapq.nsmallest(
            limit, found, key=lambda place: (_LARGER_FIRST[place.type], -place.population)
        )


def refreshed_path() -> Path:
    """Where ``commons territories refresh`` writes the list (``COMMONS_TERRITORIES_FILE``)."""
    return Path(current_app.config["TERRITORIES_FILE"])


def _data_path() -> Path:
    if has_app_context() and refreshed_path().exists():
        return refreshed_path()
    return SHIPPED


@functools.cache
def _load(path: Path, _mtime: float) -> Territories:
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        return Territories(json.load(stream))


def territories() -> Territories:
    """The list in use: the instance's refreshed copy when there is one, else the shipped one."""
    path = _data_path()
    return _load(path, os.path.getmtime(path))


def _invalid(message: Any) -> ValidationError:
    return ValidationError(str(message))


def _split(value: Any) -> tuple[str, str | None]:
    if isinstance(value, dict):
        code, kind = value.get("code"), value.get("type")
    elif isinstance(value, str):
        kind, _, code = value.rpartition(":")
        kind = kind or None
    else:
        raise _invalid(_l("A place is an INSEE code or an object with a code."))
    if not isinstance(code, str) or not code.strip():
        raise _invalid(_l("A place needs its INSEE code, for example 30334 for Uzès."))
    if kind is not None and kind not in TYPES:
        raise _invalid(
            _l(
                "“%(type)s” is not a kind of place: use commune, departement or region.",
                type=kind,
            )
        )
    return code.strip().upper(), kind


_CODE = re.compile(r"^[0-9][0-9AB][0-9]{0,3}$", re.IGNORECASE)


def _by_name(name: str) -> Place:
    loaded = territories()
    found = loaded.named(name)
    if not found:
        raise _invalid(_l("No French territory is called “%(name)s”.", name=name.strip()))
    if len(found) > 1 and found[0].type == found[1].type == COMMUNE:
        raise _invalid(
            _l(
                "Several communes are called “%(name)s”: %(places)s. Add the département in "
                "brackets, or give the INSEE code.",
                name=name.strip(),
                places=", ".join(place.describe(loaded) for place in found[:5]),
            )
        )
    return found[0]


def resolve(value: Any) -> Place:
    """The place a save names: a code (``"30334"``, ``"region:76"``), a ``{code, type}``,
    or a name ("Uzès", "Marsac (Creuse)", as the editor's field sends without JavaScript).

    Raises :class:`ValidationError` for an unknown code or name, or a name several
    communes share, with a message that says so.
    """
    if isinstance(value, str) and ":" not in value and not _CODE.match(value.strip() or "0"):
        return _by_name(value)
    code, kind = _split(value)
    place = territories().find(code, kind)
    if place is None:
        raise _invalid(_l("“%(code)s” is not a known French territory code.", code=code))
    return place


def resolve_all(values: Iterable[Any]) -> list[Place]:
    """Every place of a list, without repeats, refusing the list at its first unknown code."""
    places: list[Place] = []
    for value in values:
        place = resolve(value)
        if place not in places:
            places.append(place)
    if len(places) > MAX_PLACES:
        raise _invalid(_l("A page names %(num)s places at most.", num=MAX_PLACES))
    return places


def build(package: tarfile.TarFile, *, version: str) -> dict[str, Any]:
    """The compact list made from the npm package's ``data/`` files."""

    def member(name: str) -> list[dict[str, Any]]:
        handle = package.extractfile(f"package/data/{name}.json")
        if handle is None:
            raise _invalid(_l("The package has no %(name)s list.", name=name))
        return json.load(handle)

    regions = member("regions")
    departements = member("departements")
    communes = [row for row in member("communes") if row.get("type") in _COMMUNE_KINDS]
    if not regions or not departements or not communes:
        raise _invalid(_l("The package's lists are empty."))
    return {
        "source": {"package": PACKAGE, "version": version},
        "regions": [[row["code"], row["nom"]] for row in regions],
        "departements": [[row["code"], row["nom"], row["region"]] for row in departements],
        "communes": [
            [row["code"], row["nom"], row["departement"], row.get("population") or 0]
            for row in communes
        ],
    }


def fetch_package(version: str) -> bytes:
    """Download the package's tarball from the npm registry."""
    name = PACKAGE.split("/")[1]
    url = REGISTRY_URL.format(package=PACKAGE, name=name, version=version)
    with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310 - a fixed https URL
        return answer.read()


def refresh(tarball: bytes, destination: Path, *, version: str) -> Territories:
    """Rebuild the list from the package's tarball and write it to ``destination``.

    The list is checked (every département in a known région, every commune in a
    known département) before the file is replaced, so a bad package changes nothing.
    """
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as package:
            data = build(package, version=version)
    except (tarfile.TarError, KeyError, ValueError, OSError) as error:
        raise _invalid(_l("This is not the territories package: %(error)s", error=error)) from None
    try:
        checked = Territories(data)
    except KeyError as error:
        raise _invalid(_l("The package's lists disagree: %(error)s", error=error)) from None
    partial = destination.with_suffix(".partial")
    with gzip.open(partial, "wt", encoding="utf-8") as stream:
        json.dump(data, stream, ensure_ascii=False, separators=(",", ":"))
    os.replace(partial, destination)
    return checked


@dataclass(frozen=True)
class Outlines:
    """The map of metropolitan départements: an SVG view box and a path per département."""

    view_box: str
    paths: dict[str, str]


@functools.cache
def outlines() -> Outlines:
    """The shipped outlines of the départements (sources in ``data/TERRITORIES.md``)."""
    data = json.loads(OUTLINES.read_text(encoding="utf-8"))
    return Outlines(data["viewBox"], {item["code"]: item["path"] for item in data["departements"]})
