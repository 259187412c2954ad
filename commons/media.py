"""Media: pictures and documents, checked by content, stored by sha256, credited like pages.

Files live in ``MEDIA_DIR`` under their sha256 (identical uploads are stored once);
the database keeps names, versions, authors and licences. A file is written before the
database commits, and removed again if the transaction does not commit
(:func:`commons.transaction.on_rollback`), so a failed upload leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError
from sqlalchemy import func, select

from . import licenses, office, permissions, transaction
from .attribution import Author, clean_names, clean_source, clean_summary
from .errors import Forbidden, TooLarge, ValidationError, found
from .extensions import db
from .models import Media, MediaVersion, User, utcnow
from .slugs import slugify

THUMBNAIL_WIDTH = 480
#: Images larger than this many pixels are refused (decompression bombs).
MAX_IMAGE_PIXELS = 40_000_000
MAX_NAME_LENGTH = 120


@dataclass(frozen=True)
class FileType:
    """What a file is, judged by its content."""

    kind: str  # "image" or "document"
    content_type: str
    extension: str


IMAGE_TYPES = {
    "PNG": FileType("image", "image/png", "png"),
    "JPEG": FileType("image", "image/jpeg", "jpg"),
    "WEBP": FileType("image", "image/webp", "webp"),
    "GIF": FileType("image", "image/gif", "gif"),
}
PDF = FileType("document", "application/pdf", "pdf")
ODT = FileType("document", office.ODT.content_type, office.ODT.extension)
TEXT = FileType("document", "text/plain; charset=utf-8", "txt")

_REFUSED = _l(
    "This file type is not accepted. Accepted: pictures (PNG, JPEG, WebP, GIF) and documents "
    "(PDF, plain text, OpenDocument ODT, ODS, ODP, Word DOCX, Excel XLSX, PowerPoint PPTX)."
)


def _sniff_image(data: bytes) -> tuple[FileType, int, int] | None:
    """The image type and size when ``data`` is an image Pillow can read safely."""
    signatures = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
    is_webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if not (data.startswith(signatures) or is_webp):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise ValidationError(_too_big_image(), code="image_too_large")
                image.verify()
                file_type = IMAGE_TYPES.get(image.format or "")
                size = image.size
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ValidationError(_too_big_image(), code="image_too_large") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise ValidationError(
                _l("This picture is damaged or not really a picture."), code="media_invalid"
            ) from None
    return (file_type, *size) if file_type else None


def _too_big_image() -> Any:
    return _l(
        "This picture is too large (at most %(count)s million pixels).",
        count=MAX_IMAGE_PIXELS // 1_000_000,
    )


#: What browsers take for HTML or XML at the start of a text (the WHATWG MIME sniffing
#: signatures), and SVG: such "text" is refused, whatever comes before it.
_MARKUP = re.compile(
    rb"<(?:\?xml|svg|!--|!doctype"
    rb"|(?:html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p)(?:[\s>/]|$))"
)


def _head(data: bytes) -> bytes:
    """How a text starts, lower-cased, once any BOM, blank space and whole comments are
    skipped: ``<!-- note --><svg>`` starts with ``<svg``."""
    head = data[:4096].removeprefix(b"\xef\xbb\xbf").lstrip()
    while head.startswith(b"<!--") and (end := head.find(b"-->")) >= 0:
        head = head[end + 3 :].lstrip()
    return head[:512].lower()


def _is_text(data: bytes, head: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not _MARKUP.match(head)


def sniff(data: bytes) -> tuple[FileType, int | None, int | None]:
    """The file's type, width and height, judged by its content, never by its name."""
    if not data:
        raise ValidationError(_l("The file is empty."), code="media_empty")
    image = _sniff_image(data)
    if image is not None:
        return image
    if data.startswith(b"%PDF-"):
        return PDF, None, None
    document = office.sniff(data)
    if document is not None:
        return FileType("document", document.content_type, document.extension), None, None
    head = _head(data)
    if head.startswith((b"<svg", b"<?xml")) and b"<svg" in data[:4096].lower():
        raise ValidationError(
            _l("SVG drawings are not accepted: they can carry scripts. Export it as PNG."),
            code="media_type_refused",
        )
    if _is_text(data, head):
        return TEXT, None, None
    raise ValidationError(_REFUSED, code="media_type_refused")


def clean_name(name: str, file_type: FileType) -> str:
    """A safe file name from what the user gave: "Affiche Été.PNG" -> "affiche-ete.png"."""
    stem = Path(name.replace("\\", "/")).name.rsplit(".", 1)[0] if name else ""
    office.check_file_name(name, file_type.extension)
    stem = slugify(stem)[:MAX_NAME_LENGTH].rstrip("-")
    if not stem:
        raise ValidationError(
            _l("The file name needs at least one letter or digit."), code="media_name_invalid"
        )
    return f"{stem}.{file_type.extension}"


# --- storage ---------------------------------------------------------------------------


def _media_dir() -> Path:
    configured = current_app.config.get("MEDIA_DIR")
    return Path(configured or os.path.join(current_app.instance_path, "media"))


def file_path(sha256: str) -> Path:
    """Where the file with this sha256 lives."""
    return _media_dir() / sha256[:2] / sha256


def _write(data: bytes, sha256: str) -> bool:
    """Store ``data`` under its hash; True when this call created the file."""
    target = file_path(sha256)
    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def thumbnail_path(version: MediaVersion) -> Path:
    """A picture's thumbnail (made once, on first use)."""
    target = _media_dir() / "thumbnails" / f"{version.sha256}-{THUMBNAIL_WIDTH}.webp"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(file_path(version.sha256)) as image:
        image.seek(0)
        picture = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
        picture.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_WIDTH * 4))
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".thumb-")
        with os.fdopen(handle, "wb") as stream:
            picture.save(stream, "WEBP", quality=82)
        os.replace(temporary, target)
    return target


# --- reading ---------------------------------------------------------------------------


def find(name: str) -> Media | None:
    return db.session.scalar(select(Media).where(Media.name == name))


def get(name: str) -> Media:
    """The media called ``name``; NotFound otherwise."""
    return found(find(name), _l("There is no file called “%(name)s”.", name=name[:100]))


def get_version(media: Media, number: int) -> MediaVersion:
    """Version ``number`` of ``media``; NotFound otherwise."""
    return found(
        db.session.scalar(
            select(MediaVersion).where(
                MediaVersion.media_id == media.id, MediaVersion.number == number
            )
        ),
        _l("Version %(number)s of this file does not exist.", number=number),
    )


def versions(media: Media) -> list[MediaVersion]:
    """Every version of a media, newest first."""
    return list(
        db.session.scalars(
            select(MediaVersion)
            .where(MediaVersion.media_id == media.id)
            .order_by(MediaVersion.number.desc())
        )
    )


def by_names(names: set[str]) -> dict[str, Media]:
    """The media among ``names`` that exist, with their current version, in one query."""
    if not names:
        return {}
    found = db.session.scalars(select(Media).where(Media.name.in_(names)))
    return {media.name: media for media in found}


def list_media(*, offset: int = 0, limit: int = 50) -> tuple[list[Media], int]:
    """Media, newest change first, with the total count."""
    total = db.session.scalar(select(func.count(Media.id))) or 0
    found = db.session.scalars(
        select(Media).order_by(Media.updated_at.desc()).offset(offset).limit(limit)
    )
    return list(found), total


def creators(media: Media) -> list[str]:
    """Who made the file (as declared), else who uploaded its versions."""
    names: list[str] = []
    for version in versions(media):
        for name in version.creators or [version.author_name]:
            if name not in names:
                names.append(name)
    return names


# --- writing ---------------------------------------------------------------------------


def check_size(size: int) -> None:
    """Refuse a file of ``size`` bytes when it is over ``MAX_MEDIA_BYTES``."""
    limit = current_app.config["MAX_MEDIA_BYTES"]
    if size > limit:
        raise TooLarge(
            _l("The file is too large (at most %(size)s MB).", size=limit // 1_000_000),
            code="media_too_large",
        )


def check_file(data: bytes) -> tuple[FileType, int | None, int | None]:
    """What an uploaded or imported file is (type, width, height), once it passes the checks.

    Refuses files over ``MAX_MEDIA_BYTES`` and anything :func:`sniff` refuses.
    """
    check_size(len(data))
    return sniff(data)


class NewFiles:
    """The files stored during one transaction, to remove again if it does not commit.

    A file already in the store (the same content uploaded before) is never removed; one
    written here is removed only when no committed version uses it.
    """

    def __init__(self) -> None:
        self.written: list[str] = []

    def store(self, data: bytes) -> str:
        """Store ``data`` under its sha256, which it returns."""
        sha256 = hashlib.sha256(data).hexdigest()
        if _write(data, sha256):
            self.written.append(sha256)
        return sha256

    def discard(self) -> None:
        """After a rollback: remove the files written here that no version uses."""
        for sha256 in self.written:
            if not _still_used(sha256):
                file_path(sha256).unlink(missing_ok=True)
        self.written.clear()


def clean_title(text: str) -> str:
    """A media title on one line, at most 200 characters; may be empty."""
    return " ".join(text.split())[:200]


def clean_description(text: str) -> str:
    """A media description, trimmed to at most 5000 characters."""
    return text.strip()[:5000]


def new_media(
    name: str,
    kind: str,
    *,
    title: str,
    description: str,
    license: str,
    source: dict[str, Any] | None,
    created_at: datetime | None = None,
) -> Media:
    """A media row with no version yet, added to the session; fields must be checked."""
    media = Media(
        name=name,
        kind=kind,
        title=clean_title(title) or name,
        description=clean_description(description),
        license=license,
        source=source,
        version_count=0,
        created_at=created_at or utcnow(),
    )
    db.session.add(media)
    return media


def add_version(
    media: Media,
    data: bytes,
    file_type: FileType,
    width: int | None,
    height: int | None,
    *,
    files: NewFiles,
    license: str,
    summary: str,
    author: Author,
    creators: list[str],
    created_at: datetime | None = None,
) -> MediaVersion:
    """Store ``data`` and record it as the next version of ``media``, without committing.

    Everything must be checked already (:func:`check_file`, licence, names). The file is
    written at once; ``files`` remembers it so the caller can remove it if the transaction
    does not commit. The media takes the version's licence.
    """
    sha256 = files.store(data)
    media.version_count += 1
    version = MediaVersion(
        media=media,
        number=media.version_count,
        sha256=sha256,
        content_type=file_type.content_type,
        size=len(data),
        width=width,
        height=height,
        license=license,
        summary=summary,
        author=author.user,
        author_name=author.name,
        creators=creators,
        origin=author.origin,
        created_at=created_at or utcnow(),
    )
    db.session.add(version)
    db.session.flush()
    media.current_version = version
    media.license = license
    media.updated_at = version.created_at
    return version


def upload(
    data: bytes,
    *,
    filename: str,
    author: User | None,
    title: str = "",
    description: str = "",
    license: str | None = None,
    source: dict[str, Any] | None = None,
    creators: list[str] | str | None = None,
    summary: str = "",
    replace: Media | None = None,
    origin: str | None = None,
    external_author: str | None = None,
) -> MediaVersion:
    """Store a new file, or a new version of ``replace``; everything is checked first.

    The file is written at once, and removed again if the transaction does not commit.

    ``external_author`` and ``origin`` record who uploaded an imported file elsewhere.
    """
    if external_author is None and not permissions.can_upload(author):
        raise Forbidden(_l("Please log in as a member to upload files."))
    file_type, width, height = check_file(data)
    spdx = licenses.normalize(license)
    declared_source = clean_source(source)
    creator_names = clean_names(creators)
    summary = clean_summary(summary)
    if replace is None:
        name = clean_name(filename, file_type)
        if find(name) is not None:
            raise ValidationError(
                _l(
                    "A file called “%(name)s” already exists: open its page to upload a new "
                    "version, or choose another name.",
                    name=name,
                ),
                code="media_name_taken",
            )
    else:
        if file_type.kind != replace.kind or not replace.name.endswith(f".{file_type.extension}"):
            raise ValidationError(
                _l("A new version must be a file of the same type (%(name)s).", name=replace.name),
                code="media_type_changed",
            )
        licenses.check_change(replace.license, spdx)
    kept_source = replace.source if replace is not None else None
    licenses.check_source(declared_source or kept_source, spdx)
    uploader = Author(author, external_author, origin) if external_author else Author.of(author)
    files = NewFiles()
    transaction.on_rollback(files.discard)
    if replace is None:
        media = new_media(
            name,
            file_type.kind,
            title=title,
            description=description,
            license=spdx,
            source=declared_source,
        )
    else:
        media = replace
        if declared_source is not None:
            media.source = declared_source
        if title.strip():
            media.title = clean_title(title)
        if description.strip():
            media.description = clean_description(description)
    return add_version(
        media,
        data,
        file_type,
        width,
        height,
        files=files,
        license=spdx,
        summary=summary,
        author=uploader,
        creators=creator_names,
    )


def _still_used(sha256: str) -> bool:
    return (
        db.session.scalar(select(MediaVersion.id).where(MediaVersion.sha256 == sha256)) is not None
    )
