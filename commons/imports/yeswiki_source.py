"""A YesWiki site as its backup gives it: the tables of its SQL dump and its files.

Two shapes are read: the zip that YesWiki's administration page makes (the dump in
``private/backups/content.sql``, the attachments under ``files/``), or a plain ``.sql``
dump with the folder of files beside it. Attachments are named
``<Tag>_<name>_<pagedate>_<uploaddate>.<ext>`` (or ``<Tag>/<name>_…`` in a folder per
page); files that are not pictures carry a ``_`` after their extension, trashed ones
``trash<date>`` after it, thumbnails ``vignette`` or ``cropped`` in their name.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from flask_babel import lazy_gettext as _l

from .. import media
from ..bundles.layout import Progress
from ..errors import ValidationError
from .sqldump import Row, read_tables

#: The tables read, without their prefix.
TABLES = ("pages", "users", "acls", "triples", "nature")
_DUMP_IN_ZIP = "private/backups/content.sql"
_ATTACHMENT = re.compile(
    r"^(?:(?P<tag>[^_/]+)[_/])?(?P<name>.+)_(?P<page_date>\d{14})_(?P<upload_date>\d{14})"
    r"\.(?P<extension>[^./]+?)_?(?P<trash>trash\d{14})?$"
)
_THUMBNAIL = re.compile(r"_(?:vignette|cropped)_", re.I)


@dataclass(frozen=True)
class Attachment:
    """A file of the site's ``files/`` folder, as its name describes it."""

    path: str
    tag: str
    name: str
    extension: str
    page_date: str
    upload_date: str
    trashed: bool
    thumbnail: bool
    size: int

    @property
    def file_name(self) -> str:
        """The name ``{{attach file="…"}}`` gives: ``affiche.png``."""
        return f"{self.name}.{self.extension}"


@dataclass
class Site:
    """A YesWiki site's tables (rows by table name, without prefix) and attachments."""

    tables: dict[str, list[Row]]
    attachments: list[Attachment]
    #: Files of ``files/`` whose name is not an attachment's.
    other_files: list[str]
    read: Callable[[Attachment], bytes]


@contextmanager
def open_site(
    path: str, *, prefix: str, files: str | None, progress: Progress | None = None
) -> Iterator[Site]:
    """Open a YesWiki backup zip, or a ``.sql`` dump with its ``files`` folder.

    Raises ValidationError, naming the problem, when the backup cannot be read or holds
    no pages under ``prefix``. ``progress(done, total)`` follows the reading of the dump.
    """
    source = Path(path)
    if not source.is_file():
        raise ValidationError(_l("“%(path)s” is not a file.", path=path), code="yeswiki_path")
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            yield _zip_site(archive, prefix, progress)
        return
    if files is not None and not Path(files).is_dir():
        raise ValidationError(_l("“%(path)s” is not a folder.", path=files), code="yeswiki_files")
    with open(source, "rb") as handle:
        tables = _tables(handle, source.stat().st_size, prefix, progress)
    yield _folder_site(tables, Path(files) if files else None)


def _lines(handle: IO[bytes], size: int, progress: Progress | None) -> Iterator[str]:
    """The dump's lines as text, telling ``progress`` how many bytes were read.

    A UTF-8 line decodes on its own: no character spans a newline.
    """
    done = 0
    for number, line in enumerate(handle):
        done += len(line)
        if progress and number % 1000 == 0:
            progress(done, size)
        yield line.decode("utf-8")
    if progress:
        progress(size, size)


def _tables(
    handle: IO[bytes], size: int, prefix: str, progress: Progress | None
) -> dict[str, list[Row]]:
    wanted = {prefix + table for table in TABLES}
    try:
        rows = read_tables(_lines(handle, size, progress), wanted)
    except UnicodeDecodeError as error:
        raise ValidationError(
            _l("The dump is not UTF-8 text: is it an SQL dump of a YesWiki site?"),
            code="dump_invalid",
        ) from error
    tables = {table: rows[prefix + table] for table in TABLES}
    if not tables["pages"]:
        raise ValidationError(
            _l(
                "The dump has no rows in the table “%(table)s”: is it a YesWiki site, and is "
                "its table prefix “%(prefix)s” (see --prefix)?",
                table=prefix + "pages",
                prefix=prefix,
            ),
            code="yeswiki_no_pages",
        )
    return tables


def _zip_site(archive: zipfile.ZipFile, prefix: str, progress: Progress | None) -> Site:
    names = [info for info in archive.infolist() if not info.is_dir()]
    dumps = [info for info in names if info.filename.endswith(_DUMP_IN_ZIP)]
    if not dumps:
        raise ValidationError(
            _l(
                "The zip has no %(member)s: is it a backup made by YesWiki's administration page?",
                member=_DUMP_IN_ZIP,
            ),
            code="yeswiki_no_dump",
        )
    root = dumps[0].filename[: -len(_DUMP_IN_ZIP)]
    with archive.open(dumps[0]) as handle:
        tables = _tables(handle, dumps[0].file_size, prefix, progress)
    members = {}
    for info in names:
        relative = info.filename[len(root) :] if info.filename.startswith(root) else ""
        if relative.startswith("files/") and ".." not in PurePosixPath(relative).parts:
            members[relative[len("files/") :]] = info
    attachments, others = _attachments({name: info.file_size for name, info in members.items()})

    def read(attachment: Attachment) -> bytes:
        media.check_size(attachment.size)
        with archive.open(members[attachment.path]) as handle:
            return handle.read(attachment.size + 1)

    return Site(tables, attachments, others, read)


def _folder_site(tables: dict[str, list[Row]], folder: Path | None) -> Site:
    sizes: dict[str, int] = {}
    if folder is not None:
        for file in folder.rglob("*"):
            if file.is_file():
                sizes[file.relative_to(folder).as_posix()] = file.stat().st_size
    attachments, others = _attachments(sizes)

    def read(attachment: Attachment) -> bytes:
        assert folder is not None
        media.check_size(attachment.size)
        return (folder / attachment.path).read_bytes()

    return Site(tables, attachments, others, read)


def _attachments(sizes: dict[str, int]) -> tuple[list[Attachment], list[str]]:
    attachments, others = [], []
    for path, size in sorted(sizes.items()):
        match = _ATTACHMENT.match(path)
        if not match or not match.group("tag"):
            others.append(path)
            continue
        attachments.append(
            Attachment(
                path=path,
                tag=match.group("tag"),
                name=match.group("name"),
                extension=match.group("extension").lower(),
                page_date=match.group("page_date"),
                upload_date=match.group("upload_date"),
                trashed=bool(match.group("trash")),
                thumbnail=bool(_THUMBNAIL.search(path)) or path.startswith("cache/"),
                size=size,
            )
        )
    return attachments, others
