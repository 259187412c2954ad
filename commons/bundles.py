"""Bundles: export pages with their attribution as one zip, and import such a zip.

A bundle (format ``commons-bundle``, version 1, described in ``docs/bundle-format.md``)
holds every selected page as Markdown and as standalone HTML, an ``index.html``, the
credits in ``CREDITS.md`` and in ``manifest.json``, the licence texts, the media files the
pages show and, optionally, every revision's text and every version of those files.

Export streams: pages are read in batches and revisions row by row, and each file goes
into the zip as soon as it is made (media files copied from disk a chunk at a time), so
memory does not grow with the bodies and files exported.

Import never trusts the zip. It first checks everything — the archive, every member's
name and size (while decompressing, so a zip bomb stops at the limit), the manifest,
every page's fields and licence, every body's sha256 — and only then writes, in one
transaction that is rolled back as a whole when anything fails. The manifest is streamed,
never held whole: its entries are built and checked one at a time, and its limits apply as
soon as they are crossed.
"""

from __future__ import annotations

import codecs
import hashlib
import itertools
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from html import escape
from importlib import metadata
from tempfile import SpooledTemporaryFile
from typing import IO, Any

import ijson
from flask import current_app, render_template
from flask_babel import format_date, gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from . import credits, licenses, media, pages, permissions, render, rendered
from . import search as search_service
from .errors import CommonsError, Forbidden, NotFound, TooLarge, ValidationError
from .extensions import db
from .models import Action, Media, MediaVersion, Page, Redirect, Revision, Tag, User, utcnow
from .slugs import MAX_SLUG_LENGTH, slugify

FORMAT = "commons-bundle"
VERSION = 1
MANIFEST = "manifest.json"
CONFLICT_CHOICES = ("skip", "rename", "merge")

#: Defaults for limits that may be missing from older configurations.
DEFAULT_MAX_PAGES = 20_000
DEFAULT_MAX_MEMBERS = 200_000
#: Page revisions and media versions together: a page's entry is built whole when it is
#: checked, some 1 KB a revision, so this bounds the memory one entry can take.
DEFAULT_MAX_REVISIONS = 200_000
#: Bytes of central directory allowed per member: its fixed header, a long name, extras.
CENTRAL_ENTRY_BYTES = 512

#: Bytes read from a zip member or an upload at a time.
CHUNK = 64 * 1024
#: Pages loaded per query while exporting.
EXPORT_BATCH = 100
#: Revision rows fetched at a time while exporting a page's history.
REVISION_BATCH = 50
#: Pages an import writes before letting their objects go.
WRITE_BATCH = 100
#: An upload stays in memory up to this size, then goes to a temporary file.
SPOOL_IN_MEMORY = 8 * 1024 * 1024

Progress = Callable[[int, int], None]


# --- what to export ----------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """Which pages go into a bundle, and whether with their full history.

    Rules, in order: a ``slug`` exports that page; a ``query`` exports the search
    results (narrowed by ``kind`` and ``tag``); ``kind`` and/or ``tag`` export the
    pages that have them; ``everything`` exports every live page.
    """

    slug: str | None = None
    tag: str | None = None
    kind: str | None = None
    query: str | None = None
    everything: bool = False
    history: bool = False

    #: The choices of the export form's "scope" field, each keeping one criterion.
    SCOPES = ("page", "tag", "kind", "query", "all")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Selection:
        """Read a selection from a form or a JSON object.

        Keys: ``slug``, ``tag``, ``kind``, ``query`` (or ``q``), ``all``, ``history``;
        an optional ``scope`` (page, tag, kind, query, all) keeps only that criterion,
        so a form can hold every field and send the one chosen.
        """
        selection = cls(
            slug=_option(data, "slug"),
            tag=_option(data, "tag"),
            kind=_option(data, "kind"),
            query=_option(data, "query") or _option(data, "q"),
            everything=_flag(data.get("all")),
            history=_flag(data.get("history")),
        )
        scope = _option(data, "scope")
        if scope is None:
            return selection
        if scope not in cls.SCOPES:
            raise ValidationError(
                _l("Unknown choice “%(scope)s” of pages to export.", scope=scope[:40]),
                code="selection_invalid",
            )
        return cls(
            slug=selection.slug if scope == "page" else None,
            tag=selection.tag if scope == "tag" else None,
            kind=selection.kind if scope == "kind" else None,
            query=selection.query if scope == "query" else None,
            everything=scope == "all",
            history=selection.history,
        )

    def describe(self) -> dict[str, Any]:
        """The selection as recorded in the manifest."""
        return {
            "slug": self.slug,
            "tag": self.tag,
            "kind": self.kind,
            "query": self.query,
            "all": self.everything,
            "history": self.history,
        }

    def file_name(self) -> str:
        """A download name saying what the bundle holds: ``commons-tag-cafe-2024-05-01.zip``."""
        if self.slug:
            label = slugify(self.slug)
        elif self.query:
            label = "search-" + slugify(self.query)[:40].rstrip("-")
        elif self.kind or self.tag:
            label = "-".join(slugify(part) for part in (self.kind, self.tag) if part)
        else:
            label = "all"
        return f"commons-{label or 'pages'}-{utcnow():%Y-%m-%d}.zip"


def _option(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(_l("“%(field)s” must be text.", field=key), code="selection_invalid")
    return value.strip() or None


def _flag(value: Any) -> bool:
    """Form checkboxes send "on", JSON sends true; both mean yes."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "on", "true", "yes"}
    return value is True or value == 1


def selected_pages(selection: Selection) -> list[tuple[int, str]]:
    """Ids and slugs of the live pages ``selection`` names, by title (search: by relevance).

    Raises :class:`NotFound` when nothing matches and :class:`ValidationError` when
    nothing was chosen.
    """
    live = select(Page.id, Page.slug).where(Page.deleted.is_(False))
    if selection.slug:
        page, _redirected = pages.resolve(selection.slug)
        if page is None or page.deleted:
            raise NotFound(_l("There is no page at “%(slug)s”.", slug=selection.slug[:80]))
        return [(page.id, page.slug)]
    kind = pages.clean_kind(selection.kind) if selection.kind else None
    tags = pages.clean_tags([selection.tag]) if selection.tag else []
    if selection.query:
        found = _search_slugs(selection.query, kind, tags[0] if tags else None)
        ids: dict[str, int] = {}
        for start in range(0, len(found), 500):
            batch = live.where(Page.slug.in_(found[start : start + 500]))
            ids.update({slug: page_id for page_id, slug in db.session.execute(batch)})
        # In the order of the search results, most relevant first.
        chosen = [(ids[slug], slug) for slug in found if slug in ids]
    elif kind or tags:
        query = live
        if kind:
            query = query.where(Page.kind == kind)
        if tags:
            query = query.join(Page.tags).where(Tag.name == tags[0])
        chosen = [(row[0], row[1]) for row in db.session.execute(query.order_by(Page.title))]
    elif selection.everything:
        chosen = [(row[0], row[1]) for row in db.session.execute(live.order_by(Page.title))]
    else:
        raise ValidationError(
            _l("Choose what to export: a page, a tag, a kind, a search or everything."),
            code="selection_empty",
        )
    if not chosen:
        raise NotFound(_l("No page matches this choice: there is nothing to export."))
    return chosen


def _search_slugs(query: str, kind: str | None, tag: str | None) -> list[str]:
    """Every page the search finds, following its pagination."""
    slugs: list[str] = []
    number = 1
    while True:
        results = search_service.search(query, kind=kind, tag=tag, page=number, per_page=100)
        slugs.extend(hit.slug for hit in results.hits)
        if not results.hits or len(slugs) >= results.total:
            return list(dict.fromkeys(slugs))
        number += 1


# --- export ------------------------------------------------------------------------------


@dataclass
class ExportResult:
    """What an export wrote."""

    pages: int
    revisions: int
    file_name: str
    #: Media (files the pages show) in the bundle.
    media: int = 0


def _iso(value: datetime) -> str:
    """ISO-8601 in UTC with a ``Z``, keeping microseconds so dates round-trip exactly."""
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _generator() -> str:
    try:
        return f"commons {metadata.version('commons')}"
    except metadata.PackageNotFoundError:
        return "commons"


def _page_url(base: str | None, slug: str, revision: int | None = None) -> str | None:
    if base is None:
        return None
    return f"{base}wiki/{slug}" + (f"?rev={revision}" if revision else "")


def _media_url(base: str | None, name: str) -> str | None:
    return None if base is None else f"{base}media/{name}"


def media_member(name: str, number: int) -> str:
    """Where version ``number`` of the media ``name`` is in a bundle: ``media/<name>/<n>.<ext>``."""
    return f"media/{name}/{number}.{name.rsplit('.', 1)[-1]}"


@dataclass(frozen=True)
class BundledFile:
    """A media file of the bundle, as its pages show it."""

    kind: str  # "image" or "document"
    #: The current version's file in the zip.
    path: str


_ROOT_LINK = re.compile(r'(<a\b[^>]*?)\s*\bhref="(/(?!/)[^"]*)"')
_WIKI_PATH = re.compile(r"^/wiki/([a-z0-9-]+)$")
_MEDIA_PATH = re.compile(r"^/media/([a-z0-9.-]+)$")
_IMAGE = re.compile(r"<img\b[^>]*>")
_ALT = re.compile(r'\balt="([^"]*)"')
_SRC = re.compile(r'\bsrc="(https?://[^"]*)"')
_THUMBNAIL = re.compile(r'\bsrc="/media/([a-z0-9.-]+)/thumbnail"')


def bundle_html(
    html: str,
    in_bundle: set[str],
    base: str | None,
    files: Mapping[str, BundledFile] | None = None,
) -> str:
    """Make rendered page HTML work offline, inside the bundle's ``pages/`` folder.

    Links to pages in the bundle point to their file, and media in the bundle (``files``,
    by name) to theirs: pictures show the bundled file, documents become links to it.
    Other links to this commons become absolute (or plain text when its address is
    unknown); other images are not fetched from anywhere: each becomes its description,
    linked when it is external.
    """
    files = files or {}

    def link(match: re.Match[str]) -> str:
        start, path = match.group(1), match.group(2)
        wiki = _WIKI_PATH.match(path)
        if wiki and wiki.group(1) in in_bundle:
            return f'{start} href="{wiki.group(1)}.html"'
        shown = _MEDIA_PATH.match(path)
        if shown and shown.group(1) in files:
            return f'{start} href="../{files[shown.group(1)].path}"'
        if base is None:
            return start
        return f'{start} href="{escape(base)}{path[1:]}"'

    def image(match: re.Match[str]) -> str:
        tag = match.group(0)
        alt = _ALT.search(tag)
        label = (alt.group(1) if alt else "") or gettext("image")
        thumbnail = _THUMBNAIL.search(tag)
        bundled = files.get(thumbnail.group(1)) if thumbnail else None
        if bundled is not None and bundled.kind == "image":
            return f'<img alt="{label}" src="../{bundled.path}">'
        if bundled is not None:
            # The link around it opens the bundled document.
            return f'<span class="document">{label}</span>'
        source = _SRC.search(tag)
        if source:
            return f'<a class="image" href="{source.group(1)}">[{label}]</a>'
        return f'<span class="image">[{label}]</span>'

    return _IMAGE.sub(image, _ROOT_LINK.sub(link, html))


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


@dataclass
class _Listed:
    """What the index needs to remember about an exported page."""

    slug: str
    title: str
    kind: str
    tags: list[str]


@dataclass
class _ListedMedia:
    """What the index needs to remember about an exported media."""

    name: str
    title: str
    #: Its current file in the zip.
    path: str


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
    listed: list[_Listed] = []
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
                listed.append(_Listed(page.slug, page.title, page.kind, page.tag_names))
                used_licenses.update(rev["license"] for rev in entry["revisions"])
                revision_count += len(entry["revisions"])
                if progress:
                    progress(len(listed), len(chosen))
        listed_media: list[_ListedMedia] = []
        for entry, media_credits in _export_media(archive, shown, selection.history, base):
            media_entries.write(
                (",\n" if listed_media else "") + json.dumps(entry, ensure_ascii=False)
            )
            media_credits_md.write(media_credits + "\n")
            listed_media.append(
                _ListedMedia(entry["name"], entry["title"], entry["versions"][-1]["path"])
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
            _credits_header(len(listed), len(listed_media), base, created_at),
            credits_md,
            ("\n## " + gettext("Files shown in these pages") + "\n\n") if listed_media else "",
            media_credits_md,
        )
        _write(
            archive,
            "index.html",
            _index_html(listed, listed_media, base, created_at, license_files),
        )
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "generator": _generator(),
            "created_at": _iso(created_at),
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
    # Rendering may store the HTML in the cache and commit, so it comes before anything
    # else reads the database for this page (a commit would break a streaming query).
    view = None if current.hidden else rendered.revision_view(current)
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
    permalink = _page_url(base, slug, current.number)
    license_ = licenses.get(page.license)
    _write(
        archive,
        files["html"],
        render_template(
            "bundle/page.html",
            page=page,
            revision=current,
            body=bundle_html(view.html, in_bundle, base, media_files) if view else None,
            toc=view.toc if view else "",
            attribution=attribution,
            contributors=contributors,
            # The hidden text of a page shows nothing, and credits nothing.
            media_credits=credits.media_credits(page) if media_files else [],
            media_files=media_files,
            permalink=permalink,
            license=license_,
            license_file=f"../licenses/{license_.spdx}.txt",
            reuse=credits.reuse_texts(attribution, permalink or f"{slug}.html", current.created_at),
        ),
    )
    entry = {
        "slug": slug,
        "title": page.title,
        "kind": page.kind,
        "tags": page.tag_names,
        "license": page.license,
        "source": page.source,
        "attribution_parties": list(page.attribution_parties or []),
        "url": _page_url(base, slug),
        "created_at": _iso(page.created_at),
        "updated_at": _iso(page.updated_at),
        "revision": current.number,
        "files": files,
        "contributors": [_contributor_json(person) for person in contributors],
        "media": list(media_files),
        "revisions": revisions,
    }
    return entry, _page_credits_md(page, contributors, base)


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


def _contributor_json(person: credits.Contributor) -> dict[str, Any]:
    """A contributor as the credits API gives it."""
    return {
        "name": person.name,
        "edits": person.edits,
        "first": _iso(person.first),
        "last": _iso(person.last),
        "origin": person.origin,
        "role": person.role,
        "account": person.user_id is not None,
    }


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
        entry: dict[str, Any] = {
            "number": row.number,
            "parent": numbers.get(row.parent_id) if row.parent_id else None,
            "action": row.action,
            "title": row.title,
            "kind": row.kind,
            "tags": list(row.tags or []),
            "license": row.license,
            "author": row.author_name,
            "author_kind": "account" if row.author_id is not None else "external",
            "origin": row.origin,
            "coauthors": list(row.coauthors or []),
            "date": _iso(row.created_at),
            "summary": row.summary,
            "minor": row.minor,
            "hidden": row.hidden,
        }
        if not row.hidden:
            entry["sha256"] = row.sha256
            entry["size"] = row.size
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
                versions.append(_media_version_json(version, path))
            authors = media.creators(item)
            entry = {
                "name": item.name,
                "kind": item.kind,
                "title": item.title,
                "description": item.description,
                "license": item.license,
                "source": item.source,
                "url": _media_url(base, item.name),
                "created_at": _iso(item.created_at),
                "updated_at": _iso(item.updated_at),
                "version": item.current_version.number,
                "authors": authors,
                "versions": versions,
            }
            yield entry, _media_credits_md(item, authors, versions[-1]["path"], base)


def _media_version_json(version: MediaVersion, path: str) -> dict[str, Any]:
    return {
        "number": version.number,
        "sha256": version.sha256,
        "size": version.size,
        "content_type": version.content_type,
        "width": version.width,
        "height": version.height,
        "license": version.license,
        "summary": version.summary,
        "author": version.author_name,
        "author_kind": "account" if version.author_id is not None else "external",
        "origin": version.origin,
        "creators": list(version.creators or []),
        "date": _iso(version.created_at),
        "path": path,
    }


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


def _md(text: str) -> str:
    """Escape what Markdown would read as markup, so names and titles stay text."""
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


def _file_lines_md(file: str, url: str | None, spdx: str) -> list[str]:
    """The credits lines saying where a page or media is, and under which licence."""
    license_ = licenses.get(spdx)
    return [
        "- "
        + gettext("File: %(file)s", file=file)
        + (" · " + gettext("Original: %(url)s", url=url) if url else ""),
        "- " + gettext("Licence: %(licence)s", licence=f"{license_.name} ({license_.url})"),
    ]


def _source_md(source: dict[str, Any]) -> str:
    """The credits line of a declared source: the work adapted, its authors, URL, licence."""
    work = _md(source.get("title") or source.get("url") or "")
    authors = ", ".join(_md(name) for name in source.get("authors") or [])
    text = (
        gettext("Adapted from %(work)s by %(authors)s", work=work, authors=authors)
        if authors
        else gettext("Adapted from %(work)s", work=work)
    )
    details = [part for part in (source.get("url"), source.get("license")) if part]
    return "- " + text + (f" ({', '.join(details)})" if details else "")


def _page_credits_md(page: Page, contributors: list[credits.Contributor], base: str | None) -> str:
    lines = [f"## {_md(page.title)}", ""]
    lines += _file_lines_md(f"pages/{page.slug}.html", _page_url(base, page.slug), page.license)
    for person in contributors:
        dates = format_date(person.first, "medium")
        if person.last.date() != person.first.date():
            dates += " – " + format_date(person.last, "medium")
        if person.role == "coauthor":
            text = gettext("%(name)s, co-author", name=_md(person.name))
        else:
            text = ngettext(
                "%(name)s, %(num)s edit",
                "%(name)s, %(num)s edits",
                person.edits,
                name=_md(person.name),
            )
        if person.origin:
            text += " — " + gettext("imported from %(origin)s", origin=person.origin)
        lines.append(f"- {text} ({dates})")
    if page.attribution_parties:
        parties = ", ".join(_md(party) for party in page.attribution_parties)
        lines.append("- " + gettext("Also credited: %(parties)s", parties=parties))
    if page.source:
        lines.append(_source_md(page.source))
    return "\n".join(lines) + "\n"


def _media_credits_md(item: Media, authors: list[str], file: str, base: str | None) -> str:
    """A media's section of CREDITS.md: its title, file, licence, authors and source."""
    lines = [f"### {_md(item.title)}", ""]
    lines += _file_lines_md(file, _media_url(base, item.name), item.license)
    if authors:
        names = ", ".join(_md(name) for name in authors)
        lines.append("- " + gettext("Authors: %(names)s", names=names))
    if item.source:
        lines.append(_source_md(item.source))
    return "\n".join(lines) + "\n"


def _credits_header(count: int, media_count: int, base: str | None, created_at: datetime) -> str:
    intro = ngettext(
        "This bundle holds %(num)s page, exported on %(date)s.",
        "This bundle holds %(num)s pages, exported on %(date)s.",
        count,
        date=format_date(created_at, "long"),
    )
    if base:
        intro += " " + gettext("They come from %(url)s.", url=base)
    if media_count:
        intro += " " + ngettext(
            "It also holds %(num)s file that these pages show, credited at the end.",
            "It also holds %(num)s files that these pages show, credited at the end.",
            media_count,
        )
    header = [
        "# " + gettext("Credits"),
        "",
        intro,
        "",
        gettext(
            "Each page is published under the licence named below; the licence texts are "
            "in the licenses folder. When you reuse a page, credit its authors, link to its "
            "source, name its licence and say whether you changed it."
        ),
        "",
        "",
    ]
    return "\n".join(header)


def _index_html(
    listed: list[_Listed],
    listed_media: list[_ListedMedia],
    base: str | None,
    created_at: datetime,
    license_files: dict[str, str],
) -> str:
    by_kind: dict[str, list[_Listed]] = {}
    by_tag: dict[str, list[_Listed]] = {}
    for item in listed:
        by_kind.setdefault(item.kind, []).append(item)
        for tag in item.tags:
            by_tag.setdefault(tag, []).append(item)
    kinds = [kind for kind in ("tool", "experiment", "synthesis", "page") if kind in by_kind]
    kinds += sorted(set(by_kind) - set(kinds))
    return render_template(
        "bundle/index.html",
        pages=listed,
        media=listed_media,
        kinds=[(kind, by_kind[kind]) for kind in kinds],
        tags=sorted(by_tag.items()),
        source=base,
        created_at=created_at,
        licenses=[(licenses.get(spdx), path) for spdx, path in license_files.items()],
        version=VERSION,
    )


# --- reading a bundle ------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """How much a bundle may hold (from the ``MAX_BUNDLE_*`` settings)."""

    bundle_bytes: int
    member_bytes: int
    total_bytes: int
    pages: int
    members: int
    revisions: int = DEFAULT_MAX_REVISIONS

    @classmethod
    def from_config(cls) -> Limits:
        config = current_app.config
        return cls(
            bundle_bytes=config["MAX_BUNDLE_BYTES"],
            member_bytes=config["MAX_BUNDLE_MEMBER_BYTES"],
            total_bytes=config["MAX_BUNDLE_TOTAL_BYTES"],
            pages=config.get("MAX_BUNDLE_PAGES", DEFAULT_MAX_PAGES),
            members=config.get("MAX_BUNDLE_MEMBERS", DEFAULT_MAX_MEMBERS),
            revisions=config.get("MAX_BUNDLE_REVISIONS", DEFAULT_MAX_REVISIONS),
        )


def _mismatch(name: str) -> ValidationError:
    return ValidationError(
        _l(
            "The file “%(file)s” does not match its size and sha256 in manifest.json: "
            "it is damaged or was changed.",
            file=name[:200],
        ),
        code="bundle_hash_mismatch",
    )


def _damaged(name: str) -> ValidationError:
    return ValidationError(
        _l("The file “%(file)s” in the bundle is damaged and cannot be read.", file=name[:200]),
        code="bundle_damaged",
    )


_DRIVE = re.compile(r"^[A-Za-z]:")


def unsafe_member_name(name: str) -> bool:
    """True for names that could point outside the bundle: absolute, ``..``, odd characters."""
    if not name or "\x00" in name or "\\" in name:
        return True
    if name.startswith("/") or _DRIVE.match(name):
        return True
    return ".." in name.split("/")


_END_OF_CENTRAL_DIRECTORY = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_END = b"PK\x06\x06"


def _central_directory(stream: IO[bytes], size: int) -> tuple[int, int] | None:
    """(number of members, size of the central directory) as the zip declares them.

    Read before :mod:`zipfile` loads the directory, which it keeps whole in memory, so a
    zip declaring millions of members is refused without loading them.
    """
    tail_size = min(size, 65_535 + 22)
    stream.seek(size - tail_size)
    tail = stream.read(tail_size)
    at = tail.rfind(_END_OF_CENTRAL_DIRECTORY)
    if at < 0 or len(tail) - at < 22:
        return None
    members = int.from_bytes(tail[at + 10 : at + 12], "little")
    directory = int.from_bytes(tail[at + 12 : at + 16], "little")
    if at >= 20 and tail[at - 20 : at - 16] == _ZIP64_LOCATOR:
        stream.seek(int.from_bytes(tail[at - 12 : at - 4], "little"))
        record = stream.read(56)
        if record[:4] == _ZIP64_END and len(record) == 56:
            members = int.from_bytes(record[32:40], "little")
            directory = int.from_bytes(record[40:48], "little")
    return members, directory


class _Archive:
    """A zip opened for reading within the limits; members are read only through it."""

    def __init__(self, stream: IO[bytes], limits: Limits) -> None:
        self.limits = limits
        self.spent = 0
        try:
            stream.seek(0, 2)
            size = stream.tell()
        except (OSError, ValueError) as error:
            raise ValidationError(
                _l("The bundle cannot be read."), code="bundle_invalid"
            ) from error
        if size > limits.bundle_bytes:
            raise TooLarge(
                _l(
                    "The bundle is too large (%(size)s bytes, at most %(limit)s).",
                    size=size,
                    limit=limits.bundle_bytes,
                ),
                code="bundle_too_large",
            )
        declared = _central_directory(stream, size)
        if declared is not None and (
            declared[0] > limits.members or declared[1] > limits.members * CENTRAL_ENTRY_BYTES
        ):
            raise TooLarge(
                _l("The bundle holds too many files (at most %(limit)s).", limit=limits.members),
                code="bundle_too_many_files",
            )
        try:
            stream.seek(0)
            self.zip = zipfile.ZipFile(stream)
        except (
            zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError
        ) as error:  # fmt: skip
            raise ValidationError(
                _l("This file is not a bundle: it is not a zip archive, or a damaged one."),
                code="bundle_not_zip",
            ) from error
        try:
            self.members = self._check_members()
        except BaseException:
            self.zip.close()
            raise

    def _check_members(self) -> dict[str, zipfile.ZipInfo]:
        infos = self.zip.infolist()
        if len(infos) > self.limits.members:
            raise TooLarge(
                _l(
                    "The bundle holds too many files (at most %(limit)s).",
                    limit=self.limits.members,
                ),
                code="bundle_too_many_files",
            )
        members: dict[str, zipfile.ZipInfo] = {}
        declared_total = 0
        for info in infos:
            name = info.orig_filename
            if unsafe_member_name(name):
                raise ValidationError(
                    _l(
                        "The bundle contains a file with a forbidden path, “%(file)s”: paths "
                        "must be relative and must not contain “..”.",
                        file=name[:200],
                    ),
                    code="bundle_unsafe_path",
                )
            if name in members:
                raise ValidationError(
                    _l("The file “%(file)s” appears twice in the bundle.", file=name[:200]),
                    code="bundle_duplicate_file",
                )
            if info.flag_bits & 0x1:
                raise ValidationError(
                    _l("The file “%(file)s” in the bundle is encrypted.", file=name[:200]),
                    code="bundle_encrypted",
                )
            self._check_member_size(name, info.file_size)
            declared_total += info.file_size
            members[name] = info
        self._check_total(declared_total)
        return members

    def _check_member_size(self, name: str, size: int) -> None:
        if size > self.limits.member_bytes:
            raise TooLarge(
                _l(
                    "The file “%(file)s” in the bundle is too large once uncompressed "
                    "(at most %(limit)s bytes).",
                    file=name[:200],
                    limit=self.limits.member_bytes,
                ),
                code="bundle_member_too_large",
            )

    def _check_total(self, size: int) -> None:
        if size > self.limits.total_bytes:
            raise TooLarge(
                _l(
                    "The bundle is too large once uncompressed (at most %(limit)s bytes).",
                    limit=self.limits.total_bytes,
                ),
                code="bundle_total_too_large",
            )

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = self.members.get(name)
        if info is None:
            raise ValidationError(
                _l(
                    "manifest.json names the file “%(file)s”, which is not in the bundle.",
                    file=name[:200],
                ),
                code="bundle_missing_file",
            )
        return info

    def declared_size(self, name: str) -> int:
        """The size the zip declares for a member once decompressed (it may lie)."""
        return self._info(name).file_size

    def _chunks(self, name: str, *, counted: bool, size: int | None = None) -> Iterator[bytes]:
        """A member's bytes, decompressed in chunks and stopped as soon as a limit is passed.

        The sizes a zip declares can lie, so the limits are enforced on what actually comes
        out. ``counted`` adds the bytes to the bundle's total (the first reading does).
        ``size`` is what the manifest says the member holds: reading stops past it too.
        """
        info = self._info(name)
        read = 0
        try:
            with self.zip.open(info) as handle:
                while chunk := handle.read(CHUNK):
                    read += len(chunk)
                    self._check_member_size(name, read)
                    if size is not None and read > size:
                        raise _mismatch(name)
                    if counted:
                        self.spent += len(chunk)
                        self._check_total(self.spent)
                    yield chunk
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
                OSError, ValueError) as error:  # fmt: skip
            raise _damaged(name) from error

    def read(self, name: str, *, counted: bool = True, size: int | None = None) -> bytes:
        """A member's bytes, read within the limits (see :meth:`_chunks`)."""
        return b"".join(self._chunks(name, counted=counted, size=size))

    @contextmanager
    def stream(self, name: str, *, counted: bool = True) -> Iterator[_MemberStream]:
        """A member as a file for a streaming parser, read within the limits, never whole."""
        chunks = self._chunks(name, counted=counted)
        try:
            yield _MemberStream(chunks)
        finally:
            chunks.close()

    def close(self) -> None:
        self.zip.close()


class _MemberStream:
    """The file-like view of a member that :mod:`ijson` reads, a chunk at a time.

    It also decodes what passes as UTF-8, so text that is not is refused with that reason.
    """

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._utf8 = codecs.getincrementaldecoder("utf-8")()

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        chunk = next(self._chunks, b"")
        self._utf8.decode(chunk, final=not chunk)
        return chunk


# Slots: a bundle of 10,000 pages describes some 100,000 revisions.
@dataclass(frozen=True, slots=True)
class BundleRevision:
    """One revision as a bundle describes it, checked."""

    number: int
    action: str
    title: str
    kind: str
    tags: list[str]
    license: str
    author: str
    origin: str | None
    coauthors: list[str]
    created_at: datetime
    summary: str
    minor: bool
    hidden: bool
    sha256: str | None
    size: int | None
    path: str | None


@dataclass(frozen=True, slots=True)
class BundlePage:
    """One page as a bundle describes it, checked."""

    slug: str
    title: str
    kind: str
    tags: list[str]
    license: str
    source: dict[str, Any] | None
    attribution_parties: list[str]
    url: str | None
    revisions: list[BundleRevision]

    @property
    def current(self) -> BundleRevision:
        return self.revisions[-1]

    @property
    def full_history(self) -> bool:
        """Whether every revision's text is in the bundle (hidden ones have none to give)."""
        return all(rev.path or rev.hidden for rev in self.revisions)

    def other_contributors(self) -> list[str]:
        """Everyone credited on the page but the current revision's author."""
        names = []
        for rev in self.revisions:
            names.extend([rev.author, *rev.coauthors])
        return [name for name in dict.fromkeys(names) if name != self.current.author]


@dataclass(frozen=True)
class BundleMediaVersion:
    """One version of a media as a bundle describes it, its file checked as an upload is."""

    number: int
    sha256: str
    size: int
    path: str
    file_type: media.FileType
    width: int | None
    height: int | None
    license: str
    summary: str
    author: str
    origin: str | None
    creators: list[str]
    created_at: datetime


@dataclass(frozen=True)
class BundleMedia:
    """One media (a file pages show) as a bundle describes it, checked."""

    name: str
    kind: str
    title: str
    description: str
    license: str
    source: dict[str, Any] | None
    url: str | None
    #: Oldest first; all of them when the bundle has the history, else the current one.
    versions: list[BundleMediaVersion]

    @property
    def current(self) -> BundleMediaVersion:
        return self.versions[-1]


@dataclass
class Bundle:
    """A bundle whose manifest and files have all been checked."""

    source: str | None
    created_at: datetime | None
    generator: str
    pages: list[BundlePage]
    archive: _Archive = field(repr=False)
    media: list[BundleMedia] = field(default_factory=list)

    def body(self, revision: BundleRevision) -> str:
        """The text of a (non-hidden) revision, checked again against its sha256."""
        assert revision.path is not None
        return _checked_body(self.archive, revision, counted=False)

    def file(self, version: BundleMediaVersion) -> bytes:
        """The file of a media version, checked again against its sha256."""
        return _checked_file(
            self.archive, version.path, version.sha256, version.size, counted=False
        )


@contextmanager
def open_bundle(
    stream: IO[bytes], *, progress: Progress | None = None, limits: Limits | None = None
) -> Iterator[Bundle]:
    """Open and check a bundle completely; raises ValidationError or TooLarge naming the problem.

    Checks the archive, every member's path and size, the manifest, every page and revision,
    each licence, and every text's size and sha256. Writes nothing.
    """
    archive = _Archive(stream, limits or Limits.from_config())
    try:
        yield _read_manifest(archive, progress)
    finally:
        archive.close()


#: A manifest is a few levels deep; deeper nesting is refused before anything is built.
MAX_MANIFEST_DEPTH = 32
#: The manifest's top-level fields read in the first pass; the pages and media come after.
_HEADER = ("format", "version", "generator", "created_at", "source")
_CONTAINERS = {"start_map": {}, "start_array": []}


@dataclass
class _Outline:
    """The manifest's top-level fields, and how many pages and media it lists."""

    header: dict[str, Any] = field(default_factory=dict)
    #: The JSON type ("start_array", "string"…) of the "pages" and "media" values.
    types: dict[str, str] = field(default_factory=dict)
    pages: int = 0
    media: int = 0
    #: Page revisions and media versions together.
    revisions: int = 0


def _read_manifest(archive: _Archive, progress: Progress | None) -> Bundle:
    """Check the manifest and every page and media it lists, streaming it three times.

    The first pass reads the top-level fields and counts the entries, refusing the bundle
    as soon as a limit is crossed; then the pages, then the media, are built and checked
    one at a time, so the manifest is never held whole.
    """
    if MANIFEST not in archive.members:
        raise ValidationError(
            _l("The bundle has no manifest.json: it is not a commons bundle."),
            code="manifest_missing",
        )
    outline = _outline(archive)
    data = outline.header
    with _located(MANIFEST):
        source = _url(data, "source")
        created_at = _date(data, "created_at") if data.get("created_at") is not None else None
        generator = _text(data, "generator", required=False)[:200]
        if outline.types.get("pages") != "start_array" or not outline.pages:
            raise ValidationError(
                _l("“%(field)s” must be a list that is not empty.", field="pages"),
                code="manifest_invalid",
            )
        # Older bundles have no media.
        if outline.types.get("media", "null") not in ("null", "start_array"):
            raise ValidationError(
                _l("“%(field)s” must be a list.", field="media"), code="manifest_invalid"
            )
    total = outline.pages + outline.media
    checked: list[BundlePage] = []
    seen: set[str] = set()
    verified: dict[str, str] = {}
    for index, entry in enumerate(_entries(archive, "pages"), start=1):
        slug = entry.get("slug") if isinstance(entry, dict) else None
        where = _l("manifest.json, page %(index)s (“%(slug)s”)", index=index, slug=str(slug)[:80])
        with _located(where):
            page = _check_page(entry)
            if page.slug in seen:
                raise ValidationError(
                    _l("another page of the bundle has the same address."),
                    code="bundle_duplicate_page",
                )
            seen.add(page.slug)
            for revision in page.revisions:
                if revision.path and verified.get(revision.path) != revision.sha256:
                    _checked_body(archive, revision, counted=True)
                    verified[revision.path] = revision.sha256 or ""
        checked.append(page)
        if progress:
            progress(index, total)
    checked_media: list[BundleMedia] = []
    names: set[str] = set()
    files: dict[str, _CheckedFile] = {}
    for index, entry in enumerate(_entries(archive, "media"), start=1):
        name = entry.get("name") if isinstance(entry, dict) else None
        where = _l("manifest.json, file %(index)s (“%(name)s”)", index=index, name=str(name)[:80])
        with _located(where):
            item = _check_media(archive, entry, files)
            if item.name in names:
                raise ValidationError(
                    _l("another file of the bundle has the same name."),
                    code="bundle_duplicate_media",
                )
            names.add(item.name)
        checked_media.append(item)
        if progress:
            progress(outline.pages + index, total)
    return Bundle(source, created_at, generator or "", checked, archive, checked_media)


def _outline(archive: _Archive) -> _Outline:
    """The first pass over the manifest: its syntax, depth, format, version and counts.

    Nothing but the top-level fields is kept, and the limits apply as soon as they are
    crossed: a manifest listing a million empty pages stops at the page past the limit.
    """
    outline = _Outline()
    depth = 0
    try:
        with archive.stream(MANIFEST) as stream:
            for prefix, event, value in ijson.parse(stream, use_float=True):
                if event in ("end_map", "end_array"):
                    depth -= 1
                elif event != "map_key":  # a value starts at ``prefix``
                    if event in _CONTAINERS:
                        depth += 1
                        if depth > MAX_MANIFEST_DEPTH:
                            raise ValidationError(
                                _l("manifest.json is nested too deeply."),
                                code="manifest_invalid",
                            )
                    _note(outline, prefix, event, value, archive.limits)
    except UnicodeDecodeError as error:
        raise ValidationError(
            _l("manifest.json is not UTF-8 text."), code="manifest_invalid"
        ) from error
    except ijson.JSONError as error:
        raise ValidationError(
            _l(
                "manifest.json is not valid JSON: %(problem)s.",
                problem=str(error).split("\n", 1)[0][:200],
            ),
            code="manifest_invalid",
        ) from error
    for key in ("format", "version"):
        _check_format(outline.header, key)
    return outline


def _note(outline: _Outline, prefix: str, event: str, value: Any, limits: Limits) -> None:
    """Take note of a value starting at ``prefix`` in the manifest, refusing what is wrong."""
    if not prefix and event != "start_map":
        raise ValidationError(_l("manifest.json must hold a JSON object."), code="manifest_invalid")
    if prefix in _HEADER:
        # An empty container stands for a container: only its type matters.
        outline.header[prefix] = _CONTAINERS.get(event, value)
        if prefix in ("format", "version"):
            _check_format(outline.header, prefix)
    elif prefix in ("pages", "media"):
        outline.types[prefix] = event
    elif prefix == "pages.item":
        outline.pages += 1
        _check_count(outline.pages, limits.pages, _too_many_pages)
    elif prefix == "media.item":
        outline.media += 1
    elif prefix in ("pages.item.revisions.item", "media.item.versions.item"):
        outline.revisions += 1
        _check_count(outline.revisions, limits.revisions, _too_many_revisions)


def _check_format(header: dict[str, Any], key: str) -> None:
    """Refuse a bundle whose ``format`` or ``version`` (``key``) this commons does not read."""
    value = header.get(key)
    if key == "format" and value != FORMAT:
        raise ValidationError(
            _l(
                "Unknown bundle format “%(format)s”: this commons reads “commons-bundle”.",
                format=str(value)[:80],
            ),
            code="bundle_format",
        )
    if key == "version" and (value != VERSION or isinstance(value, bool)):
        raise ValidationError(
            _l(
                "This bundle is in version %(version)s of the format; this commons reads "
                "version %(supported)s.",
                version=str(value)[:20],
                supported=VERSION,
            ),
            code="bundle_version",
        )


def _check_count(count: int, limit: int, refusal: Callable[[int], TooLarge]) -> None:
    """Refuse the bundle with ``refusal(limit)`` as soon as ``count`` passes ``limit``."""
    if count > limit:
        raise refusal(limit)


def _too_many_pages(limit: int) -> TooLarge:
    return TooLarge(
        _l(
            "The bundle holds more than %(limit)s pages: at most %(limit)s can be imported "
            "at once.",
            limit=limit,
        ),
        code="bundle_too_many_pages",
    )


def _too_many_revisions(limit: int) -> TooLarge:
    return TooLarge(
        _l(
            "The bundle holds more than %(limit)s revisions and file versions: at most "
            "%(limit)s can be imported at once.",
            limit=limit,
        ),
        code="bundle_too_many_revisions",
    )


def _entries(archive: _Archive, key: str) -> Iterator[Any]:
    """The manifest's ``pages`` or ``media`` (``key``), built one entry at a time.

    The first pass has checked the manifest's syntax, depth and counts already.
    """
    with archive.stream(MANIFEST, counted=False) as stream:
        yield from ijson.items(stream, f"{key}.item", use_float=True)


@contextmanager
def _located(where: Any) -> Iterator[None]:
    """Prefix any error raised inside with where it was found."""
    try:
        yield
    except (ValidationError, TooLarge) as error:
        raise type(error)(
            _l("%(where)s: %(problem)s", where=where, problem=error.message), code=error.code
        ) from error


def _checked_body(archive: _Archive, revision: BundleRevision, *, counted: bool) -> str:
    assert revision.path is not None and revision.size is not None
    path = revision.path
    # Both declared sizes, before decompressing: reading stops past them too, as they may lie.
    pages.check_body_size(max(revision.size, archive.declared_size(path)))
    data = archive.read(path, counted=counted, size=revision.size)
    if len(data) != revision.size or hashlib.sha256(data).hexdigest() != revision.sha256:
        raise _mismatch(path)
    try:
        body = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValidationError(
            _l("The file “%(file)s” is not UTF-8 text.", file=path[:200]), code="bundle_encoding"
        ) from error
    return body


# Field readers: each names the field it refuses.


def _missing(key: str) -> ValidationError:
    return ValidationError(_l("“%(field)s” is missing.", field=key), code="manifest_invalid")


def _text(data: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise _missing(key)
        return ""
    if not isinstance(value, str):
        raise ValidationError(_l("“%(field)s” must be text.", field=key), code="manifest_invalid")
    return value


def _integer(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if value is None:
        raise _missing(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationError(
            _l("“%(field)s” must be a whole number.", field=key), code="manifest_invalid"
        )
    return value


def _boolean(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ValidationError(
            _l("“%(field)s” must be true or false.", field=key), code="manifest_invalid"
        )
    return value


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError(_l("“%(field)s” must be a list.", field=key), code="manifest_invalid")
    return value


def _url(data: Mapping[str, Any], key: str) -> str | None:
    value = _text(data, key, required=False).strip()
    if not value:
        return None
    if not value.startswith(("http://", "https://")) or len(value) > 500:
        raise ValidationError(
            _l("“%(field)s” must be an http:// or https:// address.", field=key),
            code="manifest_invalid",
        )
    return value


def _date(data: Mapping[str, Any], key: str) -> datetime:
    text = _text(data, key)
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


def _path(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or unsafe_member_name(value):
        raise ValidationError(
            _l("“%(field)s” must be a relative path inside the bundle.", field=key),
            code="manifest_invalid",
        )
    return value


def _license(value: str) -> str:
    spdx = licenses.normalize(value)
    if not licenses.can_import(spdx):
        raise ValidationError(
            _l("The licence “%(license)s” cannot enter this commons.", license=value[:80]),
            code="license_refused",
        )
    return spdx


_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_ACTIONS = {action.value for action in Action}


def _check_page(data: Any) -> BundlePage:
    if not isinstance(data, dict):
        raise ValidationError(_l("a page must be a JSON object."), code="manifest_invalid")
    slug = pages.clean_slug(_text(data, "slug"))
    title = pages.clean_title(_text(data, "title"))
    kind = pages.clean_kind(_text(data, "kind", required=False))
    tags = pages.clean_tags(_list(data, "tags"))
    license_text = _text(data, "license", required=False)
    if not license_text.strip():
        raise ValidationError(
            _l("the page does not say under which licence it is published."),
            code="license_missing",
        )
    license_ = _license(license_text)
    source = pages.clean_source(data.get("source"))
    licenses.check_source(source, license_)
    parties = pages.clean_names(_list(data, "attribution_parties"))
    url = _url(data, "url")
    entries = _list(data, "revisions")
    if not entries:
        raise ValidationError(
            _l("“%(field)s” must be a list that is not empty.", field="revisions"),
            code="manifest_invalid",
        )
    current_number = _integer(data, "revision")
    if current_number != len(entries):
        raise ValidationError(
            _l(
                "the current revision is %(number)s but %(count)s revisions are listed.",
                number=current_number,
                count=len(entries),
            ),
            code="manifest_invalid",
        )
    files = data.get("files") or {}
    if not isinstance(files, dict):
        raise ValidationError(
            _l("“%(field)s” must be an object.", field="files"), code="manifest_invalid"
        )
    current_path = _path(files, "markdown")
    defaults = {"title": title, "kind": kind, "tags": tags, "license": license_}
    revisions = []
    for number, entry in enumerate(entries, start=1):
        with _located(_l("revision %(number)s", number=number)):
            last = number == len(entries)
            revision = _check_revision(entry, number, defaults, current=last)
            if last:
                revision = _current_revision(revision, current_path)
            if revisions:  # as a local save would have allowed, revision by revision
                licenses.check_change(revisions[-1].license, revision.license)
            revisions.append(revision)
    return BundlePage(slug, title, kind, tags, license_, source, parties, url, revisions)


def _check_revision(
    data: Any, expected: int, defaults: dict[str, Any], *, current: bool
) -> BundleRevision:
    if not isinstance(data, dict):
        raise ValidationError(_l("a revision must be a JSON object."), code="manifest_invalid")
    number = _integer(data, "number")
    if number != expected:
        raise ValidationError(
            _l("revisions must be numbered 1, 2, 3… in order, without gaps."),
            code="manifest_invalid",
        )
    parent = data.get("parent")
    if parent != (expected - 1 if expected > 1 else None):
        raise ValidationError(
            _l("its parent must be the revision just before it."), code="manifest_invalid"
        )
    action = _text(data, "action", required=False) or Action.EDIT.value
    if action not in _ACTIONS or (current and action == Action.DELETE.value):
        raise ValidationError(
            _l("“%(action)s” is not a revision action.", action=action[:40]),
            code="manifest_invalid",
        )
    # The current revision takes the page's fields, so the page and its revision agree.
    if current:
        title, kind, tags, license_ = (
            defaults[key] for key in ("title", "kind", "tags", "license")
        )
    else:
        title_text = _text(data, "title", required=False)
        title = pages.clean_title(title_text) if title_text else defaults["title"]
        kind = pages.clean_kind(_text(data, "kind", required=False) or defaults["kind"])
        tags = pages.clean_tags(_list(data, "tags")) if "tags" in data else defaults["tags"]
        license_text = _text(data, "license", required=False)
        license_ = _license(license_text) if license_text.strip() else defaults["license"]
    authors = pages.clean_names([_text(data, "author")])
    if not authors:
        raise ValidationError(_l("the revision has no author."), code="manifest_invalid")
    hidden = _boolean(data, "hidden")
    sha256 = size = path = None
    if not hidden:
        sha256 = _text(data, "sha256")
        if not _SHA256.match(sha256):
            raise ValidationError(
                _l("“%(field)s” must be 64 hexadecimal digits.", field="sha256"),
                code="manifest_invalid",
            )
        size = _integer(data, "size")
        path = _path(data, "path")
    return BundleRevision(
        number=number,
        action=action,
        title=title,
        kind=kind,
        tags=tags,
        license=license_,
        author=authors[0],
        origin=_url(data, "origin"),
        coauthors=pages.clean_names(_list(data, "coauthors")),
        created_at=_date(data, "date"),
        summary=pages.clean_summary(_text(data, "summary", required=False)),
        minor=_boolean(data, "minor"),
        hidden=hidden,
        sha256=sha256,
        size=size,
        path=path,
    )


def _current_revision(revision: BundleRevision, markdown: str | None) -> BundleRevision:
    """The current revision's text is the page's Markdown file; it must be there."""
    if revision.hidden:
        return revision
    path = revision.path or markdown
    if path is None:
        raise ValidationError(
            _l("the text of the current revision is not in the bundle."),
            code="bundle_missing_file",
        )
    if revision.path and markdown and revision.path != markdown:
        raise ValidationError(
            _l("its text is given by two different files."), code="manifest_invalid"
        )
    return replace(revision, path=path)


@dataclass(frozen=True)
class _CheckedFile:
    """A media file of the bundle that passed the checks, and what it is."""

    sha256: str
    file_type: media.FileType
    width: int | None
    height: int | None


MEDIA_KINDS = ("image", "document")


def _check_media(archive: _Archive, data: Any, files: dict[str, _CheckedFile]) -> BundleMedia:
    """Check a media entry and every file it names; ``files`` remembers the files checked."""
    if not isinstance(data, dict):
        raise ValidationError(_l("a file must be a JSON object."), code="manifest_invalid")
    name = _text(data, "name")
    if render.media_name(render.MEDIA_SCHEME + name) != name:
        raise ValidationError(
            _l(
                "“%(name)s” is not a valid file name: use lower-case letters, digits and "
                "dashes, then an extension.",
                name=name[:80],
            ),
            code="media_name_invalid",
        )
    kind = _text(data, "kind")
    if kind not in MEDIA_KINDS:
        raise ValidationError(
            _l("“%(kind)s” is not a kind of file: use image or document.", kind=kind[:40]),
            code="manifest_invalid",
        )
    license_text = _text(data, "license", required=False)
    if not license_text.strip():
        raise ValidationError(
            _l("the file does not say under which licence it is published."),
            code="license_missing",
        )
    license_ = _license(license_text)
    source = pages.clean_source(data.get("source"))
    licenses.check_source(source, license_)
    entries = _list(data, "versions")
    if not entries:
        raise ValidationError(
            _l("“%(field)s” must be a list that is not empty.", field="versions"),
            code="manifest_invalid",
        )
    versions: list[BundleMediaVersion] = []
    for position, entry in enumerate(entries, start=1):
        number = entry.get("number") if isinstance(entry, dict) else None
        with _located(_l("version %(number)s", number=str(number)[:20])):
            fields = _media_version_fields(
                entry,
                after=versions[-1].number if versions else 0,
                license_=license_,
                current=position == len(entries),
            )
            if versions:  # as a local upload would have allowed, version by version
                licenses.check_change(versions[-1].license, fields["license"])
            checked = files.get(fields["path"])
            if checked is None or checked.sha256 != fields["sha256"]:
                checked = _check_media_file(archive, fields, name, kind)
                files[fields["path"]] = checked
            versions.append(
                BundleMediaVersion(
                    **fields,
                    file_type=checked.file_type,
                    width=checked.width,
                    height=checked.height,
                )
            )
    if _integer(data, "version") != versions[-1].number:
        raise ValidationError(
            _l("“%(field)s” must be the number of the last version listed.", field="version"),
            code="manifest_invalid",
        )
    return BundleMedia(
        name=name,
        kind=kind,
        title=media.clean_title(_text(data, "title", required=False)) or name,
        description=media.clean_description(_text(data, "description", required=False)),
        license=license_,
        source=source,
        url=_url(data, "url"),
        versions=versions,
    )


def _media_version_fields(data: Any, *, after: int, license_: str, current: bool) -> dict[str, Any]:
    """A version's fields, checked; its file is checked next.

    ``license_`` is the media's: the current version takes it (as the current revision
    takes the page's), older ones have it unless they say otherwise.
    """
    if not isinstance(data, dict):
        raise ValidationError(_l("a version must be a JSON object."), code="manifest_invalid")
    number = _integer(data, "number")
    if number <= after:
        raise ValidationError(
            _l("versions must be listed oldest first, with growing numbers."),
            code="manifest_invalid",
        )
    sha256 = _text(data, "sha256")
    if not _SHA256.match(sha256):
        raise ValidationError(
            _l("“%(field)s” must be 64 hexadecimal digits.", field="sha256"),
            code="manifest_invalid",
        )
    path = _path(data, "path")
    if path is None:
        raise _missing("path")
    license_text = _text(data, "license", required=False)
    if not current and license_text.strip():
        license_ = _license(license_text)
    authors = pages.clean_names([_text(data, "author")])
    if not authors:
        raise ValidationError(_l("the version has no author."), code="manifest_invalid")
    return {
        "number": number,
        "sha256": sha256,
        "size": _integer(data, "size"),
        "path": path,
        "license": license_,
        "summary": pages.clean_summary(_text(data, "summary", required=False)),
        "author": authors[0],
        "origin": _url(data, "origin"),
        "creators": pages.clean_names(_list(data, "creators")),
        "created_at": _date(data, "date"),
    }


def _check_media_file(
    archive: _Archive, fields: dict[str, Any], name: str, kind: str
) -> _CheckedFile:
    """Check a version's file as an upload is checked: size, content, type."""
    path, size, sha256 = fields["path"], fields["size"], fields["sha256"]
    where = _l("file “%(file)s”", file=path[:200])
    with _located(where):
        # Both declared sizes, before reading: reading stops past them too, as they may lie.
        media.check_size(max(size, archive.declared_size(path)))
    data = _checked_file(archive, path, sha256, size, counted=True)
    with _located(where):
        file_type, width, height = media.check_file(data)
    if file_type.kind != kind or not name.endswith(f".{file_type.extension}"):
        raise ValidationError(
            _l(
                "the file “%(file)s” does not match the name “%(name)s”: its content is %(type)s.",
                file=path[:200],
                name=name,
                type=file_type.content_type,
            ),
            code="media_type_mismatch",
        )
    return _CheckedFile(sha256, file_type, width, height)


def _checked_file(archive: _Archive, path: str, sha256: str, size: int, *, counted: bool) -> bytes:
    data = archive.read(path, counted=counted, size=size)
    if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
        raise _mismatch(path)
    return data


# --- import ------------------------------------------------------------------------------------


class _ReportLine:
    """A line of an import report, as JSON: its first two fields (what it is, its title)
    always, the others when they say something."""

    def to_json(self) -> dict[str, Any]:
        values = [(item.name, getattr(self, item.name)) for item in fields(self)]
        return dict(values[:2]) | {key: value for key, value in values[2:] if value}


@dataclass
class ImportedPage(_ReportLine):
    """One page line of an import report."""

    slug: str
    title: str
    revisions: int = 0
    #: The bundle's address for a page imported under a new one.
    original_slug: str | None = None
    #: Why a page was skipped: "exists", "identical", "hidden" (no text to merge) or
    #: "deleted" (deleted here: a merge leaves it deleted).
    reason: str | None = None


@dataclass
class ImportedMedia(_ReportLine):
    """One media line of an import report."""

    name: str
    title: str
    versions: int = 0
    #: The bundle's name for a media imported under a new one.
    original_name: str | None = None
    #: Why a media was skipped: "identical" (same current file here), "exists" or
    #: "license" (its licence cannot follow the one here, so it cannot be merged).
    reason: str | None = None


@dataclass
class ImportReport:
    """What an import did: pages and media created (possibly under a new address or name),
    merged, skipped."""

    source: str | None
    on_conflict: str
    created: list[ImportedPage] = field(default_factory=list)
    merged: list[ImportedPage] = field(default_factory=list)
    skipped: list[ImportedPage] = field(default_factory=list)
    media_created: list[ImportedMedia] = field(default_factory=list)
    media_merged: list[ImportedMedia] = field(default_factory=list)
    media_skipped: list[ImportedMedia] = field(default_factory=list)

    @property
    def revisions(self) -> int:
        return sum(item.revisions for item in (*self.created, *self.merged))

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "on_conflict": self.on_conflict,
            "created": [item.to_json() for item in self.created],
            "merged": [item.to_json() for item in self.merged],
            "skipped": [item.to_json() for item in self.skipped],
            "revisions": self.revisions,
            "media": {
                "created": [item.to_json() for item in self.media_created],
                "merged": [item.to_json() for item in self.media_merged],
                "skipped": [item.to_json() for item in self.media_skipped],
            },
        }


def conflict_choice(value: str | None) -> str:
    """Check what to do with pages whose address exists: skip (default), rename or merge."""
    choice = (value or "skip").strip().lower()
    if choice not in CONFLICT_CHOICES:
        raise ValidationError(
            _l(
                "Unknown choice “%(choice)s” for existing pages: use skip, rename or merge.",
                choice=choice[:40],
            ),
            code="on_conflict_invalid",
        )
    return choice


def spool(stream: IO[bytes], *, limit: int | None = None) -> IO[bytes]:
    """Copy an upload to a seekable temporary file, refusing it past the bundle size limit."""
    limit = limit or current_app.config["MAX_BUNDLE_BYTES"]
    copy: IO[bytes] = SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    size = 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > limit:
            copy.close()
            raise TooLarge(
                _l("The bundle is too large (at most %(limit)s bytes).", limit=limit),
                code="bundle_too_large",
            )
        copy.write(chunk)
    copy.seek(0)
    return copy


@dataclass
class _Step:
    """What the import will do with one page of the bundle."""

    page: BundlePage
    action: str  # "create", "merge" or "skip"
    slug: str
    existing: Page | None = None
    license: str | None = None


@dataclass
class _MediaStep:
    """What the import will do with one media of the bundle."""

    item: BundleMedia
    action: str  # "create", "merge" or "skip"
    name: str
    existing_id: int | None = None
    reason: str | None = None


def import_bundle(
    stream: IO[bytes],
    *,
    on_conflict: str | None = "skip",
    importer: User | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Check a whole bundle, then import its pages in one transaction.

    ``importer`` is the acting user (an editor or admin); None is the command line, which
    has the server's rights. Imported revisions keep their authors (as external authors,
    with the page's original address as origin), dates and summaries; the importer is
    not credited. Pages whose address exists are skipped, imported under a new address
    (``rename``) or get the bundle's current text as a new revision (``merge``).

    The media the pages show come first, in the same transaction: kept with their
    versions, authors (external, with the media's original address as origin) and dates.
    A media whose name exists is skipped when its current file is the same; otherwise
    ``on_conflict`` applies: skipped, imported under a new name (``name-2.png``; the pages'
    references are not rewritten), or its current file added as a new version when the
    licences allow (``merge``). Files written for an import that does not commit are
    removed again.

    Raises ValidationError or TooLarge, and changes nothing, when anything is wrong.
    """
    choice = conflict_choice(on_conflict)
    if importer is not None and not permissions.can_import(importer):
        raise Forbidden(_l("Only editors and administrators can import bundles."))
    with open_bundle(stream, progress=_half(progress, 0)) as bundle:
        media_steps = _plan_media(bundle, choice)
        steps = _plan(bundle, choice)
        report = ImportReport(source=bundle.source, on_conflict=choice)
        files = media.NewFiles()
        try:
            revisions = _apply(
                bundle,
                media_steps,
                steps,
                report,
                files,
                _half(progress, 1),
                imported_by=importer.name if importer else None,
            )
            pages.commit(revisions)
        except IntegrityError as error:
            db.session.rollback()
            files.discard()
            raise CommonsError(
                _l(
                    "Someone created one of these pages or files during the import. Nothing "
                    "was imported: please try again."
                ),
                code="conflict",
                status=409,
            ) from error
        except BaseException:
            db.session.rollback()
            files.discard()
            raise
    current_app.logger.info(
        "bundle from %s imported by %s: %s created, %s merged, %s skipped; "
        "media: %s created, %s merged, %s skipped",
        bundle.source or "an unknown commons",
        importer.name if importer else "the command line",
        len(report.created),
        len(report.merged),
        len(report.skipped),
        len(report.media_created),
        len(report.media_merged),
        len(report.media_skipped),
    )
    return report


def _half(progress: Progress | None, part: int) -> Progress | None:
    """Checking is the first half of the progress, writing the second."""
    if progress is None:
        return None
    return lambda done, total: progress(part * total + done, 2 * total)


def _plan(bundle: Bundle, choice: str) -> list[_Step]:
    """Decide each page's fate before writing, so a refused merge stops everything."""
    slugs = [page.slug for page in bundle.pages]
    existing: dict[str, Page] = {}
    for start in range(0, len(slugs), 500):
        found = db.session.scalars(select(Page).where(Page.slug.in_(slugs[start : start + 500])))
        existing.update({page.slug: page for page in found})
    taken = set(slugs)
    steps = []
    for page in bundle.pages:
        local = existing.get(page.slug)
        if local is None:
            steps.append(_Step(page, "create", page.slug))
        elif choice == "skip":
            steps.append(_Step(page, "skip", page.slug))
        elif choice == "rename":
            slug = _free_slug(page.slug, taken)
            taken.add(slug)
            steps.append(_Step(page, "create", slug))
        else:
            with _located(_l("page “%(slug)s”", slug=page.slug)):
                license_ = _merged_license(local.license, page.license)
            steps.append(_Step(page, "merge", page.slug, local, license_))
    return steps


def _plan_media(bundle: Bundle, choice: str) -> list[_MediaStep]:
    """Decide each media's fate before writing, from the names and files here."""
    names = [item.name for item in bundle.media]
    existing: dict[str, tuple[int, str, str | None]] = {}
    for start in range(0, len(names), 500):
        rows = db.session.execute(
            select(Media.name, Media.id, Media.license, MediaVersion.sha256)
            .outerjoin(MediaVersion, Media.current_version_id == MediaVersion.id)
            .where(Media.name.in_(names[start : start + 500]))
        )
        existing.update({name: (media_id, spdx, sha256) for name, media_id, spdx, sha256 in rows})
    taken = set(names)
    steps = []
    for item in bundle.media:
        local = existing.get(item.name)
        if local is None:
            steps.append(_MediaStep(item, "create", item.name))
            continue
        media_id, local_license, local_sha256 = local
        if local_sha256 == item.current.sha256:
            steps.append(_MediaStep(item, "skip", item.name, reason="identical"))
        elif choice == "skip":
            steps.append(_MediaStep(item, "skip", item.name, reason="exists"))
        elif choice == "rename":
            name = _free_media_name(item.name, taken)
            taken.add(name)
            steps.append(_MediaStep(item, "create", name))
        elif not licenses.can_change(local_license, item.current.license):
            steps.append(_MediaStep(item, "skip", item.name, reason="license"))
        else:
            steps.append(_MediaStep(item, "merge", item.name, existing_id=media_id))
    return steps


def _free_media_name(name: str, taken: set[str]) -> str:
    """``name-2.png``, ``name-3.png``…: the first name used by no media here or in the bundle."""
    stem, extension = name.rsplit(".", 1)
    candidates = _numbered(stem, media.MAX_NAME_LENGTH, f".{extension}")
    return next(c for c in candidates if c not in taken and media.find(c) is None)


def _numbered(stem: str, limit: int, extension: str = "") -> Iterator[str]:
    """``stem-2``, ``stem-3``… followed by ``extension``; the stem cut to fit ``limit``."""
    for number in itertools.count(2):
        suffix = f"-{number}"
        yield stem[: limit - len(suffix)].rstrip("-") + suffix + extension


def _free_slug(slug: str, taken: set[str]) -> str:
    """``slug-2``, ``slug-3``…: the first address used by no page, redirect or bundle page."""
    candidates = _numbered(slug, MAX_SLUG_LENGTH)
    return next(c for c in candidates if c not in taken and not _slug_used(c))


def _slug_used(slug: str) -> bool:
    page = db.session.scalar(select(func.count(Page.id)).where(Page.slug == slug))
    redirect = db.session.scalar(select(func.count()).where(Redirect.slug == slug))
    return bool(page or redirect)


def _merged_license(local: str, incoming: str) -> str:
    """The licence of a merged page: the more protective one, which both contents may take."""
    if licenses.can_change(local, incoming):
        return incoming
    if licenses.can_change(incoming, local):
        return local
    raise ValidationError(
        _l(
            "its content under %(incoming)s cannot be merged into the page here, under %(local)s.",
            incoming=licenses.get(incoming).name,
            local=licenses.get(local).name,
        ),
        code="license_refused",
    )


def _apply(
    bundle: Bundle,
    media_steps: list[_MediaStep],
    steps: list[_Step],
    report: ImportReport,
    files: media.NewFiles,
    progress: Progress | None,
    *,
    imported_by: str | None,
) -> list[Revision]:
    """Write every step in the session, media first; returns the revisions of the last batch.

    Every revision written records ``imported_by``, the importing account's name. Every
    ``WRITE_BATCH`` media or pages the written objects leave the session (see
    :func:`_forget`), so memory stays flat however large the bundle.
    """
    total = len(media_steps) + len(steps)
    _apply_media(bundle, media_steps, report, files, progress, total)
    revisions: list[Revision] = []
    for done, step in enumerate(steps, start=1):
        if done % WRITE_BATCH == 0:
            revisions = _release(revisions)
        page = step.page
        if step.action == "skip":
            report.skipped.append(ImportedPage(page.slug, page.title, reason="exists"))
        elif step.action == "create":
            made = _create(bundle, page, step.slug, imported_by)
            revisions.extend(made)
            report.created.append(
                ImportedPage(
                    step.slug,
                    page.title,
                    revisions=len(made),
                    original_slug=page.slug if step.slug != page.slug else None,
                )
            )
        else:
            revisions.extend(_merge_step(bundle, step, report, imported_by))
        if progress:
            progress(len(media_steps) + done, total)
    return revisions


def _merge_step(
    bundle: Bundle, step: _Step, report: ImportReport, imported_by: str | None
) -> list[Revision]:
    """Merge a page of the bundle into the page here, or say why not; the revision made."""
    incoming = step.page
    assert step.existing is not None and step.license is not None
    if incoming.current.hidden:
        # Its text was withheld by the other commons: there is nothing to merge.
        report.skipped.append(ImportedPage(incoming.slug, incoming.title, reason="hidden"))
        return []
    page = pages.lock(step.existing)  # writers of one page queue up, as in saves
    if page.deleted:
        # Deleted here on purpose: a merge does not bring it back (restore it first).
        report.skipped.append(ImportedPage(incoming.slug, incoming.title, reason="deleted"))
        return []
    merged = _merge(bundle, incoming, page, step.license, imported_by)
    if merged is None:
        report.skipped.append(ImportedPage(incoming.slug, incoming.title, reason="identical"))
        return []
    report.merged.append(ImportedPage(incoming.slug, incoming.title, revisions=1))
    return [merged]


def _forget(written: list[Any]) -> None:
    """Flush the objects ``written``, then let them go: the transaction holds the rows."""
    db.session.flush()
    for item in written:
        if item in db.session:
            db.session.expunge(item)


def _release(revisions: list[Revision]) -> list[Revision]:
    """Flush ``revisions`` and their pages, then let them go; returns the last one.

    One revision is kept because listeners (the search index) only need to hear that
    something changed: they catch up on every new revision from the log.
    """
    _forget([written for revision in revisions for written in (revision.page, revision)])
    return revisions[-1:]


def _apply_media(
    bundle: Bundle,
    steps: list[_MediaStep],
    report: ImportReport,
    files: media.NewFiles,
    progress: Progress | None,
    total: int,
) -> None:
    """Write the media steps, a file at a time, letting rows go every ``WRITE_BATCH``."""
    written: list[Any] = []
    for done, step in enumerate(steps, start=1):
        if done % WRITE_BATCH == 0:
            _forget(written)
            written = []
        item = step.item
        if step.action == "skip":
            report.media_skipped.append(ImportedMedia(item.name, item.title, reason=step.reason))
        elif step.action == "create":
            written += _create_media(bundle, item, step.name, files)
            report.media_created.append(
                ImportedMedia(
                    step.name,
                    item.title,
                    versions=len(item.versions),
                    original_name=item.name if step.name != item.name else None,
                )
            )
        else:
            assert step.existing_id is not None
            written += _merge_media(bundle, item, step.existing_id, files)
            report.media_merged.append(ImportedMedia(item.name, item.title, versions=1))
        if progress:
            progress(done, total)
    _forget(written)


def _media_origin(bundle: Bundle, item: BundleMedia, version: BundleMediaVersion) -> str | None:
    """Where a version comes from: its own origin if it was imported before, else the media."""
    return version.origin or item.url or _media_url(bundle.source, item.name)


def _add_media_version(
    bundle: Bundle,
    item: BundleMedia,
    target: Media,
    version: BundleMediaVersion,
    files: media.NewFiles,
    *,
    summary: str | None = None,
    created_at: datetime | None = None,
) -> MediaVersion:
    """Record ``version`` of the bundle's ``item`` on ``target``, by its external author."""
    return media.add_version(
        target,
        bundle.file(version),
        version.file_type,
        version.width,
        version.height,
        files=files,
        license=version.license,
        summary=summary or version.summary,
        author=pages.Author(None, version.author, _media_origin(bundle, item, version)),
        creators=version.creators,
        created_at=created_at or version.created_at,
    )


def _create_media(bundle: Bundle, item: BundleMedia, name: str, files: media.NewFiles) -> list[Any]:
    """A new media called ``name`` with the bundle's versions (renumbered from 1)."""
    made = media.new_media(
        name,
        item.kind,
        title=item.title,
        description=item.description,
        license=item.license,
        source=item.source,
        created_at=item.versions[0].created_at,
    )
    return [made] + [
        _add_media_version(bundle, item, made, version, files) for version in item.versions
    ]


def _merge_media(
    bundle: Bundle, item: BundleMedia, media_id: int, files: media.NewFiles
) -> list[Any]:
    """The bundle's current file as a new version of the media here."""
    local = db.session.get(Media, media_id)
    assert local is not None
    local.source = local.source or item.source
    version = _add_media_version(
        bundle,
        item,
        local,
        item.current,
        files,
        summary=item.current.summary or gettext("Merged from a bundle"),
        created_at=utcnow(),
    )
    return [local, version]


def _origin(bundle: Bundle, page: BundlePage, revision: BundleRevision) -> str | None:
    """Where a revision comes from: its own origin if it was imported before, else the page."""
    if revision.origin:
        return revision.origin
    if page.url:
        return page.url
    return _page_url(bundle.source, page.slug)


def _create(
    bundle: Bundle, incoming: BundlePage, slug: str, imported_by: str | None
) -> list[Revision]:
    """A new page with the bundle's revisions, or one revision when its history is not there."""
    first = incoming.revisions[0] if incoming.full_history else incoming.current
    db.session.execute(Redirect.__table__.delete().where(Redirect.slug == slug))
    page = Page(
        slug=slug,
        title=first.title,
        kind=first.kind,
        license=first.license,
        attribution_parties=list(incoming.attribution_parties),
        source=incoming.source,
        revision_count=0,
        created_at=first.created_at,
        updated_at=first.created_at,
    )
    db.session.add(page)
    if not incoming.full_history:
        current = incoming.current
        return [
            _append(
                page,
                current,
                action=Action.IMPORT,
                body="" if current.hidden else bundle.body(current),
                origin=_origin(bundle, incoming, current),
                coauthors=incoming.other_contributors(),
                imported_by=imported_by,
            )
        ]
    made = []
    for revision in incoming.revisions:
        page.deleted = revision.action == Action.DELETE.value
        made.append(
            _append(
                page,
                revision,
                action=Action(revision.action),
                body="" if revision.hidden else bundle.body(revision),
                origin=_origin(bundle, incoming, revision),
                coauthors=revision.coauthors,
                imported_by=imported_by,
            )
        )
    return made


def _append(
    page: Page,
    revision: BundleRevision,
    *,
    action: Action,
    body: str,
    origin: str | None,
    coauthors: list[str],
    imported_by: str | None,
    created_at: datetime | None = None,
) -> Revision:
    """Record ``revision`` on ``page`` with its own fields, author, date and summary.

    Hidden revisions are kept hidden: their author cannot be checked against a text, so
    each revision also records who imported it (``imported_by``).
    """
    page.title = revision.title
    page.kind = revision.kind
    page.license = revision.license
    pages.set_tags(page, revision.tags)
    made = pages.append_revision(  # imports write history exactly as saves do
        page,
        action=action,
        body=body,
        author=pages.Author(None, revision.author, origin),
        summary=revision.summary,
        minor=revision.minor,
        coauthors=coauthors,
        created_at=created_at or revision.created_at,
    )
    made.hidden = revision.hidden
    made.imported_by = imported_by
    return made


def _merge(
    bundle: Bundle, incoming: BundlePage, page: Page, license_: str, imported_by: str | None
) -> Revision | None:
    """The bundle's current text and fields as a new revision of ``page``, which is locked
    (writers of one page queue up, as in saves) and not deleted; None if identical."""
    current = incoming.current
    body = bundle.body(current)
    assert page.current_revision is not None
    unchanged = (
        body == page.current_revision.body
        and (current.title, current.kind, current.tags) == (page.title, page.kind, page.tag_names)
        and license_ == page.license
    )
    if unchanged:
        return None
    page.source = page.source or incoming.source
    page.attribution_parties = list(
        dict.fromkeys([*(page.attribution_parties or []), *incoming.attribution_parties])
    )
    merged = replace(
        current, license=license_, summary=current.summary or gettext("Merged from a bundle")
    )
    return _append(
        page,
        merged,
        action=Action.MERGE,
        body=body,
        origin=_origin(bundle, incoming, current),
        coauthors=incoming.other_contributors(),
        imported_by=imported_by,
        created_at=utcnow(),
    )
