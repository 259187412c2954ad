"""Who commits: one boundary for each unit of work.

Services change the database session and flush; they do not commit. One boundary
commits once, then tells listeners what changed:

- for views, the end of the request (:func:`init_app`): a response below 400 commits,
  any other answer or an exception rolls back;
- for the command line, the command, by calling :func:`commit`;
- for bundles, the importer, once per bundle.

A service that appends revisions calls :func:`announce`; :data:`pages_changed` is
sent only after the commit succeeded, so the search index never sees text that was
rolled back.
"""

from __future__ import annotations

from collections.abc import Iterable

from blinker import signal
from flask import Flask, Response, current_app

from .extensions import db
from .models import Revision

#: Sent after a commit that changed pages, with ``revisions=[...]``; search listens.
pages_changed = signal("pages-changed")

_ANNOUNCED = "commons.announced_revisions"


def announce(revisions: Iterable[Revision]) -> None:
    """Queue revisions for :data:`pages_changed`, sent once the transaction commits."""
    db.session.info.setdefault(_ANNOUNCED, []).extend(revisions)


def commit() -> None:
    """Commit the session's work, then send :data:`pages_changed` for what it announced."""
    revisions = db.session.info.pop(_ANNOUNCED, [])
    db.session.commit()
    if revisions:
        pages_changed.send(current_app._get_current_object(), revisions=revisions)


def rollback() -> None:
    """Drop the session's uncommitted work and what it announced."""
    db.session.info.pop(_ANNOUNCED, None)
    db.session.rollback()


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
        db.session.info.pop(_ANNOUNCED, None)


def init_app(app: Flask) -> None:
    """Make the end of each request the boundary that commits the views' work."""
    app.after_request(_end_of_request)
    app.teardown_request(_after_exception)
