"""Following pages, tags and kinds: one-click forms, the watchlist, and its settings."""

from __future__ import annotations

import pytest

from commons import jobs, page_moves, pages, watching
from commons.models import WatchTarget

from .conftest import english

#: Services only flush: each direct call here commits, as its request would.
pytestmark = pytest.mark.usefixtures("commit_each_change")


def _make(author, title="Monnaie locale", **kw):
    return pages.save(None, title=title, body="Une monnaie.\n", author=author, **kw).page


def test_one_click_follows_a_page_and_the_watchlist_shows_its_changes(client, auth, member, editor):
    english(client)
    page = _make(editor, kind="experiment")
    auth.login(member)
    view = client.get(f"/wiki/{page.slug}").get_data(as_text=True)
    assert f'action="/wiki/{page.slug}/watch"' in view and ">Follow<" in view
    response = client.post(f"/wiki/{page.slug}/watch")
    assert response.status_code == 302 and response.location.endswith(f"/wiki/{page.slug}")
    assert ">Stop following<" in client.get(f"/wiki/{page.slug}").get_data(as_text=True)
    pages.save(
        page.slug,
        title=page.title,
        body="Une autre monnaie.\n",
        author=editor,
        summary="précisions",
    )
    watchlist = client.get("/watchlist").get_data(as_text=True)
    assert "Monnaie locale" in watchlist and "précisions" in watchlist
    assert f"/wiki/{page.slug}/diff?from=1&amp;to=2" in watchlist
    client.post(f"/wiki/{page.slug}/watch")
    assert not watching.is_watching(member, WatchTarget.PAGE, page)


def test_tags_and_kinds_are_followed_from_their_listing(client, auth, member, editor):
    _make(editor, title="Grille", tags=["gouvernance"])
    _make(editor, title="Atelier", kind="synthesis")
    _make(editor, title="Autre chose")
    auth.login(member)
    assert 'action="/tag/gouvernance/watch"' in client.get("/tag/gouvernance").get_data(
        as_text=True
    )
    assert client.post("/tag/gouvernance/watch").status_code == 302
    assert client.post("/kind/synthesis/watch").status_code == 302
    changes = [rev.title for rev in watching.latest_changes(member)]
    assert sorted(changes) == ["Atelier", "Grille"]
    assert client.post("/kind/nonsense/watch").status_code == 404
    assert client.post("/tag/nothing-has-it/watch").status_code == 400


def test_visitors_are_asked_to_log_in(client, editor):
    page = _make(editor)
    assert ">Follow<" not in client.get(f"/wiki/{page.slug}").get_data(as_text=True)
    response = client.post(f"/wiki/{page.slug}/watch")
    assert response.status_code == 302 and "/login" in response.location
    assert client.get("/watchlist").status_code == 302


def test_the_watch_form_needs_its_csrf_token(csrf_app, member, editor):
    page = _make(editor)
    client = csrf_app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = login_page.split('name="csrf_token" value="')[1].split('"')[0]
    client.post(
        "/login", data={"name": "marie", "password": "correct horse battery", "csrf_token": token}
    )
    assert client.post(f"/wiki/{page.slug}/watch").status_code == 400
    view = client.get(f"/wiki/{page.slug}").get_data(as_text=True)
    token = view.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post(f"/wiki/{page.slug}/watch", data={"csrf_token": token}).status_code == 302
    assert watching.is_watching(member, WatchTarget.PAGE, page)


def test_deleted_pages_leave_a_members_watchlist(client, auth, member, editor):
    page = _make(editor)
    watching.watch(member, WatchTarget.PAGE, page)
    page_moves.delete(page, author=editor)
    auth.login(member)
    assert "Monnaie locale" not in client.get("/watchlist").get_data(as_text=True)
    assert watching.latest_changes(member) == []
    assert jobs.wait(30)
    # The editor follows the page they created, and may see it deleted.
    assert [rev.action for rev in watching.latest_changes(editor)] == ["delete", "create"]


def test_notification_settings_are_saved_from_the_watchlist(client, auth, member):
    english(client)
    auth.login(member)
    page = client.get("/watchlist").get_data(as_text=True)
    assert 'value="immediate" checked' in page
    response = client.post("/watchlist/settings", data={"frequency": "weekly"})
    assert response.status_code == 302
    stored = watching.settings(member)
    assert (stored.frequency, stored.watch_created) == ("weekly", False)
    assert client.post("/watchlist/settings", data={"frequency": "hourly"}).status_code == 400
    assert watching.settings(member).frequency == "weekly"
