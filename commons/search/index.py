"""The index folder: opening, creating and recreating it, its lock, searchers, merges.

Every process may keep its own index folder, or share one: writers take Whoosh's lock,
readers never wait. An index that is lost, corrupted or built with another schema is
recreated (and refilled by :mod:`commons.search.sync`).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError
from whoosh.reading import SegmentReader

from .postings import SegmentCache, View
from .schema import SCHEMA_MARKER, schema
from .synonyms import SYNONYMS_FILE, Synonyms, read_synonym_groups

log = logging.getLogger(__name__)

#: Index segments of one size tier that are merged into one (see merge_tiers).
MERGE_FACTOR = 8
#: How long a save, a query or a full reindex waits for another process's writer.
SAVE_LOCK_TIMEOUT = 10.0
#: A corrupted index is recreated at most this often per process, so a persistent
#: failure cannot turn every query into a rebuild.
RECREATE_COOLDOWN = 60.0


class _Unavailable(Exception):
    """The index could not be opened or created."""


class IndexFolder:
    """The search index of one application: its folder, synonyms and cached searchers.

    What the index holds, and keeping it up with the database, is
    :class:`commons.search.sync.Engine`'s.
    """

    def __init__(self, directory: str, extra_synonyms: str | None = None) -> None:
        self.directory = directory
        self.extra_synonyms = extra_synonyms
        self._index: Any = None
        self._open_lock = threading.Lock()
        self._local = threading.local()
        self._synonyms: Synonyms | None = None
        self._synonyms_stamp: Any = None
        self._last_recreate = 0.0
        self._segments = SegmentCache()
        #: Whether saves left segments for :meth:`merge`.
        self.merge_due = False

    def index(self) -> Any:
        """The Whoosh index, opened (or created) on first use."""
        if self._index is None:
            with self._open_lock:
                if self._index is None:
                    self._index = self._open()
        return self._index

    def _open(self) -> Any:
        if not os.path.isdir(self.directory) or not whoosh_index.exists_in(self.directory):
            return self._create()
        try:
            return self._open_existing()
        except Exception as error:  # noqa: BLE001 - whatever is wrong, the index is rebuilt
            log.warning("search index at %s unusable (%r): recreating it", self.directory, error)
        return self._create()

    def _open_existing(self) -> Any:
        index = whoosh_index.open_dir(self.directory)
        if SCHEMA_MARKER not in index.schema.names():
            raise _Unavailable("built with another schema")
        with index.searcher() as searcher:
            self.check_contents(searcher)
        return index

    def check_contents(self, searcher: Any) -> None:
        """Raise when what ``searcher`` reads cannot be used: the index is then recreated."""

    def _create(self, force: bool = False) -> Any:
        os.makedirs(self.directory, exist_ok=True)
        storage = FileStorage(self.directory)
        lock = storage.lock(f"{whoosh_index._DEF_INDEX_NAME}_WRITELOCK")
        deadline = time.monotonic() + SAVE_LOCK_TIMEOUT
        while not lock.acquire(blocking=False):
            if time.monotonic() > deadline:
                raise _Unavailable("the index is locked")
            time.sleep(0.05)
        try:
            if not force:
                # Another process may have created it while this one waited for the lock.
                try:
                    return self._open_existing()
                except Exception:  # noqa: BLE001
                    pass
            return storage.create_index(schema())
        finally:
            lock.release()

    def recreate(self) -> bool:
        """Throw away a corrupted index; False when one was recreated too recently."""
        if time.monotonic() - self._last_recreate < RECREATE_COOLDOWN:
            return False
        with self._open_lock:
            self._last_recreate = time.monotonic()
            self._index = None
            self._local.__dict__.clear()
            self._index = self._create(force=True)
        return True

    def writer(self, timeout: float, **options: Any) -> Any:
        """A writer, once another process's is done; raises LockError after ``timeout``."""
        index = self.index()
        # Whoosh takes its lock before reading the table of contents and keeps it for
        # good when that fails: read it first, so a damaged index raises here instead.
        index.is_empty()
        # Segments stay as separate files: Whoosh copies a compound segment's parts into
        # memory to read them, which made catching up on 10,000 pages grow to 770 MB
        # (flat at 240 MB without).
        return index.writer(timeout=timeout, compound=False, **options)

    def healthy(self) -> bool:
        """Whether the index folder can be opened and read."""
        try:
            self._open_existing().close()
        except Exception:  # noqa: BLE001 - any failure means it cannot be used
            return False
        return True

    def searcher(self) -> Any:
        """This thread's searcher, refreshed when the index has changed."""
        index = self.index()
        local = self._local
        if getattr(local, "index", None) is not index:
            local.index, local.searcher = index, index.searcher()
        elif not local.searcher.up_to_date():
            # Not refresh(): it reuses segment readers and misses their new deletions.
            local.searcher.close()
            local.searcher = index.searcher()
        return local.searcher

    def searcher_outdated(self) -> bool:
        """Whether the index changed since this thread's searcher was opened.

        Segment files are opened lazily and a merge deletes the files of the segments it
        replaced, so a query that read an outdated searcher may have failed for that alone.
        """
        searcher = getattr(self._local, "searcher", None)
        return searcher is not None and not searcher.up_to_date()

    def view(self, searcher: Any, media: bool = False) -> View:
        """The page (or ``media``) documents of ``searcher``, as sets to match and rank.

        Built once per index version and thread.
        """
        views = getattr(self._local, "views", None)
        if views is None or views[0] is not searcher:
            views = self._local.views = (searcher, {})
        if media not in views[1]:
            views[1][media] = View(searcher, self._segments, media)
        return views[1][media]

    def synonyms(self) -> Synonyms:
        """The built-in synonyms plus the admin's file, reloaded when that file changes."""
        stamp = None
        if self.extra_synonyms:
            try:
                stamp = os.stat(self.extra_synonyms).st_mtime_ns
            except OSError:
                stamp = "missing"
        if self._synonyms is None or stamp != self._synonyms_stamp:
            groups = read_synonym_groups(SYNONYMS_FILE)
            if stamp not in (None, "missing"):
                groups += read_synonym_groups(self.extra_synonyms or "")
            elif stamp == "missing":
                log.warning("search synonyms file %s not found", self.extra_synonyms)
            self._synonyms, self._synonyms_stamp = Synonyms(groups), stamp
        return self._synonyms

    def merge(self, timeout: float) -> None:
        """Merge the index's smallest segments when a tier is full (see :func:`merge_tiers`)."""
        try:
            writer = self.writer(timeout)
        except LockError:
            return  # another process is writing, and will merge
        try:
            if tier_to_merge(writer.segments):
                writer.commit(mergetype=merge_tiers)
            else:
                writer.cancel()
        except BaseException:
            writer.cancel()
            raise
        self.merge_due = False


def tier_to_merge(segments: Sequence[Any]) -> list[Any]:
    """The smallest size tier holding MERGE_FACTOR segments, or nothing.

    A segment's tier is the logarithm of its document count in base MERGE_FACTOR, so
    merging a full tier makes a segment of the next one.
    """
    tiers: dict[int, list[Any]] = defaultdict(list)
    for segment in segments:
        tiers[int(math.log(max(segment.doc_count_all(), 1), MERGE_FACTOR))].append(segment)
    full = [tier for tier in sorted(tiers) if len(tiers[tier]) >= MERGE_FACTOR]
    return tiers[full[0]] if full else []


def merge_tiers(writer: Any, segments: list[Any]) -> list[Any]:
    """A Whoosh merge policy: merge segments of one size tier once there are enough.

    The smallest tier holding MERGE_FACTOR segments becomes one segment of the next
    tier: each document is rewritten once per tier, and the index keeps fewer than
    MERGE_FACTOR segments per tier. Whoosh's own MERGE_SMALL merges the four smallest
    segments with the next one whatever its size, which rewrote the whole index every
    fifth save (2.5 s at 2,000 pages).
    """
    merged = tier_to_merge(segments)
    for segment in merged:
        writer.add_reader(SegmentReader(writer.storage, writer.schema, segment))
    return [segment for segment in segments if segment not in merged]
