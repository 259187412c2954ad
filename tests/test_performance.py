"""What keeps page views cheap: bounded queries, cached HTML, long-lived static files."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from flask import request_started
from sqlalchemy import event

from commons import moderation, page_queries, pages
from commons.extensions import db


@contextmanager
def counted_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _grow(member, slug: str, revisions: int, links: int) -> None:
    title = page_queries.get(slug).title
    for number in range(revisions):
        body = f"Version {number}\n\n" + " ".join(f"[[Page {n}]]" for n in range(links)) + "\n"
        pages.save(slug, title=title, body=body, author=member)


#: Query budgets, not measurements: they catch a query per revision or per link, the
#: costly mistake. A harmless refactor that needs a query or two more raises them.
PAGE_VIEW_QUERY_BUDGET = 15
LISTING_QUERY_BUDGET = 12


def test_page_view_queries_stay_within_budget_whatever_the_history_or_links(
    client, auth, member
) -> None:
    pages.save(None, title="Petite", body="[[Page 0]]\n", author=member, tags="a, b")
    pages.save(None, title="Grande", body="texte\n", author=member, tags="a, b")
    _grow(member, "grande", revisions=30, links=40)
    for n in range(0, 40, 2):
        pages.save(None, title=f"Page {n}", body="[[Grande]]\n", author=member)
    client.get("/wiki/petite")  # fills the rendered-HTML cache
    client.get("/wiki/grande")
    auth.login(member)  # members get a page rendered for them, never a cached one
    with counted_queries() as small:
        assert client.get("/wiki/petite").status_code == 200
    with counted_queries() as large:
        assert client.get("/wiki/grande").status_code == 200
    assert len(large) == len(small)
    assert len(large) <= PAGE_VIEW_QUERY_BUDGET


def test_listings_stay_within_their_query_budget(client, member) -> None:
    for n in range(30):
        pages.save(None, title=f"Fiche {n}", body="x\n", author=member, tags=f"t{n % 5}, commun")
    for url in ("/pages", "/recent", "/tag/commun", "/tags", "/"):
        client.get(url)
        with counted_queries() as statements:
            assert client.get(url).status_code == 200
        assert len(statements) <= LISTING_QUERY_BUDGET, (url, len(statements))


def test_rendered_html_is_cached_per_revision(client, member) -> None:
    pages.save(None, title="Cache", body="# Titre\n\ntexte\n", author=member)
    client.get("/wiki/cache")
    with counted_queries() as statements:
        client.get("/wiki/cache")
    assert not any(s.lstrip().upper().startswith(("INSERT", "UPDATE")) for s in statements)


def test_a_cached_visitor_view_borrows_one_connection_for_one_query(client, member) -> None:
    pages.save(None, title="Visitée", body="[[Absente]]\n", author=member)
    client.get("/wiki/visitee")
    checkouts = []

    def checkout(*_args) -> None:  # noqa: ANN002
        checkouts.append(1)

    event.listen(db.engine, "checkout", checkout)
    try:
        with counted_queries() as statements:
            response = client.get("/wiki/visitee")
    finally:
        event.remove(db.engine, "checkout", checkout)
    assert response.status_code == 200 and "Absente" in response.get_data(as_text=True)
    # The visitor stamp runs on the driver connection; nothing goes through the ORM.
    assert checkouts == [1] and statements == []


@contextmanager
def counted_requests(app) -> Iterator[list[str]]:  # noqa: ANN001
    """Requests that reached the framework (sessions, user lookup, request hooks)."""
    started: list[str] = []

    def count(_sender, **_extra) -> None:  # noqa: ANN003
        started.append("started")

    request_started.connect(count, app)
    try:
        yield started
    finally:
        request_started.disconnect(count, app)


def test_a_cookieless_visitor_is_answered_before_the_framework(app, client, member) -> None:
    pages.save(None, title="Rapide", body="[[Absente]]\n", author=member)
    first = client.get("/wiki/rapide")
    with counted_requests(app) as started:
        again = client.get("/wiki/rapide")
    assert started == [] and again.status_code == 200
    assert again.get_data() == first.get_data()
    assert sorted(again.headers.items()) == sorted(first.headers.items())
    assert again.headers["Content-Security-Policy"] and "Set-Cookie" not in again.headers
    with counted_requests(app) as started:
        unchanged = client.get("/wiki/rapide", headers={"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304 and started == ["started"]
    pages.save(None, title="Absente", body="présente\n", author=member)
    with counted_requests(app) as started:
        changed = client.get("/wiki/rapide")
    assert started == ["started"] and changed.headers["ETag"] != first.headers["ETag"]
    assert 'class="wikilink missing"' not in changed.get_data(as_text=True)


def test_a_request_with_a_cookie_or_a_query_takes_the_full_path(app, client, auth, member) -> None:
    pages.save(None, title="Perso", body="x\n", author=member)
    client.get("/wiki/perso")
    client.get("/wiki/perso")
    with counted_requests(app) as started:
        assert client.get("/wiki/perso?rev=1").status_code == 200
    assert started == ["started"]
    client.set_cookie("session", "not-a-session")
    with counted_requests(app) as started:
        assert client.get("/wiki/perso").status_code == 200
    assert started == ["started"]
    client.delete_cookie("session")
    auth.login(member)
    with counted_requests(app) as started:
        personal = client.get("/wiki/perso")
    assert started == ["started"] and personal.headers.get("ETag") is None


def test_static_files_are_fingerprinted_and_cached_for_a_year(client) -> None:
    html = client.get("/licenses").get_data(as_text=True)
    css = re.search(r'href="(/static/commons\.css\?v=[0-9a-f]{12})"', html)
    assert css is not None
    response = client.get(css.group(1))
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "max-age=31536000" not in client.get("/static/commons.css").headers["Cache-Control"]


def test_visitors_get_304_until_something_changes(client, member) -> None:
    pages.save(None, title="Conditionnelle", body="[[Absente]]\n", author=member)
    first = client.get("/wiki/conditionnelle")
    assert first.status_code == 200 and first.headers.get("ETag")
    assert "Set-Cookie" not in first.headers, "a visitor's page view starts no session"
    etag = first.headers["ETag"]
    again = client.get("/wiki/conditionnelle", headers={"If-None-Match": etag})
    assert again.status_code == 304
    english = client.get(
        "/wiki/conditionnelle", headers={"If-None-Match": etag, "Accept-Language": "en"}
    )
    assert english.status_code == 200
    pages.save(None, title="Absente", body="maintenant présente\n", author=member)
    changed = client.get("/wiki/conditionnelle", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert 'class="wikilink missing"' not in changed.get_data(as_text=True)


def test_logged_in_users_always_get_a_fresh_page(client, auth, member) -> None:
    pages.save(None, title="Perso", body="x\n", author=member)
    auth.login(member)
    response = client.get("/wiki/perso")
    assert response.headers.get("ETag") is None


def test_hiding_a_revision_reaches_visitors_at_once(client, member, admin) -> None:
    page = pages.save(None, title="Secret", body="06 11 22 33 44\n", author=member).page
    pages.save(page.slug, title="Secret", body="rien\n", author=member)
    assert "06 11 22 33 44" in client.get("/wiki/secret?rev=1").get_data(as_text=True)
    moderation.set_revision_hidden(page_queries.get_revision(page, 1), True, author=admin)
    assert "06 11 22 33 44" not in client.get("/wiki/secret?rev=1").get_data(as_text=True)


def test_visitors_page_cache_is_bounded() -> None:
    from commons.page_cache import PageCache

    cache = PageCache(max_bytes=100)
    for n in range(10):
        cache.put(f"k{n}", "x" * 30)
    assert len(cache) == 3 and cache.get("k9") and cache.get("k0") is None


def test_hiding_the_current_revision_reaches_cached_visitors(client, member, admin) -> None:
    page = pages.save(None, title="Courant", body="07 99 88 77 66\n", author=member).page
    assert "07 99 88 77 66" in client.get("/wiki/courant").get_data(as_text=True)
    moderation.set_revision_hidden(page.current_revision, True, author=admin)
    assert "07 99 88 77 66" not in client.get("/wiki/courant").get_data(as_text=True)
