"""What a request can make the wiki say to others: hosts, redirects, feed characters."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask_babel import force_locale

from commons import auth, pages
from commons.errors import ValidationError
from commons.extensions import db
from tests.conftest import PASSWORD, english, make_app


@pytest.fixture
def client(app):
    return english(app.test_client())


@pytest.fixture
def page(app, member):
    return pages.save(None, title="Outil partagé", body="texte\n", author=member).page


def test_a_forged_host_never_reaches_the_next_visitor(client, page) -> None:
    poisoned = client.get("/wiki/outil-partage", headers={"Host": "evil.example"})
    assert "evil.example" in poisoned.get_data(as_text=True)
    for _ in range(2):  # the second answer comes from the visitor cache
        normal = client.get("/wiki/outil-partage")
        assert normal.status_code == 200
        assert "evil.example" not in normal.get_data(as_text=True)


@contextmanager
def _client_of_page_at(tmp_path, **settings) -> Iterator:
    """A client of a new app with these settings, holding one page, "outil"."""
    app = make_app(tmp_path, **settings)
    with app.app_context():
        author = auth.create_user("marie", PASSWORD)
        pages.save(None, title="Outil", body="texte\n", author=author)
        yield app.test_client()
        db.session.remove()
        db.engine.dispose()


def test_base_url_makes_every_absolute_link(tmp_path) -> None:
    with _client_of_page_at(tmp_path, BASE_URL="https://wiki.example.org") as client:
        for host in ("evil.example", "localhost"):
            html = client.get("/wiki/outil", headers={"Host": host}).get_data(as_text=True)
            assert '<link rel="canonical" href="https://wiki.example.org/wiki/outil">' in html
            assert "evil.example" not in html
        feed = client.get("/recent.atom", headers={"Host": "evil.example"})
        assert "https://wiki.example.org/recent.atom" in feed.get_data(as_text=True)


def test_base_url_wins_over_a_trusted_proxy_header(tmp_path) -> None:
    settings = {"BASE_URL": "https://wiki.example.org", "TRUSTED_PROXIES": 1}
    with _client_of_page_at(tmp_path, **settings) as client:
        headers = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"}
        html = client.get("/wiki/outil", headers=headers).get_data(as_text=True)
        assert "evil.example" not in html and "https://wiki.example.org/wiki/outil" in html


@pytest.mark.parametrize(
    "target",
    ["/\t/evil.example", "//evil.example", "/\\evil.example", "https://evil.example/", "/\n/x"],
)
def test_language_switch_only_follows_paths_of_this_site(client, target) -> None:
    response = client.post("/language", data={"locale": "en", "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_language_switch_returns_to_the_page(client) -> None:
    response = client.post("/language", data={"locale": "en", "next": "/wiki/outil?rev=2"})
    assert response.headers["Location"] == "/wiki/outil?rev=2"


def test_login_only_follows_paths_of_this_site(client, member) -> None:
    data = {"name": member.name, "password": PASSWORD}
    response = client.post("/login?next=/%09/evil.example", data=data)
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "Outil\x01"},
        {"title": "Outil", "summary": "résumé\x01"},
        {"title": "Outil", "coauthors": ["Alice\x01"]},
    ],
)
def test_control_characters_are_refused_at_input(app, member, fields) -> None:
    with pytest.raises(ValidationError) as refused:
        pages.save(None, body="texte\n", author=member, **fields)
    assert refused.value.code == "control_character"
    with force_locale("en"):
        assert "invisible control character" in str(refused.value.message)


def test_the_edit_form_explains_a_control_character(client, auth, member) -> None:
    auth.login(member)
    data = {"title": "Outil\x01", "body": "x", "accept_license": "on"}
    response = client.post("/wiki/outil/edit", data=data)
    assert response.status_code == 400
    assert "control character" in response.get_data(as_text=True)


def test_the_feed_stays_valid_xml_whatever_a_stored_revision_holds(client, page) -> None:
    revision = page.current_revision
    revision.title = "Outil\x01partagé"
    revision.summary = "résumé\x02"
    revision.author_name = "Alice\x1b"
    revision.coauthors = ["Bob\x0b"]
    db.session.commit()
    feed = client.get("/recent.atom")
    root = ET.fromstring(feed.get_data())
    entry = root.find("{http://www.w3.org/2005/Atom}entry")
    assert "Outilpartagé" in entry.find("{http://www.w3.org/2005/Atom}title").text


def test_the_scheme_and_mount_point_of_a_view_never_reach_the_next_visitor(client, page) -> None:
    secure = client.get("/wiki/outil-partage", base_url="https://localhost")
    assert "https://localhost/wiki/outil-partage" in secure.get_data(as_text=True)
    mounted = client.get("/wiki/outil-partage", base_url="http://localhost/sous-dossier")
    assert "http://localhost/sous-dossier/wiki/outil-partage" in mounted.get_data(as_text=True)
    for _ in range(2):  # the second answer comes from the visitor cache
        html = client.get("/wiki/outil-partage").get_data(as_text=True)
        assert "https://localhost" not in html and "sous-dossier" not in html
        assert "http://localhost/wiki/outil-partage" in html
