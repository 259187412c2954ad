"""The transaction boundary: services flush, one boundary commits, listeners hear after."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from commons import auth, media, moderation, page_moves, render, rendered, transaction
from commons.extensions import db
from commons.models import (
    ApiToken,
    LoginAttempt,
    MediaVersion,
    Page,
    RenderedRevision,
    Revision,
    Tag,
    User,
)
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
    assert changed == []
    transaction.commit()
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


# --- services flush; the boundary decides -----------------------------------------------


def _saved(member):
    from commons import pages

    page = pages.save(None, title="Jardin", body="Des semis.", author=member).page
    transaction.commit()
    return page


def _rows(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _save_another(page, member, editor):  # noqa: ANN001, ANN202
    from commons import pages

    return pages.save(None, title="Potager", body="Des salades.", author=member)


@pytest.mark.parametrize(
    "change",
    [
        _save_another,
        lambda page, member, editor: page_moves.rename(page, "Verger", author=editor),
        lambda page, member, editor: page_moves.delete(page, author=editor),
        lambda page, member, editor: moderation.set_protected(page, True, author=editor),
        lambda page, member, editor: auth.create_user("zoé", "a long password"),
        lambda page, member, editor: auth.issue_token(member, "script", "read"),
    ],
    ids=["save", "rename", "delete", "protect", "create_user", "issue_token"],
)
def test_a_service_followed_by_a_rollback_stores_nothing(app, member, editor, change):
    page = _saved(member)
    before = {model: _rows(model) for model in (Revision, Page, User, ApiToken)}

    def announced(sender, revisions):  # noqa: ANN001, ANN202 - blinker's signature
        pytest.fail("a rolled back change was announced")

    with transaction.pages_changed.connected_to(announced):
        change(page, member, editor)
        transaction.rollback()
        transaction.commit()
    assert {model: _rows(model) for model in before} == before
    assert db.session.get(Page, page.id).title == "Jardin"
    assert not db.session.get(Page, page.id).protected and not page.deleted


def test_a_rolled_back_upload_leaves_no_file(app, member):
    from tests.test_media import picture

    transaction.commit()
    version = media.upload(picture(), filename="plan.png", author=member)
    stored = media.file_path(version.sha256)
    assert stored.exists()
    transaction.rollback()
    assert not stored.exists() and _rows(MediaVersion) == 0


def test_a_committed_upload_keeps_its_file(app, member):
    from tests.test_media import picture

    version = media.upload(picture(), filename="plan.png", author=member)
    transaction.commit()
    transaction.rollback()
    assert media.file_path(version.sha256).exists()


# --- a page view stores its rendering with the request ----------------------------------


def test_a_rendering_is_stored_with_the_transaction_not_before(app, member):
    page = _saved(member)
    rendered.revision_view(page.current_revision)
    transaction.rollback()
    assert _rows(RenderedRevision) == 0
    rendered.revision_view(page.current_revision)
    transaction.commit()
    assert _rows(RenderedRevision) == 1


def test_a_page_view_that_loses_the_race_to_cache_its_rendering_still_answers(
    app, client, member, monkeypatch
):
    """Two workers render the same revision: the second one's insert collides."""
    revision = _saved(member).current_revision
    original = render.render_markdown

    def rendered_meanwhile_by_another_worker(body: str):  # noqa: ANN202
        result = original(body)
        with db.engine.begin() as connection:
            connection.execute(
                RenderedRevision.__table__.insert().values(
                    revision_id=revision.id,
                    renderer=render.RENDERER_VERSION,
                    html=result.html,
                    toc=result.toc,
                )
            )
        return result

    monkeypatch.setattr(render, "render_markdown", rendered_meanwhile_by_another_worker)
    response = client.get("/wiki/jardin")
    assert response.status_code == 200 and "Des semis." in response.get_data(as_text=True)
    assert _rows(RenderedRevision) == 1


# --- work that must outlive an error answer ----------------------------------------------


def test_a_failed_login_is_counted_although_its_answer_rolls_back(app, client, member):
    transaction.commit()
    response = client.post("/login", data={"name": "marie", "password": "wrong password"})
    assert response.status_code == 400
    assert _rows(LoginAttempt) == 1
