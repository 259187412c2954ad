"""The transaction boundary: services flush, one boundary commits, listeners hear after."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from commons import transaction
from commons.extensions import db
from commons.models import Tag
from tests.conftest import make_app


@pytest.fixture
def changed():
    """The revisions announced to listeners (the search index) during the test."""
    seen: list = []

    def receiver(sender, revisions):  # noqa: ANN001, ANN202 - blinker's signature
        seen.extend(revisions)

    with transaction.pages_changed.connected_to(receiver):
        yield seen


def test_listeners_hear_of_announced_revisions_only_after_the_commit(app, member, changed):
    from commons import pages

    result = pages.save(None, title="Jardin", body="Des semis.", author=member)
    assert [revision.id for revision in changed] == [result.revision.id]


def test_a_rollback_forgets_what_was_announced(app, changed):
    transaction.announce(["not a real revision"])
    transaction.rollback()
    transaction.commit()
    assert changed == []


def _app_with_a_writing_view(tmp_path) -> Flask:
    app = make_app(tmp_path)

    @app.post("/test-write/<int:status>")
    def write_then_answer(status: int):  # noqa: ANN202 - a view
        db.session.add(Tag(name=f"tag-{status}"))
        db.session.flush()
        if status == 599:
            raise RuntimeError("the view failed after writing")
        return "answered", status

    return app


def _tags(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Tag.name).order_by(Tag.name)))


@pytest.mark.parametrize(("status", "kept"), [(200, True), (302, True), (409, False), (500, False)])
def test_the_end_of_a_request_commits_a_success_and_rolls_back_an_error(tmp_path, status, kept):
    app = _app_with_a_writing_view(tmp_path)
    app.test_client().post(f"/test-write/{status}")
    assert _tags(app) == ([f"tag-{status}"] if kept else [])


def test_a_view_that_raises_after_writing_stores_nothing(tmp_path):
    app = _app_with_a_writing_view(tmp_path)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert app.test_client().post("/test-write/599").status_code == 500
    with app.app_context():
        assert db.session.scalar(select(func.count(Tag.id))) == 0
