"""What an import from another wiki brings: pages with their revisions, media, and what
was left out and why; the bundle they make, imported by the bundle importer.

A source (YesWiki, MediaWiki) fills an :class:`ImportPlan`; :func:`apply` writes it as a
bundle (``docs/bundle-format.md``) to a temporary file and hands that to
:func:`commons.bundles.import_bundle`, which checks it all and writes it in one
transaction. A page whose address exists here is skipped, so running an import again
changes nothing. :func:`write_record` keeps a JSON record of each import (the report and
the raw data that had no place in a page) in ``IMPORTS_DIR`` (by default
``<instance>/imports``).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from flask import current_app
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import bundles, licenses, media, pages
from ..bundles.layout import Progress
from ..errors import CommonsError, ValidationError
from ..extensions import db
from ..models import Page, Redirect

#: Revisions kept in memory before the temporary bundle spills to disk.
_SPOOL_BYTES = 32 * 1024 * 1024


@dataclass
class PlannedRevision:
    """One revision to import: its author (a name), its date (aware), its text."""

    author: str
    created_at: datetime
    body: str
    summary: str = ""
    minor: bool = False


@dataclass
class PlannedPage:
    """One page to import, with its revisions oldest first."""

    slug: str
    title: str
    license: str
    revisions: list[PlannedRevision]
    kind: str = "page"
    tags: list[str] = field(default_factory=list)
    #: The page's address on the source wiki, when known.
    url: str | None = None


@dataclass
class PlannedMedia:
    """One file to import as a media (one version)."""

    name: str
    kind: str
    title: str
    license: str
    data: bytes
    author: str
    created_at: datetime
    description: str = ""


@dataclass
class Skipped:
    """Something of the source left out, and why (translated)."""

    item: str
    reason: str


@dataclass
class ImportPlan:
    """Everything an import would bring, and everything it leaves out."""

    source: str
    pages: list[PlannedPage] = field(default_factory=list)
    media: list[PlannedMedia] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    #: (page, construct) pairs the conversion kept as text or replaced by a placeholder.
    unconverted: list[tuple[str, str]] = field(default_factory=list)
    #: (page, target) pairs: links to pages that are not imported.
    broken_links: list[tuple[str, str]] = field(default_factory=list)
    #: Addresses that lead to an imported page: redirect slug → the page's slug.
    redirects: dict[str, str] = field(default_factory=dict)
    #: Raw data kept in the import record, e.g. Bazar entries' JSON by page address.
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def revisions(self) -> int:
        return sum(len(page.revisions) for page in self.pages)

    def authors(self) -> Counter[str]:
        """Each author of the imported revisions and files, with their number of edits."""
        counts: Counter[str] = Counter()
        for page in self.pages:
            counts.update(revision.author for revision in page.revisions)
        counts.update(item.author for item in self.media)
        return counts


def apply(plan: ImportPlan, *, progress: Progress | None = None) -> bundles.ImportReport:
    """Import the plan's pages and media in one transaction; pages that exist are skipped.

    Raises what :func:`commons.bundles.import_bundle` raises, and then changes nothing.
    """
    with SpooledTemporaryFile(max_size=_SPOOL_BYTES) as handle:
        write_bundle(plan, handle)
        handle.seek(0)
        report = bundles.import_bundle(handle, on_conflict="skip", progress=progress)
    add_redirects(plan.redirects)
    return report


def add_redirects(redirects: dict[str, str]) -> int:
    """Add each redirect (old address → page address) whose page exists and whose old
    address is free; flushes, the caller commits. Returns how many were added."""
    added = 0
    for slug, target in redirects.items():
        page_id = db.session.scalar(select(Page.id).where(Page.slug == target))
        used = db.session.scalar(select(func.count(Page.id)).where(Page.slug == slug)) or (
            db.session.get(Redirect, slug) is not None
        )
        if page_id is not None and not used:
            db.session.add(Redirect(slug=slug, page_id=page_id))
            added += 1
    db.session.flush()
    return added


def write_bundle(plan: ImportPlan, handle: IO[bytes]) -> None:
    """Write the plan as a bundle (with every revision's text) to ``handle``."""
    now = _iso(datetime.now(UTC))
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
        manifest_pages = [_page_entry(archive, page) for page in plan.pages]
        manifest_media = [_media_entry(archive, item) for item in plan.media]
        manifest = {
            "format": bundles.FORMAT,
            "version": bundles.VERSION,
            "generator": f"commons import from {plan.source}",
            "created_at": now,
            "source": None,
            "history": True,
            "pages": manifest_pages,
            "media": manifest_media,
        }
        archive.writestr(bundles.MANIFEST, json.dumps(manifest, ensure_ascii=False))


def _page_entry(archive: zipfile.ZipFile, page: PlannedPage) -> dict[str, Any]:
    revisions = []
    for number, revision in enumerate(page.revisions, start=1):
        data = revision.body.encode("utf-8")
        path = f"revisions/{page.slug}/{number}.md"
        archive.writestr(path, data)
        revisions.append(
            {
                "number": number,
                "parent": number - 1 or None,
                "action": "create" if number == 1 else "edit",
                "author": revision.author,
                "date": _iso(revision.created_at),
                "summary": revision.summary,
                "minor": revision.minor,
                "hidden": False,
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
                "path": path,
            }
        )
    return {
        "slug": page.slug,
        "title": page.title,
        "kind": page.kind,
        "tags": page.tags,
        "license": page.license,
        "source": None,
        "attribution_parties": [],
        "url": page.url,
        "revision": len(revisions),
        "files": {"markdown": revisions[-1]["path"]},
        "revisions": revisions,
    }


def _media_entry(archive: zipfile.ZipFile, item: PlannedMedia) -> dict[str, Any]:
    path = f"media/{item.name}/1.{item.name.rsplit('.', 1)[1]}"
    archive.writestr(path, item.data)
    return {
        "name": item.name,
        "kind": item.kind,
        "title": item.title,
        "description": item.description,
        "license": item.license,
        "source": None,
        "url": None,
        "version": 1,
        "versions": [
            {
                "number": 1,
                "sha256": hashlib.sha256(item.data).hexdigest(),
                "size": len(item.data),
                "license": item.license,
                "author": item.author,
                "date": _iso(item.created_at),
                "path": path,
            }
        ],
    }


def add_page(plan: ImportPlan, page: PlannedPage, item: str) -> None:
    """Add ``page`` to the plan, or report ``item`` as left out when its title, tags or one
    of its texts could not be saved here (a title too long is shortened)."""
    try:
        page.title = pages.clean_title(page.title[: current_app.config["MAX_TITLE_LENGTH"]])
        page.tags = pages.clean_tags(page.tags)
        for revision in page.revisions:
            pages.check_body_size(len(revision.body.encode("utf-8")))
    except CommonsError as error:
        plan.skipped.append(Skipped(item, str(error.message)))
        return
    plan.pages.append(page)


def existing(plan: ImportPlan) -> list[str]:
    """The addresses of the plan's pages that exist here: an import leaves them alone."""
    slugs = [page.slug for page in plan.pages]
    found: list[str] = []
    for start in range(0, len(slugs), 500):
        batch = slugs[start : start + 500]
        found += db.session.scalars(select(Page.slug).where(Page.slug.in_(batch)))
    return sorted(found)


def checked_license(value: str) -> str:
    """The SPDX id of the licence given for an import, refused unless it can enter."""
    spdx = licenses.normalize(value)
    if not licenses.can_import(spdx):
        raise ValidationError(
            _l("The licence “%(license)s” cannot enter this commons.", license=value[:80]),
            code="license_refused",
        )
    return spdx


def media_type(data: bytes) -> media.FileType:
    """What a file is, as an upload would be judged; raises ValidationError or TooLarge."""
    file_type, _width, _height = media.check_file(data)
    return file_type


def write_record(
    plan: ImportPlan, report: bundles.ImportReport, *, path: str, options: dict[str, Any]
) -> Path:
    """Keep a JSON record of an import in ``IMPORTS_DIR``; returns its path."""
    folder = Path(current_app.config["IMPORTS_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    record = folder / f"{stamp}-{plan.source.lower()}.json"
    content = {
        "source": plan.source,
        "path": path,
        "options": options,
        "imported_at": _iso(datetime.now(UTC)),
        "report": report.to_json(),
        "skipped": [{"item": item.item, "reason": item.reason} for item in plan.skipped],
        "unconverted": [{"page": page, "construct": text} for page, text in plan.unconverted],
        "broken_links": [{"page": page, "target": target} for page, target in plan.broken_links],
        "raw": plan.raw,
    }
    record.write_text(json.dumps(content, ensure_ascii=False, indent=1), encoding="utf-8")
    return record


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def describe(plan: ImportPlan) -> list[str]:
    """The plan as report lines: counts, authors, then everything left out and why."""
    authors = plan.authors()
    lines = [
        gettext("Read from %(source)s:", source=plan.source),
        ngettext("%(num)s page", "%(num)s pages", len(plan.pages)),
        ngettext("%(num)s revision", "%(num)s revisions", plan.revisions),
        ngettext("%(num)s file", "%(num)s files", len(plan.media)),
        ngettext("%(num)s author:", "%(num)s authors:", len(authors))
        + " "
        + ", ".join(f"{name} ({count})" for name, count in sorted(authors.items())),
    ]
    for item in plan.skipped:
        lines.append(gettext("skipped: %(item)s (%(reason)s)", item=item.item, reason=item.reason))
    for page, construct in plan.unconverted:
        lines.append(
            gettext("not converted in %(page)s: %(construct)s", page=page, construct=construct)
        )
    for slug, target in plan.redirects.items():
        lines.append(gettext("redirect: %(slug)s → %(target)s", slug=slug, target=target))
    for page, target in plan.broken_links:
        lines.append(gettext("broken link in %(page)s: %(target)s", page=page, target=target))
    return lines
