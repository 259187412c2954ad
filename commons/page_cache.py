"""Rendered page views kept in memory for visitors, by the page's validator.

A visitor's page view is identified by its ETag (:func:`visitor_etag`), which changes
when anything it shows changes; the HTML for a given ETag never needs rendering twice.
Each worker process keeps its own bounded cache, least recently used entries leaving
first. :class:`VisitorFastPath` answers cookie-less visitors from it before the
framework opens a session or looks for a user.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Request, current_app
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from . import page_queries
from .i18n import browser_locale

#: Headers kept per validator for the fast path (a few hundred bytes each).
MAX_HEADER_SETS = 20_000


def visitor_etag(stamp: tuple[Any, ...], locale: str, asking: Request) -> str:
    """The validator of a visitor's view of a page whose :func:`page_queries.visitor_stamp`
    is ``stamp``, read in ``locale``.

    Besides the stamp and the language, the page depends on the deployment and on the
    scheme, host and mount point its absolute links are made from: without
    ``COMMONS_BASE_URL`` those come from the request, so a forged ``Host`` only ever
    reaches its own sender's copy. The raw parts, not ``host_url`` (decoded for display).
    """
    address = (asking.scheme, asking.host, asking.root_path)
    parts = (stamp, locale, current_app.extensions["commons_build_id"], address)
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


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


class VisitorFastPath:
    """WSGI middleware answering a cookie-less visitor's page view from the page cache.

    A GET of ``/wiki/<slug>`` without cookie, query string or ``Authorization`` header
    has no session, hence no user and no flashed message: the view would answer it with
    the cached page of the validator computed here by the same functions. Answering it
    here skips the session, the user lookup and the request hooks, which cost more than
    the stamp's query. The headers sent are those the full path sent for that validator
    (security headers included); anything else, a 304 included, takes the full path.
    """

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self._headers: OrderedDict[str, list[tuple[str, str]]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if not _may_be_shared(environ):
            return self.wsgi_app(environ, start_response)
        asking = self.app.request_class(environ)
        # Closed before the full path runs, which must set up its own contexts.
        try:
            with self.app.app_context():
                etag = self._validator(asking)
        except SQLAlchemyError:
            etag = None  # the full path answers, with its error page if the database is down
        if etag is None:
            return self.wsgi_app(environ, start_response)
        html = self.app.extensions["commons_page_cache"].get(etag)
        with self._lock:
            headers = self._headers.get(etag)
        if html is None or headers is None or etag in asking.if_none_match:
            return self.wsgi_app(environ, self._recording(etag, start_response))
        start_response("200 OK", headers)
        return [html.encode()]

    def _validator(self, asking: Request) -> str | None:
        try:
            adapter = self.app.create_url_adapter(asking)
            assert adapter is not None
            endpoint, arguments = adapter.match()
        except HTTPException:
            return None
        if endpoint != "wiki.view":
            return None
        stamp = page_queries.visitor_stamp(arguments["slug"])
        if stamp is None:
            return None
        return visitor_etag(stamp, browser_locale(asking), asking)

    def _recording(self, etag: str, start_response: Any) -> Any:
        """``start_response``, keeping the headers of a shared 200 answer for ``etag``."""

        def recording(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            names = {name.lower(): value for name, value in headers}
            if (
                status.startswith("200 ")
                and names.get("etag") == f'"{etag}"'
                and "set-cookie" not in names
            ):
                with self._lock:
                    self._headers[etag] = list(headers)
                    while len(self._headers) > MAX_HEADER_SETS:
                        self._headers.popitem(last=False)
            return start_response(status, headers, exc_info)

        return recording


def _may_be_shared(environ: dict[str, Any]) -> bool:
    """Whether the request is a plain GET that carries nothing personal."""
    return (
        environ.get("REQUEST_METHOD") == "GET"
        and environ.get("PATH_INFO", "").startswith("/wiki/")
        and not environ.get("QUERY_STRING")
        and not environ.get("HTTP_COOKIE")
        and not environ.get("HTTP_AUTHORIZATION")
    )
