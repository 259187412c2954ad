"""Experiments across territories: what the current sheets are found by, the map's
counts, replication between pages and commons, and the spreadsheet export.

The typed fields themselves are :mod:`commons.sheets`; this module keeps the
``page_facets`` rows in step with each page's current sheet and answers the
questions asked across pages.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, delete, func, insert, select

from . import page_queries, sheets, territories, themes
from .errors import ValidationError
from .extensions import db
from .models import Kind, Page, PageFacet, Revision

#: The filters search, listings and the map take, and the facet each one reads.
FILTERS = ("region", "departement", "commune", "status", "theme", "year")
#: What the search page calls each filter, in the order it shows them.
FILTER_TITLES = {
    "region": _l("Région"),
    "departement": _l("Département"),
    "commune": _l("Commune"),
    "status": _l("Status"),
    "theme": _l("Theme"),
    "year": _l("Year"),
}
MAX_LINEAGE_DEPTH = 6


def record_sheet(page: Page, fields: Mapping[str, Any]) -> None:
    """Replace the page's facets with those of its sheet; a deleted page has none."""
    db.session.execute(delete(PageFacet).where(PageFacet.page_id == page.id))
    found = set() if page.deleted else sheets.facets(fields)
    if found:
        db.session.execute(
            insert(PageFacet),
            [{"page_id": page.id, "facet": name, "value": value} for name, value in found],
        )


def clean_filters(raw: Mapping[str, Any]) -> dict[str, str]:
    """The known filters given (``region``, ``departement``…), empty ones dropped."""
    filters = {}
    for name in FILTERS:
        value = raw.get(name)
        if isinstance(value, str) and value.strip():
            filters[name] = value.strip().upper() if name in territories.TYPES else value.strip()
    return filters


def matching(query: Select, filters: Mapping[str, str]) -> Select:
    """``query`` (over ``Page``) narrowed to the pages whose sheets match every filter."""
    for name, value in filters.items():
        query = query.where(
            Page.id.in_(
                select(PageFacet.page_id).where(
                    and_(PageFacet.facet == name, PageFacet.value == value)
                )
            )
        )
    return query


def matching_ids(filters: Mapping[str, str]) -> set[int]:
    """The ids of the live pages whose sheets match every filter."""
    query = matching(select(Page.id).where(Page.deleted.is_(False)), filters)
    return set(db.session.scalars(query))


def facet_counts(
    filters: Mapping[str, str], *, kind: str | None = None
) -> dict[str, list[tuple[str, int]]]:
    """For each facet, its values among the matching pages and how many pages have each."""
    pages = matching(select(Page.id).where(Page.deleted.is_(False)), filters)
    if kind:
        pages = pages.where(Page.kind == kind)
    rows = db.session.execute(
        select(PageFacet.facet, PageFacet.value, func.count())
        .where(PageFacet.page_id.in_(pages))
        .group_by(PageFacet.facet, PageFacet.value)
        .order_by(func.count().desc(), PageFacet.value)
    )
    counts: dict[str, list[tuple[str, int]]] = {}
    for name, value, count in rows:
        counts.setdefault(name, []).append((value, count))
    return counts


def counts_by_departement(filters: Mapping[str, str]) -> dict[str, int]:
    """How many experiments each département has (its communes' included)."""
    counts = facet_counts(filters, kind=Kind.EXPERIMENT.value)
    return dict(counts.get(territories.DEPARTEMENT, []))


def facet_label(name: str, value: str) -> str:
    """What a reader sees for a facet's value: a place's name, a theme's label…"""
    if name in territories.TYPES:
        place = territories.territories().find(value, name)
        return place.name if place else value
    if name == "theme":
        return themes.label(value)
    if name == "status":
        return str(sheets.STATUS_LABELS.get(value, value))
    return value


@dataclass
class Original:
    """The experiment a page replicates: a page of this commons, or an address elsewhere."""

    page: Page | None = None
    url: str | None = None


def resolve_original(value: str, *, base_url: str | None) -> Original:
    """What ``"replicates"`` names: a slug, this commons' URL of a page, or another
    commons' URL (kept; linked to the local copy when that page was imported here)."""
    value = (value or "").strip()
    if not value:
        raise ValidationError(str(_l("Say which experiment this page replicates.")))
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.netloc:
        if base_url and value.startswith(base_url.rstrip("/") + "/wiki/"):
            return _local_original(value.rstrip("/").rsplit("/", 1)[1])
        imported = db.session.scalar(
            select(Page).join(Revision, Revision.page_id == Page.id).where(Revision.origin == value)
        )
        return Original(page=imported, url=value)
    if parts.scheme or "/" in value:
        raise ValidationError(
            str(_l("“%(value)s” is neither a page of this commons nor a web address.", value=value))
        )
    return _local_original(value)


def _local_original(slug: str) -> Original:
    page, _redirected = page_queries.resolve(slug)
    if page is None or page.deleted:
        raise ValidationError(str(_l("There is no page at “%(slug)s”.", slug=slug)))
    if page.kind != Kind.EXPERIMENT.value:
        raise ValidationError(str(_l("Only an experiment can be replicated.")))
    return Original(page=page)


def set_original(page: Page, original: Original | None) -> None:
    """Record (or clear) the experiment ``page`` replicates; a page never replicates itself."""
    if original is not None and original.page is not None and original.page.id == page.id:
        raise ValidationError(str(_l("A page cannot replicate itself.")))
    page.replicates_id = original.page.id if original and original.page else None
    page.replicates_url = original.url if original else None


def replications(page: Page) -> list[Page]:
    """The live pages that replicate ``page``, newest first."""
    return list(
        db.session.scalars(
            select(Page)
            .where(Page.replicates_id == page.id, Page.deleted.is_(False))
            .order_by(Page.created_at.desc(), Page.id.desc())
        )
    )


@dataclass
class Lineage:
    """A page and the replications of it, and of them, down to a few generations."""

    page: Page
    children: list[Lineage] = field(default_factory=list)

    def size(self) -> int:
        return 1 + sum(child.size() for child in self.children)


def lineage(page: Page, depth: int = MAX_LINEAGE_DEPTH) -> Lineage:
    """The replication tree under ``page`` (a page met twice is shown once)."""
    seen = {page.id}

    def grow(node: Lineage, level: int) -> None:
        if level >= depth:
            return
        for child in replications(node.page):
            if child.id in seen:
                continue
            seen.add(child.id)
            branch = Lineage(child)
            node.children.append(branch)
            grow(branch, level + 1)

    root = Lineage(page)
    grow(root, 0)
    return root


CSV_COLUMNS = (
    "slug",
    "title",
    "url",
    "status",
    "period_start",
    "period_end",
    "territory_codes",
    "territory_names",
    "organisations",
    "themes",
    "contact",
    "license",
    "authors",
    "updated_at",
)


#: A spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text, never runs: ``=HYPERLINK(…)`` gets a quote."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def experiments_csv(
    filters: Mapping[str, str], *, page_url: Any, authors: Any, header: list[str]
) -> Iterator[str]:
    """The experiments matching ``filters`` as CSV lines, after ``header`` comment lines.

    ``page_url(page)`` gives a page's address and ``authors(page)`` its authors' names:
    the view passes them, so this function stays free of the request.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    for line in header:
        yield f"# {line}\n"
    writer.writerow(CSV_COLUMNS)
    yield flush()
    query = matching(
        select(Page).where(Page.deleted.is_(False), Page.kind == Kind.EXPERIMENT.value), filters
    ).order_by(Page.title)
    for page in db.session.scalars(query):
        fields = page.current_revision.fields if page.current_revision else {}
        places = fields.get("territory") or []
        period = fields.get("period") or {}
        writer.writerow(
            _cell(value)
            for value in [
                page.slug,
                page.title,
                page_url(page),
                fields.get("status", ""),
                period.get("start", ""),
                period.get("end", ""),
                " ".join(place["code"] for place in places),
                "; ".join(place["name"] for place in places),
                "; ".join(fields.get("organisations") or []),
                "; ".join(fields.get("themes") or []),
                fields.get("contact", ""),
                page.license,
                "; ".join(authors(page)),
                page.updated_at.isoformat(),
            ]
        )
        yield flush()
