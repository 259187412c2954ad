"""Consistency of the stored history and files: what a load test, a crash or a restore must
leave intact."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from sqlalchemy import select

from . import media
from .attribution import content_hash
from .extensions import db
from .models import Media, MediaVersion, Page, Revision

#: Files of the media folder's store: ``ab/abcdef…`` (thumbnails live apart).
_STORED = re.compile(r"[0-9a-f]{64}")


def _page_problems() -> Iterator[str]:
    rows = db.session.execute(
        select(Page.slug, Page.revision_count, Revision.page_id, Revision.number, Page.id)
        .outerjoin(Revision, Revision.id == Page.current_revision_id)
        .execution_options(yield_per=1000)
    )
    for slug, count, owner, number, page_id in rows:
        if owner is None:
            yield f"{slug}: its current revision does not exist"
        elif owner != page_id:
            yield f"{slug}: its current revision belongs to another page"
        elif number != count:
            yield f"{slug}: current revision {number} but {count} revisions counted"


def _revision_problems() -> Iterator[str]:
    """Revisions, page by page in order: numbers contiguous, parents chained, hashes right."""
    rows = db.session.execute(
        select(
            Revision.id,
            Revision.page_id,
            Revision.number,
            Revision.parent_id,
            Revision.body,
            Revision.sha256,
            Revision.size,
        )
        .order_by(Revision.page_id, Revision.number)
        .execution_options(yield_per=500)
    )
    previous_page, previous_id, expected = None, None, 1
    for rev_id, page_id, number, parent_id, body, sha256, size in rows:
        if page_id != previous_page:
            previous_page, previous_id, expected = page_id, None, 1
        where = f"page {page_id} revision {number}"
        if number != expected:
            yield f"{where}: expected number {expected}"
        if parent_id != previous_id:
            yield f"{where}: its parent is not the revision before it"
        if content_hash(body) != sha256:
            yield f"{where}: its content does not match its sha256"
        if len(body.encode("utf-8")) != size:
            yield f"{where}: its recorded size is wrong"
        previous_id, expected = rev_id, number + 1


def _media_problems() -> Iterator[str]:
    """Every media version's file present and intact; no stored file left without one."""
    rows = db.session.execute(
        select(MediaVersion.sha256, MediaVersion.size, Media.name, MediaVersion.number)
        .join(Media, Media.id == MediaVersion.media_id)
        .order_by(Media.name, MediaVersion.number)
    )
    known: set[str] = set()
    for sha256, size, name, number in rows:
        if sha256 in known:
            continue  # the same file, shared by another version: checked once
        known.add(sha256)
        where = f"file {name} version {number}"
        path = media.file_path(sha256)
        if not path.is_file():
            yield f"{where}: its stored file is missing"
            continue
        digest = hashlib.sha256()
        with path.open("rb") as stored:
            for chunk in iter(lambda handle=stored: handle.read(1 << 16), b""):
                digest.update(chunk)
        if digest.hexdigest() != sha256 or path.stat().st_size != size:
            yield f"{where}: its stored file does not match its sha256 and size"
    folder = media.file_path("0" * 64).parent.parent
    if folder.is_dir():
        for path in sorted(folder.glob("??/*")):
            if not (_STORED.fullmatch(path.name) and path.name in known):
                yield (
                    f"media folder: {path.relative_to(folder)} belongs to no file version "
                    "(left by an interrupted upload or import; it can be deleted)"
                )


def check() -> list[str]:
    """Every inconsistency found, as sentences; an empty list means the history is sound."""
    return [*_page_problems(), *_revision_problems(), *_media_problems()]
