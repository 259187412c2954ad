"""The JSON API: pages, revisions, conflicts, errors, tokens."""

from __future__ import annotations

import pytest

from commons import auth as auth_service
from commons import pages
from commons.extensions import db
from commons.models import Revision


@pytest.fixture
def token(member):
    return auth_service.create_token(member)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def put(client, slug, token, **data):
    return client.put(f"/api/v1/pages/{slug}", json=data, headers=bearer(token))


def test_put_creates_then_get_returns_contract(client, token):
    response = put(
        client,
        "outil",
        token,
        title="Outil",
        body="# Titre\n\n[[Autre]]",
        kind="tool",
        tags=["ess"],
        summary="création",
    )
    assert response.status_code == 201
    assert response.json["revision"] == 1
    data = client.get("/api/v1/pages/outil").json
    assert {"slug", "title", "kind", "tags", "license", "body", "revision", "html"} <= set(data)
    assert data["kind"] == "tool" and data["tags"] == ["ess"]
    assert data["license"] == "CC-BY-SA-4.0"
    assert 'class="wikilink missing"' in data["html"]


def test_put_edit_requires_base_revision(client, token):
    put(client, "outil", token, title="Outil", body="a")
    response = put(client, "outil", token, title="Outil", body="b")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "base_revision_required"


def test_put_conflict_is_409_with_current_revision(client, token, editor):
    put(client, "outil", token, title="Outil", body="ligne\n")
    other = auth_service.create_token(editor)
    assert (
        put(client, "outil", other, title="Outil", body="ligne A\n", base_revision=1).status_code
        == 200
    )
    response = put(client, "outil", token, title="Outil", body="ligne B\n", base_revision=1)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "conflict"
    assert response.json["current_revision"] == 2
    assert response.json["current"]["body"] == "ligne A\n"
    assert db.session.query(Revision).count() == 2


def test_put_merges_non_overlapping(client, token, editor):
    base = "a\n\nb\nc\nd\ne\nf\n"
    put(client, "outil", token, title="Outil", body=base)
    put(
        client,
        "outil",
        auth_service.create_token(editor),
        title="Outil",
        body=base.replace("a\n", "A\n"),
        base_revision=1,
    )
    response = put(
        client, "outil", token, title="Outil", body=base.replace("f\n", "F\n"), base_revision=1
    )
    assert response.status_code == 200 and response.json["merged"]
    assert response.json["body"] == "A\n\nb\nc\nd\ne\nF\n"


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"title": "", "body": "x"}, 400, "title_required"),
        ({"title": "T", "body": "x", "kind": "poème"}, 400, "kind_invalid"),
        ({"title": "T", "body": "x", "license": "CC BY-NC 4.0"}, 400, "license_refused"),
        ({"title": "T", "body": 3}, 400, "invalid"),
        ({"title": "T", "body": "x", "base_revision": "un"}, 400, "base_revision_invalid"),
    ],
)
def test_put_bad_input(client, token, payload, status, code):
    response = client.put("/api/v1/pages/t", json=payload, headers=bearer(token))
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]
    assert client.get("/api/v1/pages/t").status_code == 404


def test_invalid_json_is_400(client, token):
    response = client.put(
        "/api/v1/pages/t", data="{nope", headers=bearer(token), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_json"


def test_body_over_limit_is_413(app, client, token):
    app.config["MAX_BODY_BYTES"] = 1000
    response = put(client, "t", token, title="T", body="x" * 1001)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "body_too_large"


def test_anonymous_and_bad_token_cannot_write(client):
    assert client.put("/api/v1/pages/t", json={"title": "T", "body": "x"}).status_code == 403
    response = client.put(
        "/api/v1/pages/t", json={"title": "T", "body": "x"}, headers=bearer("wrong")
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_revisions_and_credits(client, token, member):
    put(client, "outil", token, title="Outil", body="a")
    put(client, "outil", token, title="Outil", body="b", base_revision=1, summary="deux")
    revisions = client.get("/api/v1/pages/outil/revisions").json
    assert revisions["total"] == 2
    assert [r["revision"] for r in revisions["revisions"]] == [2, 1]
    assert revisions["revisions"][0]["summary"] == "deux"
    credits = client.get("/api/v1/pages/outil/credits").json
    assert credits["contributors"][0]["name"] == "marie"
    assert credits["contributors"][0]["edits"] == 2


def test_list_pages(client, member):
    for title in ("B", "A"):
        pages.save(None, title=title, body="x", author=member)
    data = client.get("/api/v1/pages").json
    assert data["total"] == 2 and [p["slug"] for p in data["pages"]] == ["a", "b"]


def test_unknown_page_is_json_404(client):
    response = client.get("/api/v1/pages/nope")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_suggestions_give_titles_then_tags_whatever_the_case_and_accents(client, member):
    for title, tags in (
        ("Financer un tiers-lieu", ["Financement"]),
        ("Épicerie et finances", ["finances", "ESS"]),
        ("Réseau", ["financement"]),
    ):
        pages.save(None, title=title, body="x", author=member, tags=tags)

    everything = client.get("/api/v1/suggest?q=FIN").get_json()
    titles = client.get("/api/v1/suggest?q=epicerie&type=titles").get_json()
    tags = client.get("/api/v1/suggest?q=ess&type=tags").get_json()
    refused = client.get("/api/v1/suggest?q=x&type=pages")

    assert [t["title"] for t in everything["titles"]] == [
        "Financer un tiers-lieu",
        "Épicerie et finances",
    ]
    assert everything["titles"][0]["url"] == "/wiki/financer-un-tiers-lieu"
    assert everything["tags"] == ["Financement", "finances"]
    assert titles == {
        "titles": [
            {
                "slug": "epicerie-et-finances",
                "title": "Épicerie et finances",
                "url": "/wiki/epicerie-et-finances",
            }
        ],
        "tags": [],
    }
    assert tags == {"titles": [], "tags": ["ESS"]}
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "suggest_type_invalid"
