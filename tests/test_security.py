"""Headers, cookies, CSRF, login throttling and hidden revisions."""

from __future__ import annotations

import re

import pytest

from commons import auth, moderation, page_queries, pages
from tests.conftest import PASSWORD, make_app


@pytest.mark.parametrize("path", ["/", "/wiki/nowhere", "/api/v1/pages", "/static/commons.css"])
def test_security_headers_on_every_response(client, path) -> None:
    headers = client.get(path).headers
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_httponly_samesite_and_secure_over_https(client, member) -> None:
    data = {"name": member.name, "password": PASSWORD, "remember": "y"}
    plain = client.post("/login", data=data).headers.getlist("Set-Cookie")
    assert plain and all("HttpOnly" in c and "SameSite=Lax" in c for c in plain)
    assert not any("Secure" in c for c in plain)
    secure = client.post("/login", data=data, base_url="https://localhost").headers
    cookies = secure.getlist("Set-Cookie")
    assert cookies and all("Secure" in c and "HttpOnly" in c for c in cookies)
    assert "Strict-Transport-Security" in secure


def test_forms_need_a_csrf_token(csrf_app, member) -> None:
    client = csrf_app.test_client()
    login = client.post("/login", data={"name": member.name, "password": PASSWORD})
    assert login.status_code == 400
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    data = {"name": member.name, "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302
    edit = {"title": "Sans jeton", "body": "x", "accept_license": "on"}
    assert client.post("/wiki/sans-jeton/edit", data=edit).status_code == 400
    assert page_queries.find("sans-jeton") is None


def test_api_session_writes_need_the_csrf_header(csrf_app, member) -> None:
    client = csrf_app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    client.post("/login", data={"name": member.name, "password": PASSWORD, "csrf_token": token})
    payload = {"title": "Par session", "body": "x"}
    refused = client.put("/api/v1/pages/par-session", json=payload)
    assert refused.status_code == 400 and refused.json["error"]["code"] == "csrf"
    token = _page_csrf_token(client)
    accepted = client.put("/api/v1/pages/par-session", json=payload, headers={"X-CSRFToken": token})
    assert accepted.status_code in (200, 201)


def _page_csrf_token(client) -> str:
    """The CSRF token a page gives its reader (in its meta tag)."""
    page = client.get("/").get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def test_failed_logins_are_throttled_per_account_across_processes(app, tmp_path, member) -> None:
    other_worker = make_app(tmp_path, fresh=False)  # a second app on the same database
    first, second = app.test_client(), other_worker.test_client()
    for attempt in range(auth.MAX_FAILURES_PER_ACCOUNT):
        client = first if attempt % 2 else second
        response = client.post("/login", data={"name": member.name, "password": "wrong"})
        assert response.status_code == 400
    blocked = first.post("/login", data={"name": member.name, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "15" in blocked.get_data(as_text=True)
    assert (
        second.post("/login", data={"name": member.name, "password": PASSWORD}).status_code == 429
    )


def test_failed_logins_are_throttled_per_address(app, client) -> None:
    for number in range(auth.MAX_FAILURES_PER_ADDRESS):
        client.post("/login", data={"name": f"inconnu{number}", "password": "x"})
    assert client.post("/login", data={"name": "autre", "password": "x"}).status_code == 429


@pytest.fixture
def hidden_revision(member, admin):
    page = pages.save(
        None, title="Contacts", body="Appeler le 06 12 34 56 78\n", author=member
    ).page
    pages.save(page.slug, title=page.title, body="Écrire à l'association\n", author=member)
    moderation.set_revision_hidden(page_queries.get_revision(page, 1), True, author=admin)
    return page


def test_hidden_content_is_shown_to_no_one_but_admins(client, auth, hidden_revision, member, admin):
    # Every role on every route: tests/test_hidden_revisions.py.
    secret = "06 12 34 56 78"
    urls = [
        "/wiki/contacts?rev=1",
        "/wiki/contacts/diff?from=1&to=2",
        "/api/v1/pages/contacts?rev=1",
    ]
    for user in (None, member, admin):
        if user is not None:
            auth.login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert (secret in response.get_data(as_text=True)) == (user is admin), url
    assert page_queries.get("contacts").current_revision.body == "Écrire à l'association\n"


def test_hiding_needs_an_admin(member, hidden_revision) -> None:
    from commons.errors import Forbidden

    with pytest.raises(Forbidden):
        moderation.set_revision_hidden(
            page_queries.get_revision(hidden_revision, 2), True, author=member
        )
