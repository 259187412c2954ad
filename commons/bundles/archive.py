"""Reading a bundle's zip safely, within its limits.

The archive, its member count and its central directory are checked before
:mod:`zipfile` loads anything; member names must stay inside the bundle; members are
decompressed a chunk at a time and stopped as soon as a limit is passed, since the sizes
a zip declares can lie (so a zip bomb stops at the limit).
"""

from __future__ import annotations

import codecs
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..errors import TooLarge, ValidationError
from .layout import CHUNK

#: Defaults for limits that may be missing from older configurations.
DEFAULT_MAX_PAGES = 20_000
DEFAULT_MAX_MEMBERS = 200_000
#: Page revisions and media versions together: a page's entry is built whole when it is
#: checked, some 1 KB a revision, so this bounds the memory one entry can take.
DEFAULT_MAX_REVISIONS = 200_000
#: Bytes of central directory allowed per member: its fixed header, a long name, extras.
CENTRAL_ENTRY_BYTES = 512


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


def mismatch(name: str) -> ValidationError:
    """The refusal of a member that is not the one the manifest describes."""
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


class Archive:
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
                        raise mismatch(name)
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
