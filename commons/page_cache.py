"""Rendered page views kept in memory for visitors, by the page's validator.

A visitor's page view is identified by its ETag (see ``views.wiki``), which changes when
anything it shows changes; the HTML for a given ETag never needs rendering twice. Each
worker process keeps its own bounded cache, least recently used entries leaving first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class PageCache:
    """A thread-safe LRU mapping of validators to rendered HTML, bounded in total size."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, str] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            html = self._entries.get(key)
            if html is not None:
                self._entries.move_to_end(key)
            return html

    def put(self, key: str, html: str) -> None:
        if len(html) > self.max_bytes:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = html
            self._size += len(html)
            while self._size > self.max_bytes:
                _old, evicted = self._entries.popitem(last=False)
                self._size -= len(evicted)

    def __len__(self) -> int:
        return len(self._entries)
