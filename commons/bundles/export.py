"""Export: the pages of a selection, their media and their credits written as one zip.

Export streams: pages are read in batches and revisions row by row, and each file goes
into the zip as soon as it is made (media files copied from disk a chunk at a time), so
memory does not grow with the bodies and files exported.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import credits, licenses, media, render, rendered, serialize
from ..errors import CommonsError
from ..extensions import db
from ..models import Media, MediaVersion, Page, Revision, utcnow
from .credits_md import credits_header, media_section, page_section
from .layout import (
    CHUNK,
    FORMAT,
    MANIFEST,
    SPOOL_IN_MEMORY,
    VERSION,
    Progress,
    media_member,
    media_url,
    page_url,
)
from .offline import BundledFile, Listed, ListedMedia, index_html, standalone_page
from .selection import Selection, selected_pages

#: Pages loaded per query while exporting.
EXPORT_BATCH = 100
#: Revision rows fetched at a time while exporting a page's history.
REVISION_BATCH = 50


@dataclass
class ExportResult:
    """What an export wrote."""

    pages: int
    revisions: int
    file_name: str
    #: Media (files the pages show) in the bundle.
    media: int = 0


def _generator() -> str:
    try:
        return f"commons {metadata.version('commons')}"
    except metadata.PackageNotFoundError:
        return "commons"


def _member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=utcnow().timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _write(archive: zipfile.ZipFile, name: str, data: str | bytes) -> None:
    archive.writestr(_member(name), data)


def _write_spooled(archive: zipfile.ZipFile, name: str, *parts: str | IO[str]) -> None:
    """Write ``parts`` one after the other: texts, and texts gathered in temporary files,
    these a chunk at a time."""
    with archive.open(_member(name), "w") as handle:
        for part in parts:
            if isinstance(part, str):
                handle.write(part.encode("utf-8"))
                continue
            part.seek(0)
            while chunk := part.read(CHUNK):
                handle.write(chunk.encode("utf-8"))


def _spool() -> IO[str]:
    """A temporary text file, in memory while small."""
    return SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, mode="w+", encoding="utf-8")  # noqa: SIM115


def export_bundle(
    out: IO[bytes],
    selection: Selection,
    *,
    base_url: str | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    """Write the bundle of ``selection`` to the binary file ``out`` (seekable).

    ``base_url`` is this commons' address (``https://example.org/``): it makes page
    links and attributions absolute; without it they are left out.
    """
    chosen = selected_pages(selection)
    base = (base_url.rstrip("/") + "/") if base_url else None
    in_bundle = {slug for _id, slug in chosen}
    listed: list[Listed] = []
    used_licenses: set[str] = set()
    #: Names of the media the exported texts show; their files follow the pages.
    shown: set[str] = set()
    revision_count = 0
    # The manifest's page and media entries and the credits wait in temporary files, not
    # in memory, until the end, when everything they need to follow is known.
    with (
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        _spool() as entries,
        _spool() as credits_md,
        _spool() as media_entries,
        _spool() as media_credits_md,
    ):
        for start in range(0, len(chosen), EXPORT_BATCH):
            ids = [page_id for page_id, _slug in chosen[start : start + EXPORT_BATCH]]
            batch = db.session.scalars(
                select(Page)
                .where(Page.id.in_(ids))
                .options(selectinload(Page.tags), selectinload(Page.current_revision))
                .order_by(Page.title)
            ).all()
            for page in batch:
                entry, page_credits = _export_page(
                    archive, page, selection.history, in_bundle, base, shown
                )
                entries.write((",\n" if listed else "") + json.dumps(entry, ensure_ascii=False))
                credits_md.write(page_credits + "\n")
                listed.append(Listed(page.slug, page.title, page.kind, page.tag_names))
                used_licenses.update(rev["license"] for rev in entry["revisions"])
                revision_count += len(entry["revisions"])
                if progress:
                    progress(len(listed), len(chosen))
        listed_media: list[ListedMedia] = []
        for entry, media_credits in _export_media(archive, shown, selection.history, base):
            media_entries.write(
                (",\n" if listed_media else "") + json.dumps(entry, ensure_ascii=False)
            )
            media_credits_md.write(media_credits + "\n")
            listed_media.append(
                ListedMedia(entry["name"], entry["title"], entry["versions"][-1]["path"])
            )
            used_licenses.update(version["license"] for version in entry["versions"])
        license_files = {}
        for spdx in sorted(used_licenses):
            license_files[spdx] = f"licenses/{spdx}.txt"
            _write(archive, license_files[spdx], licenses.legal_text(spdx))
        created_at = utcnow()
        _write_spooled(
            archive,
            "CREDITS.md",
            credits_header(len(listed), len(listed_media), base, created_at),
            credits_md,
            ("\n## " + gettext("Files shown in these pages") + "\n\n") if listed_media else "",
            media_credits_md,
        )
        _write(
            archive,
            "index.html",
            index_html(listed, listed_media, base, created_at, license_files),
        )
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "generator": _generator(),
            "created_at": serialize.utc_timestamp(created_at),
            "source": base,
            "selection": selection.describe(),
            "history": selection.history,
            "files": {"index": "index.html", "credits": "CREDITS.md"},
            "licenses": license_files,
            "pages": [],
            "media": [],
        }
        # The two lists come last: their empty brackets are the last two in the JSON.
        text, tail = json.dumps(manifest, ensure_ascii=False, indent=1).rsplit("[]", 1)
        head, middle = text.rsplit("[]", 1)
        _write_spooled(
            archive,
            MANIFEST,
            head + "[\n",
            entries,
            "\n]" + middle + "[\n",
            media_entries,
            "\n]" + tail,
        )
    return ExportResult(len(listed), revision_count, selection.file_name(), len(listed_media))


def export_to_temporary_file(
    selection: Selection, *, base_url: str | None = None
) -> tuple[IO[bytes], ExportResult]:
    """The bundle in a temporary file (in memory while small), rewound, ready to send."""
    out: IO[bytes] = SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    try:
        result = export_bundle(out, selection, base_url=base_url)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out, result


def _export_page(
    archive: zipfile.ZipFile,
    page: Page,
    history: bool,
    in_bundle: set[str],
    base: str | None,
    shown: set[str],
) -> tuple[dict[str, Any], str]:
    """Write a page's files; return its manifest entry and its section of CREDITS.md.

    Adds to ``shown`` the media its current text shows and, with ``history``, those its
    older revisions show.
    """
    current = page.current_revision
    assert current is not None
    view = None if current.hidden else rendered.revision_view(current, store=False)
    attribution = credits.attribution(page, current)
    contributors = credits.contributors(page)
    media_files = _bundled_files([] if current.hidden else render.media_targets(current.body))
    shown.update(media_files)
    slug = page.slug
    files = {
        "html": f"pages/{slug}.html",
        "markdown": None if current.hidden else f"pages/{slug}.md",
    }
    revisions = list(_export_revisions(archive, page.id, slug, current.number, history, shown))
    if files["markdown"]:
        _write(archive, files["markdown"], current.body)
    _write(
        archive,
        files["html"],
        standalone_page(
            page,
            view,
            attribution=attribution,
            contributors=contributors,
            in_bundle=in_bundle,
            base=base,
            media_files=media_files,
        ),
    )
    entry = serialize.bundle_page(
        page,
        url=page_url(base, slug),
        files=files,
        contributors=contributors,
        media_names=list(media_files),
        revisions=revisions,
        replicates=serialize.original(page, url_of=lambda original: page_url(base, original)),
    )
    return entry, page_section(page, contributors, base)


def _bundled_files(names: list[str]) -> dict[str, BundledFile]:
    """The media among ``names`` that exist, each with its current file in the bundle."""
    if not names:
        return {}
    rows = db.session.execute(
        select(Media.name, Media.kind, MediaVersion.number)
        .join(MediaVersion, Media.current_version_id == MediaVersion.id)
        .where(Media.name.in_(names))
    )
    found = {name: BundledFile(kind, media_member(name, number)) for name, kind, number in rows}
    return {name: found[name] for name in names if name in found}


def _export_revisions(
    archive: zipfile.ZipFile,
    page_id: int,
    slug: str,
    current: int,
    history: bool,
    shown: set[str],
) -> Iterator[dict[str, Any]]:
    """Each revision's metadata, oldest first; with ``history``, its text goes in the zip
    and the media it shows are added to ``shown``.

    Hidden revisions keep their place, author and date, but neither their text nor
    its hash or size, which could betray it.
    """
    columns = [
        Revision.id,
        Revision.number,
        Revision.parent_id,
        Revision.action,
        Revision.title,
        Revision.kind,
        Revision.tags,
        Revision.license,
        Revision.author_id,
        Revision.author_name,
        Revision.origin,
        Revision.coauthors,
        Revision.created_at,
        Revision.summary,
        Revision.minor,
        Revision.hidden,
        Revision.sha256,
        Revision.size,
        Revision.fields,
    ]
    if history:
        columns.append(Revision.body)
    rows = db.session.execute(
        select(*columns)
        .where(Revision.page_id == page_id)
        .order_by(Revision.number)
        .execution_options(yield_per=REVISION_BATCH)
    )
    numbers: dict[int, int] = {}
    for row in rows:
        numbers[row.id] = row.number
        parent = numbers.get(row.parent_id) if row.parent_id else None
        entry = serialize.bundle_revision(row, parent)
        if not row.hidden:
            if row.number == current:
                entry["path"] = f"pages/{slug}.md"
            elif history:
                entry["path"] = f"revisions/{slug}/{row.number}.md"
                _write(archive, entry["path"], row.body)
                shown.update(render.media_targets(row.body))
        yield entry


def _export_media(
    archive: zipfile.ZipFile, names: set[str], history: bool, base: str | None
) -> Iterator[tuple[dict[str, Any], str]]:
    """Copy the files of the media called ``names`` (those that exist) into the zip.

    Yields each media's manifest entry and its section of CREDITS.md, by name. With
    ``history`` every version travels, otherwise the current one.
    """
    ordered = sorted(names)
    for start in range(0, len(ordered), EXPORT_BATCH):
        batch = db.session.scalars(
            select(Media)
            .where(Media.name.in_(ordered[start : start + EXPORT_BATCH]))
            .options(selectinload(Media.current_version))
            .order_by(Media.name)
        ).all()
        for item in batch:
            assert item.current_version is not None
            chosen = media.versions(item)[::-1] if history else [item.current_version]
            versions = []
            for version in chosen:
                path = media_member(item.name, version.number)
                _copy_media_file(archive, path, item, version)
                versions.append(serialize.bundle_media_version(version, path))
            authors = media.creators(item)
            entry = serialize.bundle_media(
                item, url=media_url(base, item.name), authors=authors, versions=versions
            )
            yield entry, media_section(item, authors, versions[-1]["path"], base)


def _copy_media_file(
    archive: zipfile.ZipFile, path: str, item: Media, version: MediaVersion
) -> None:
    """Copy a version's file from the media folder into the zip, a chunk at a time.

    Its sha256 is checked on the way: a bundle never carries a file that is not the one
    its manifest describes.
    """
    info = _member(path)
    info.file_size = version.size  # lets zipfile choose ZIP64 for a very large file
    if item.kind == "image":
        info.compress_type = zipfile.ZIP_STORED  # pictures are compressed already
    unusable = CommonsError(
        _l(
            "The file of “%(name)s”, version %(number)s, is missing or damaged in the "
            "media folder: the bundle cannot be made.",
            name=item.name,
            number=version.number,
        ),
        code="media_file_missing",
        status=500,
    )
    try:
        source = media.file_path(version.sha256).open("rb")
    except FileNotFoundError as error:
        raise unusable from error
    digest = hashlib.sha256()
    with source, archive.open(info, "w") as target:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            target.write(chunk)
    if digest.hexdigest() != version.sha256:
        raise unusable
