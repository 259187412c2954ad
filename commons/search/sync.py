"""Keeping the index up with the database: catching up, in the background, reindexing.

The database is the source of truth; the index is a cache of it. The index records
the id of the last revision, of the last media version and of the last visibility
change (a revision hidden or shown again) it has seen (and the ids just below them that
were not yet committed then), and catches up from those three logs after a save, on
first use and before answering a query when it is behind.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Connection, exists, func, inspect, or_, select
from sqlalchemy.exc import SQLAlchemyError
from whoosh import writing
from whoosh.index import LockError

from .. import transaction
from ..extensions import db
from ..models import Media, MediaVersion, Page, Revision, VisibilityChange
from .documents import (
    BATCH_PAGES,
    current_media,
    indexed_captions,
    shown_captions,
    write_media,
    write_pages,
)
from .index import SAVE_LOCK_TIMEOUT, IndexFolder, merge_tiers, tier_to_merge
from .schema import STATE_ID

log = logging.getLogger(__name__)

#: Revision ids are handed out before their transaction commits, so on PostgreSQL a
#: lower id can appear after a higher one. Ids missing below the newest one seen are
#: re-checked until they fall this far behind it.
GAP_WINDOW = 5000
MAX_GAPS = 2000
MAX_PENDING_ROWS = 20_000
#: How long a save waits for the writer before handing its indexing to a thread.
SAVE_WRITER_WAIT = 0.25
REINDEX_LOCK_TIMEOUT = 120.0
#: Pages of a change indexed at once by the process that made it (see _changed_pages).
MAX_CHANGED_PAGES = 100


@dataclass
class _Log:
    """How far the index has read one log: the revisions, or the media versions."""

    last: int = 0
    gaps: list[int] = field(default_factory=list)

    @classmethod
    def load(cls, data: dict[str, Any]) -> _Log:
        """The log as stored by :meth:`dump`."""
        return cls(int(data["last"]), [int(i) for i in data["gaps"]])

    def dump(self) -> dict[str, Any]:
        """The log as stored in the index."""
        return {"last": self.last, "gaps": self.gaps}

    def advance(self, seen: Sequence[int]) -> _Log:
        """The log after reading the rows ``seen`` (ids, in increasing order)."""
        seen_set = set(seen)
        last = max(self.last, seen[-1]) if seen else self.last
        gaps = {gap for gap in self.gaps if gap not in seen_set}
        lowest = max(self.last, last - GAP_WINDOW)
        gaps.update(i for i in range(lowest + 1, last) if i not in seen_set)
        kept = sorted(gap for gap in gaps if gap > last - GAP_WINDOW)[-MAX_GAPS:]
        return _Log(last, kept)

    def unseen(self, column: Any) -> Any:
        """The condition on the id ``column`` of the log's rows not read yet."""
        condition = column > self.last
        return or_(condition, column.in_(self.gaps)) if self.gaps else condition

    @classmethod
    def read_to_end(cls, connection: Connection, column: Any) -> _Log:
        """The log once every row committed now is read: the state of a full reindex."""
        last = connection.scalar(select(func.max(column))) or 0
        recent = connection.scalars(
            select(column).where(column > last - GAP_WINDOW).order_by(column)
        ).all()
        return cls(max(last - GAP_WINDOW, 0)).advance(list(recent))


@dataclass
class _State:
    """How far the index has read the revision, media version and visibility change logs."""

    revisions: _Log = field(default_factory=_Log)
    media: _Log = field(default_factory=_Log)
    visibility: _Log = field(default_factory=_Log)

    @classmethod
    def load(cls, searcher: Any) -> _State:
        document = searcher.document(id=STATE_ID)
        if not document:
            return cls()
        data = json.loads(document["state"])
        # An index written before the visibility log reads it from the start.
        visibility = data.get("visibility", _Log().dump())
        return cls(_Log.load(data["revisions"]), _Log.load(data["media"]), _Log.load(visibility))

    def dump(self) -> str:
        """The state as stored in the index."""
        return json.dumps(
            {
                "revisions": self.revisions.dump(),
                "media": self.media.dump(),
                "visibility": self.visibility.dump(),
            }
        )


class Engine(IndexFolder):
    """The search index of one application, kept up with the database's logs."""

    def __init__(self, directory: str, extra_synonyms: str | None = None) -> None:
        super().__init__(directory, extra_synonyms)
        self._background: threading.Thread | None = None
        #: Pages a save could not index itself, for the background thread.
        self._waiting_pages: set[int] = set()

    def check_contents(self, searcher: Any) -> None:
        """Raise when the catch-up state the index holds cannot be read."""
        _State.load(searcher)

    @staticmethod
    def _pending(
        connection: Connection, columns: tuple[Any, Any], log: _Log, limit: int
    ) -> list[tuple[int, int]]:
        """(row id, owner id) of the rows of a log the index has not seen, oldest first.

        ``columns`` are the log's id and owner columns: :data:`_REVISIONS`,
        :data:`_VISIBILITY_CHANGES` or :data:`_MEDIA_VERSIONS`.
        """
        row_id, owner = columns
        statement = select(row_id, owner).where(log.unseen(row_id)).order_by(row_id)
        return [(row[0], row[1]) for row in connection.execute(statement.limit(limit))]

    def state(self) -> _State:
        """How far the current version of the index has read the revision log."""
        searcher = self.searcher()
        known = getattr(self._local, "state", None)
        if known is None or known[0] is not searcher:
            known = self._local.state = (searcher, _State.load(searcher))
        return known[1]

    def behind(self) -> bool:
        """Whether the database holds rows of a log (revisions, visibility changes, media
        versions) the index has not seen."""
        state = self.state()
        # One round trip for the three logs: this runs before every query.
        statement = select(
            exists().where(state.revisions.unseen(Revision.id)),
            exists().where(state.visibility.unseen(VisibilityChange.id)),
            exists().where(state.media.unseen(MediaVersion.id)),
        )
        try:
            with db.engine.connect() as connection:
                return any(connection.execute(statement).one())
        except SQLAlchemyError:
            # No tables yet (before migrations): nothing to index.
            return False

    def catch_up(
        self,
        timeout: float,
        page_ids: Iterable[int] = (),
        limit: int | None = None,
        *,
        merge: bool = True,
    ) -> int:
        """Index what the logs hold that the index has not seen, plus ``page_ids``.

        Returns the number of pages and media indexed. With ``limit``, stops after
        about that many. Without ``merge``, segments are left for :meth:`merge`, and
        ``merge_due`` says whether it has work.
        """
        forced = set(page_ids)
        done = 0
        while (forced or self.behind()) and (limit is None or done < limit):
            try:
                writer = self.writer(timeout)
            except LockError:
                # Another process is writing, probably the same revisions: the next
                # save or query will check again.
                return done
            try:
                room = BATCH_PAGES if limit is None else limit - done
                # The writer's searcher shows the index as last committed, by anyone.
                with writer.searcher() as searcher, db.engine.connect() as connection:
                    state = _State.load(searcher)
                    rows = self._pending(connection, _REVISIONS, state.revisions, MAX_PENDING_ROWS)
                    seen, batch = _batch(rows, room)
                    changes = self._pending(
                        connection, _VISIBILITY_CHANGES, state.visibility, MAX_PENDING_ROWS
                    )
                    seen_changes, changed = _batch(changes, room)
                    batch |= changed | forced
                    before = indexed_captions(searcher, batch)
                    after = write_pages(writer, connection, sorted(batch), replace=True)
                    versions = self._pending(
                        connection, _MEDIA_VERSIONS, state.media, MAX_PENDING_ROWS
                    )
                    seen_versions, media_ids = _batch(versions, room)
                    # Media whose captions may have changed: those the pages showed
                    # before or show now, when what they say of them changed.
                    names = {
                        name
                        for page_id in batch
                        if before.get(page_id, {}) != after[page_id]
                        for name in (*before.get(page_id, {}), *after[page_id])
                    }
                    if media_ids or names:
                        media_rows = current_media(connection.execute, media_ids, names)
                        shown = shown_captions(searcher, {row.name for row in media_rows}, after)
                        write_media(writer, connection, media_rows, shown, replace=True)
                complete = all(
                    len(read) == len(pending) < MAX_PENDING_ROWS
                    for read, pending in (
                        (seen, rows),
                        (seen_changes, changes),
                        (seen_versions, versions),
                    )
                )
                state = _State(
                    state.revisions.advance(seen),
                    state.media.advance(seen_versions),
                    state.visibility.advance(seen_changes),
                )
                writer.update_document(id=STATE_ID, state=state.dump())
                if not merge:
                    self.merge_due = bool(tier_to_merge(writer.segments))
                writer.commit(mergetype=merge_tiers if merge else writing.NO_MERGE)
            except BaseException:
                writer.cancel()
                raise
            done += len(batch) + len(media_ids)
            forced = set()
            if complete:
                break
        return done

    def catch_up_in_background(self, app: Flask, page_ids: Iterable[int] = ()) -> None:
        """Catch up (with ``page_ids``) and merge in a thread of this process.

        One thread at most: a running one takes the new ``page_ids`` before it stops.
        """
        with self._open_lock:
            self._waiting_pages.update(page_ids)
            if self._background is not None and self._background.is_alive():
                return
            self._background = threading.Thread(
                target=self._catch_up_for, args=(app,), name="search-catch-up", daemon=True
            )
            self._background.start()

    def wait_for_background(self, timeout: float) -> None:
        """Wait until this process's background catch-up, if any, is done."""
        thread = self._background
        if thread is not None:
            thread.join(timeout)

    def _catch_up_for(self, app: Flask) -> None:
        with app.app_context():
            try:
                while True:
                    with self._open_lock:
                        page_ids, self._waiting_pages = self._waiting_pages, set()
                    self.catch_up(SAVE_LOCK_TIMEOUT, page_ids)
                    self.merge(SAVE_LOCK_TIMEOUT)
                    with self._open_lock:
                        if not self._waiting_pages:
                            self._background = None
                            return
            except Exception:  # noqa: BLE001 - a thread has no one to report to but the log
                log.exception("search: catching up in the background failed")
                with self._open_lock:
                    self._background = None
            finally:
                db.session.remove()

    def reindex(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Rebuild the whole index (pages, then media) from the database.

        Returns the number of pages; ``progress(done, total)`` follows them.
        """
        writer = self.writer(REINDEX_LOCK_TIMEOUT, limitmb=128)
        try:
            with db.engine.connect() as connection:
                # Read before the pages and media: what is committed meanwhile is
                # indexed again by the next catch-up.
                state = _State(
                    _Log.read_to_end(connection, Revision.id),
                    _Log.read_to_end(connection, MediaVersion.id),
                    _Log.read_to_end(connection, VisibilityChange.id),
                )
                page_ids = connection.scalars(
                    select(Page.id).where(Page.deleted.is_(False)).order_by(Page.id)
                ).all()
                total = len(page_ids)
                if progress:
                    progress(0, total)
                shown: dict[str, list[str]] = defaultdict(list)
                for start in range(0, total, BATCH_PAGES):
                    chunk = page_ids[start : start + BATCH_PAGES]
                    written = write_pages(writer, connection, chunk, replace=False)
                    # In page order, as catching up gathers them.
                    for _, page_captions in sorted(written.items()):
                        for name, texts in page_captions.items():
                            shown[name].extend(texts)
                    if progress:
                        progress(start + len(chunk), total)
                media_ids = connection.scalars(select(Media.id).order_by(Media.id)).all()
                for start in range(0, len(media_ids), BATCH_PAGES):
                    chunk = media_ids[start : start + BATCH_PAGES]
                    media_rows = current_media(connection.execute, chunk)
                    write_media(writer, connection, media_rows, shown, replace=False)
            writer.add_document(id=STATE_ID, state=state.dump())
            # CLEAR swaps the new segment in at once: readers never see a half-empty index.
            writer.commit(mergetype=writing.CLEAR)
        except BaseException:
            writer.cancel()
            raise
        return total


#: The logs the index reads: (row id, what the row changes).
_REVISIONS = (Revision.id, Revision.page_id)
_VISIBILITY_CHANGES = (VisibilityChange.id, VisibilityChange.page_id)
_MEDIA_VERSIONS = (MediaVersion.id, MediaVersion.media_id)


def _batch(rows: Sequence[tuple[int, int]], owners: int) -> tuple[list[int], set[int]]:
    """The first rows of a log touching at most ``owners`` pages or media: (ids, owners)."""
    seen: list[int] = []
    batch: set[int] = set()
    for row_id, owner_id in rows:
        if owner_id not in batch and len(batch) >= min(owners, BATCH_PAGES):
            break
        batch.add(owner_id)
        seen.append(row_id)
    return seen, batch


def current_engine() -> Engine:
    """The search engine of the current application (see :func:`init_app`)."""
    return current_app.extensions["commons_search"]


def init_app(app: Flask) -> None:
    """Attach a search engine to ``app`` and index pages after each save."""
    app.extensions["commons_search"] = Engine(
        app.config["INDEX_DIR"], app.config.get("SEARCH_SYNONYMS")
    )
    transaction.pages_changed.connect(_on_pages_changed)


def _on_pages_changed(sender: Flask, revisions: Sequence[Revision] = (), **_: Any) -> None:
    engine = sender.extensions.get("commons_search")
    if engine is None:
        return
    try:
        changed = _changed_pages(revisions)
        # Merging segments can take seconds: saves leave it to a thread, and when that
        # thread (or another process) holds the writer, hand it their changes.
        # Nothing indexed means the writer was busy (or another process was quicker).
        indexed = engine.catch_up(SAVE_WRITER_WAIT, changed, merge=False)
        if engine.merge_due or not indexed:
            engine.catch_up_in_background(sender, changed)
    except Exception:  # noqa: BLE001 - a save must not fail because the index did
        sender.logger.exception("search: could not index the latest changes")


def _changed_pages(revisions: Sequence[Revision]) -> set[int]:
    """Pages of a change, for this process to index at once, and again if its writer is busy.

    A change with many revisions is an import: catching up finds them in the logs.
    """
    if not revisions or len(revisions) > MAX_CHANGED_PAGES:
        return set()
    # Identities survive the commit's expiry: no query per revision.
    ids = [key[0] for key in (inspect(revision).identity for revision in revisions) if key]
    return set(db.session.scalars(select(Revision.page_id).where(Revision.id.in_(ids))))


def catch_up() -> int:
    """Index what was committed since the index last looked; returns pages and media indexed.

    Revisions and media versions alike: a new upload is found once this has run, in
    any process (a query runs it when the index is behind).
    """
    return current_engine().catch_up(SAVE_LOCK_TIMEOUT)


def reindex(progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the index, pages and media, from the database.

    ``progress(done, total)`` follows the pages; returns the number of pages indexed.
    """
    return current_engine().reindex(progress)
