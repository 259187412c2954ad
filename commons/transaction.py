"""Who commits: one boundary for each unit of work.

Services change the database session and flush; they do not commit. One boundary
commits once, then tells listeners what changed:

- for views, the end of the request (:func:`init_app`): a response below 400 commits,
  any other answer or an exception rolls back;
- for the command line, the command, by calling :func:`commit`;
- for bundles, the importer, once per bundle.

A service that appends revisions calls :func:`announce`; :data:`pages_changed` is
sent only after the commit succeeded, so the search index never sees text that was
rolled back. A service that writes outside the database (media files) registers with
:func:`on_rollback` how to undo it when the transaction does not commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from blinker import signal
from flask import Flask, Response, current_app

from .extensions import db
from .models import Revision

#: Sent after a commit that changed pages, with ``revisions=[...]``; search listens.
pages_changed = signal("pages-changed")

_ANNOUNCED = "commons.announced_revisions"
_UNDO = "commons.undo_on_rollback"


def announce(revisions: Iterable[Revision]) -> None:
    """Queue revisions for :data:`pages_changed`, sent once the transaction commits."""
    db.session.info.setdefault(_ANNOUNCED, []).extend(revisions)


def on_rollback(undo: Callable[[], None]) -> None:
    """Call ``undo`` if the transaction ends without committing (e.g. remove written files)."""
    db.session.info.setdefault(_UNDO, []).append(undo)


def commit() -> None:
    """Commit the session's work, then send :data:`pages_changed` for what it announced.

    When the commit fails, the work is rolled back (see :func:`rollback`) and the error raised.
    """
    revisions = db.session.info.pop(_ANNOUNCED, [])
    try:
        db.session.commit()
    except BaseException:
        rollback()
        raise
    db.session.info.pop(_UNDO, None)
    if revisions:
        pages_changed.send(current_app._get_current_object(), revisions=revisions)


def rollback() -> None:
    """Drop the session's uncommitted work and what it announced; undo what it registered."""
    db.session.info.pop(_ANNOUNCED, None)
    db.session.rollback()
    _undo()


def _undo() -> None:
    for undo in db.session.info.pop(_UNDO, []):
        undo()


@contextmanager
def savepoint() -> Iterator[None]:
    """A part of the transaction that an error undoes alone, leaving the rest to commit.

    Without an error, its work stays in the transaction, committed (or not) with the rest.
    """
    connection = db.session.connection()
    driver = connection.connection.driver_connection
    if db.engine.dialect.name == "sqlite" and not driver.in_transaction:  # type: ignore[union-attr]
        # Python's sqlite3 begins a transaction only before a change: a SAVEPOINT first
        # would become the transaction itself, and releasing it would commit.
        connection.exec_driver_sql("BEGIN")
    with db.session.begin_nested():
        yield


def _end_of_request(response: Response) -> Response:
    if not db.session().in_transaction():
        return response
    if response.status_code < 400:
        commit()
    else:
        rollback()
    return response


def _after_exception(error: BaseException | None) -> None:
    if error is not None:
        rollback()


def init_app(app: Flask) -> None:
    """Make the end of each request the boundary that commits the views' work."""
    app.after_request(_end_of_request)
    app.teardown_request(_after_exception)
