"""A bundle's media entries: their types, and their checks, each version's file checked
as an upload is (size, content, type, sha256)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from .. import attribution, licenses, media, render
from ..errors import ValidationError
from . import manifest_fields
from .archive import Archive, mismatch


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


@dataclass(frozen=True)
class CheckedFile:
    """A media file of the bundle that passed the checks, and what it is."""

    sha256: str
    file_type: media.FileType
    width: int | None
    height: int | None


MEDIA_KINDS = ("image", "document")


def check_media(archive: Archive, data: Any, files: dict[str, CheckedFile]) -> BundleMedia:
    """Check a media entry and every file it names; ``files`` remembers the files checked."""
    if not isinstance(data, dict):
        raise ValidationError(_l("a file must be a JSON object."), code="manifest_invalid")
    name = manifest_fields.read_text(data, "name")
    if render.media_name(render.MEDIA_SCHEME + name) != name:
        raise ValidationError(
            _l(
                "“%(name)s” is not a valid file name: use lower-case letters, digits and "
                "dashes, then an extension.",
                name=name[:80],
            ),
            code="media_name_invalid",
        )
    kind = manifest_fields.read_text(data, "kind")
    if kind not in MEDIA_KINDS:
        raise ValidationError(
            _l("“%(kind)s” is not a kind of file: use image or document.", kind=kind[:40]),
            code="manifest_invalid",
        )
    license_, source = manifest_fields.read_license_and_source(
        data, _l("the file does not say under which licence it is published.")
    )
    entries = manifest_fields.read_list(data, "versions")
    if not entries:
        raise ValidationError(
            _l("“%(field)s” must be a list that is not empty.", field="versions"),
            code="manifest_invalid",
        )
    versions: list[BundleMediaVersion] = []
    for position, entry in enumerate(entries, start=1):
        number = entry.get("number") if isinstance(entry, dict) else None
        with manifest_fields.located(_l("version %(number)s", number=str(number)[:20])):
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
    if manifest_fields.read_integer(data, "version") != versions[-1].number:
        raise ValidationError(
            _l("“%(field)s” must be the number of the last version listed.", field="version"),
            code="manifest_invalid",
        )
    return BundleMedia(
        name=name,
        kind=kind,
        title=media.clean_title(manifest_fields.read_text(data, "title", required=False)) or name,
        description=media.clean_description(
            manifest_fields.read_text(data, "description", required=False)
        ),
        license=license_,
        source=source,
        url=manifest_fields.read_url(data, "url"),
        versions=versions,
    )


def _media_version_fields(data: Any, *, after: int, license_: str, current: bool) -> dict[str, Any]:
    """A version's fields, checked; its file is checked next.

    ``license_`` is the media's: the current version takes it (as the current revision
    takes the page's), older ones have it unless they say otherwise.
    """
    if not isinstance(data, dict):
        raise ValidationError(_l("a version must be a JSON object."), code="manifest_invalid")
    number = manifest_fields.read_integer(data, "number")
    if number <= after:
        raise ValidationError(
            _l("versions must be listed oldest first, with growing numbers."),
            code="manifest_invalid",
        )
    sha256 = manifest_fields.read_sha256(data, "sha256")
    path = manifest_fields.read_path(data, "path")
    if path is None:
        raise manifest_fields.missing("path")
    if current:  # the media's licence wins, but what the version states must be text
        manifest_fields.read_text(data, "license", required=False)
    else:
        license_ = manifest_fields.read_license_or(data, license_)
    authors = attribution.clean_names([manifest_fields.read_text(data, "author")])
    if not authors:
        raise ValidationError(_l("the version has no author."), code="manifest_invalid")
    return {
        "number": number,
        "sha256": sha256,
        "size": manifest_fields.read_integer(data, "size"),
        "path": path,
        "license": license_,
        "summary": attribution.clean_summary(
            manifest_fields.read_text(data, "summary", required=False)
        ),
        "author": authors[0],
        "origin": manifest_fields.read_url(data, "origin"),
        "creators": attribution.clean_names(manifest_fields.read_list(data, "creators")),
        "created_at": manifest_fields.read_date(data, "date"),
    }


def _check_media_file(
    archive: Archive, fields: dict[str, Any], name: str, kind: str
) -> CheckedFile:
    """Check a version's file as an upload is checked: size, content, type."""
    path, size, sha256 = fields["path"], fields["size"], fields["sha256"]
    where = _l("file “%(file)s”", file=path[:200])
    with manifest_fields.located(where):
        # Both declared sizes, before reading: reading stops past them too, as they may lie.
        media.check_size(max(size, archive.declared_size(path)))
    data = checked_file(archive, path, sha256, size, counted=True)
    with manifest_fields.located(where):
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
    return CheckedFile(sha256, file_type, width, height)


def checked_file(archive: Archive, path: str, sha256: str, size: int, *, counted: bool) -> bytes:
    """A member's bytes, refused unless they match the size and sha256 declared."""
    data = archive.read(path, counted=counted, size=size)
    if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
        raise mismatch(path)
    return data
