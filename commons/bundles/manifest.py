"""The checked bundle: ``manifest.json`` read and checked, with its pages and revisions
(their types and checks) and every text's size and sha256.

The manifest is streamed, never held whole: a first pass reads its top-level fields and
counts its entries, and its limits apply as soon as they are crossed; then its entries are
built and checked one at a time. The media entries are checked by :mod:`.media_manifest`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import IO, Any

import ijson
from flask_babel import lazy_gettext as _l

from .. import attribution, licenses, pages, sheets
from ..errors import TooLarge, ValidationError
from ..models import Action
from . import manifest_fields
from .archive import Archive, Limits, mismatch
from .layout import FORMAT, MANIFEST, VERSION, Progress
from .media_manifest import BundleMedia, BundleMediaVersion, CheckedFile, check_media, checked_file


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
    #: The kind's sheet (see :mod:`commons.sheets`), checked; ``{}`` for none.
    fields: dict[str, Any] = field(default_factory=dict)


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
    #: The address of the experiment this page replicates, when it says so.
    replicates: str | None = None

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


@dataclass
class Bundle:
    """A bundle whose manifest and files have all been checked."""

    source: str | None
    created_at: datetime | None
    generator: str
    pages: list[BundlePage]
    archive: Archive = field(repr=False)
    media: list[BundleMedia] = field(default_factory=list)

    def body(self, revision: BundleRevision) -> str:
        """The text of a (non-hidden) revision, checked again against its sha256."""
        assert revision.path is not None
        return _checked_body(self.archive, revision, counted=False)

    def file(self, version: BundleMediaVersion) -> bytes:
        """The file of a media version, checked again against its sha256."""
        return checked_file(self.archive, version.path, version.sha256, version.size, counted=False)


@contextmanager
def open_bundle(
    stream: IO[bytes], *, progress: Progress | None = None, limits: Limits | None = None
) -> Iterator[Bundle]:
    """Open and check a bundle completely; raises ValidationError or TooLarge naming the problem.

    Checks the archive, every member's path and size, the manifest, every page and revision,
    each licence, and every text's size and sha256. Writes nothing.
    """
    archive = Archive(stream, limits or Limits.from_config())
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


def _read_manifest(archive: Archive, progress: Progress | None) -> Bundle:
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
    with manifest_fields.located(MANIFEST):
        source = manifest_fields.read_url(data, "source")
        created_at = (
            manifest_fields.read_date(data, "created_at")
            if data.get("created_at") is not None
            else None
        )
        generator = manifest_fields.read_text(data, "generator", required=False)[:200]
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
        with manifest_fields.located(where):
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
    files: dict[str, CheckedFile] = {}
    for index, entry in enumerate(_entries(archive, "media"), start=1):
        name = entry.get("name") if isinstance(entry, dict) else None
        where = _l("manifest.json, file %(index)s (“%(name)s”)", index=index, name=str(name)[:80])
        with manifest_fields.located(where):
            item = check_media(archive, entry, files)
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


def _outline(archive: Archive) -> _Outline:
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


def _entries(archive: Archive, key: str) -> Iterator[Any]:
    """The manifest's ``pages`` or ``media`` (``key``), built one entry at a time.

    The first pass has checked the manifest's syntax, depth and counts already.
    """
    with archive.stream(MANIFEST, counted=False) as stream:
        yield from ijson.items(stream, f"{key}.item", use_float=True)


def _checked_body(archive: Archive, revision: BundleRevision, *, counted: bool) -> str:
    assert revision.path is not None and revision.size is not None
    path = revision.path
    # Both declared sizes, before decompressing: reading stops past them too, as they may lie.
    pages.check_body_size(max(revision.size, archive.declared_size(path)))
    data = archive.read(path, counted=counted, size=revision.size)
    if len(data) != revision.size or hashlib.sha256(data).hexdigest() != revision.sha256:
        raise mismatch(path)
    try:
        body = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValidationError(
            _l("The file “%(file)s” is not UTF-8 text.", file=path[:200]), code="bundle_encoding"
        ) from error
    return body


_ACTIONS = {action.value for action in Action}


def _check_page(data: Any) -> BundlePage:
    if not isinstance(data, dict):
        raise ValidationError(_l("a page must be a JSON object."), code="manifest_invalid")
    slug = pages.clean_slug(manifest_fields.read_text(data, "slug"))
    title = pages.clean_title(manifest_fields.read_text(data, "title"))
    kind = pages.clean_kind(manifest_fields.read_text(data, "kind", required=False))
    tags = pages.clean_tags(manifest_fields.read_list(data, "tags"))
    license_, source = manifest_fields.read_license_and_source(
        data, _l("the page does not say under which licence it is published.")
    )
    parties = attribution.clean_names(manifest_fields.read_list(data, "attribution_parties"))
    url = manifest_fields.read_url(data, "url")
    entries = manifest_fields.read_list(data, "revisions")
    if not entries:
        raise ValidationError(
            _l("“%(field)s” must be a list that is not empty.", field="revisions"),
            code="manifest_invalid",
        )
    current_number = manifest_fields.read_integer(data, "revision")
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
    current_path = manifest_fields.read_path(files, "markdown")
    defaults = {"title": title, "kind": kind, "tags": tags, "license": license_}
    revisions = []
    for number, entry in enumerate(entries, start=1):
        with manifest_fields.located(_l("revision %(number)s", number=number)):
            last = number == len(entries)
            revision = _check_revision(entry, number, defaults, current=last)
            if last:
                revision = _current_revision(revision, current_path)
            if revisions:  # as a local save would have allowed, revision by revision
                licenses.check_change(revisions[-1].license, revision.license)
            revisions.append(revision)
    replicates = data.get("replicates")
    if replicates is not None and not isinstance(replicates, dict):
        raise ValidationError(
            _l("“%(field)s” must be an object.", field="replicates"), code="manifest_invalid"
        )
    return BundlePage(
        slug,
        title,
        kind,
        tags,
        license_,
        source,
        parties,
        url,
        revisions,
        replicates=manifest_fields.read_url(replicates, "url") if replicates else None,
    )


def _check_revision(
    data: Any, expected: int, defaults: dict[str, Any], *, current: bool
) -> BundleRevision:
    if not isinstance(data, dict):
        raise ValidationError(_l("a revision must be a JSON object."), code="manifest_invalid")
    number = manifest_fields.read_integer(data, "number")
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
    action = manifest_fields.read_text(data, "action", required=False) or Action.EDIT.value
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
        title_text = manifest_fields.read_text(data, "title", required=False)
        title = pages.clean_title(title_text) if title_text else defaults["title"]
        kind = pages.clean_kind(
            manifest_fields.read_text(data, "kind", required=False) or defaults["kind"]
        )
        tags = (
            pages.clean_tags(manifest_fields.read_list(data, "tags"))
            if "tags" in data
            else defaults["tags"]
        )
        license_ = manifest_fields.read_license_or(data, defaults["license"])
    authors = attribution.clean_names([manifest_fields.read_text(data, "author")])
    if not authors:
        raise ValidationError(_l("the revision has no author."), code="manifest_invalid")
    hidden = manifest_fields.read_boolean(data, "hidden")
    sha256 = size = path = None
    if not hidden:
        sha256 = manifest_fields.read_sha256(data, "sha256")
        size = manifest_fields.read_integer(data, "size")
        path = manifest_fields.read_path(data, "path")
    return BundleRevision(
        number=number,
        action=action,
        title=title,
        kind=kind,
        tags=tags,
        license=license_,
        author=authors[0],
        origin=manifest_fields.read_url(data, "origin"),
        coauthors=attribution.clean_names(manifest_fields.read_list(data, "coauthors")),
        created_at=manifest_fields.read_date(data, "date"),
        summary=attribution.clean_summary(
            manifest_fields.read_text(data, "summary", required=False)
        ),
        minor=manifest_fields.read_boolean(data, "minor"),
        hidden=hidden,
        sha256=sha256,
        size=size,
        path=path,
        fields=sheets.clean_fields(kind, data.get("fields")),
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
