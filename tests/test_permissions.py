"""Who may do what: every route and API endpoint, for every kind of visitor.

Each case names the roles allowed to use it. A blocked account counts as a visitor:
its session and its tokens stop working the moment it is blocked.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from commons import auth, media, moderation, page_moves, page_queries, pages, themes
from commons.errors import Forbidden
from commons.extensions import db
from commons.models import ApiToken, User
from tests.conftest import PASSWORD
from tests.test_bundles import bundle_of, minimal_manifest
from tests.test_media import picture

ROLES = ["anonymous", "reader", "member", "editor", "admin", "blocked"]
EVERYONE = set(ROLES)
MEMBERS = {"member", "editor", "admin"}
EDITORS = {"editor", "admin"}
ADMINS = {"admin"}
ACCOUNTS = EVERYONE - {"anonymous", "blocked"}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    allowed: set[str]
    #: Form data, or a function making it (files can be read only once).
    data: dict | Callable[[], dict] = field(default_factory=dict)
    json: dict | None = None
    #: Whether the action took effect, given the response: true exactly when allowed.
    done: Callable[[Any], bool] | None = None


def _picture(name: str, color: str) -> Callable[[], dict]:
    return lambda: {"file": (io.BytesIO(picture(color=color)), name)}


def _bundle(field: str, slug: str) -> Callable[[], dict]:
    manifest = minimal_manifest(slug=slug, url=f"https://ailleurs.example/wiki/{slug}")
    return lambda: {field: (io.BytesIO(bundle_of(manifest)), "bundle.zip")}


def _edit(title: str) -> dict:
    return {"title": title, "body": "texte modifié", "accept_license": "on"}


def _body(slug: str) -> str:
    page = page_queries.find(slug)
    return page.current_revision.body if page else ""


def _edited(slug: str, body: str = "texte modifié") -> Callable[[Any], bool]:
    return lambda _response: _body(slug) == body


def _exists(slug: str) -> Callable[[Any], bool]:
    return lambda _response: page_queries.find(slug) is not None


def _deleted(slug: str) -> bool:
    page = page_queries.find(slug, include_deleted=True)
    return page is not None and page.deleted


def _versions(name: str) -> int:
    item = media.find(name)
    return item.version_count if item else 0


def _token_named(name: str) -> Callable[[Any], bool]:
    return lambda _response: (
        db.session.scalar(select(ApiToken).where(ApiToken.name == name)) is not None
    )


def _token_gone_after_creation(name: str) -> Callable[[Any], bool]:
    """Revoked: the token this role's earlier case created is gone (denied roles made none)."""

    def revoked(response) -> bool:  # noqa: ANN001 - a test response
        return not _denied(response) and _token_named(name)(response) is False

    return revoked


def _a_bundle(response) -> bool:  # noqa: ANN001 - a test response
    return response.status_code == 200 and response.data.startswith(b"PK")


CASES = [
    Case("GET", "/", EVERYONE),
    Case("GET", "/pages", EVERYONE),
    Case("GET", "/kind/tool", EVERYONE),
    Case("GET", "/tags", EVERYONE),
    Case("GET", "/tag/partage", EVERYONE),
    Case("GET", "/recent", EVERYONE),
    Case("GET", "/recent.atom", EVERYONE),
    Case("GET", "/search?q=texte", EVERYONE),
    Case("GET", "/licenses", EVERYONE),
    Case("GET", "/credits", EVERYONE),
    Case("GET", "/licenses/CC0-1.0", EVERYONE),
    Case("GET", "/login", EVERYONE),
    Case("GET", "/register", EVERYONE),
    Case("GET", "/new", EVERYONE),
    Case("POST", "/preview", EVERYONE, data={"body": "# Titre"}),
    Case("POST", "/language", EVERYONE, data={"locale": "en"}),
    Case("GET", "/static/commons.css", EVERYONE),
    Case("GET", "/wiki/ouverte", EVERYONE),
    Case("GET", "/wiki/ouverte?rev=1", EVERYONE),
    Case("GET", "/wiki/ouverte/history", EVERYONE),
    Case("GET", "/wiki/ouverte/diff?from=1&to=2", EVERYONE),
    Case("GET", "/wiki/ouverte/credits", EVERYONE),
    Case("GET", "/wiki/ouverte.pdf", EVERYONE),
    Case("GET", "/wiki/supprimee", EDITORS),
    Case("GET", "/wiki/ouverte/edit", MEMBERS),
    Case("POST", "/wiki/ouverte/edit", MEMBERS, data=_edit("Ouverte"), done=_edited("ouverte")),
    Case(
        "POST",
        "/wiki/toute-neuve/edit",
        MEMBERS,
        data=_edit("Toute neuve"),
        done=_exists("toute-neuve"),
    ),
    Case("GET", "/wiki/protegee/edit", EDITORS),
    Case(
        "PUT",
        "/api/v1/pages/protegee",
        EDITORS,
        json={"body": "par l'API", "base_revision": 1},
        done=_edited("protegee", "par l'API"),
    ),
    Case("POST", "/wiki/protegee/edit", EDITORS, data=_edit("Protégée"), done=_edited("protegee")),
    Case("POST", "/wiki/a-restaurer/revert/1", MEMBERS, done=_edited("a-restaurer", "texte\n")),
    Case("GET", "/wiki/a-renommer/rename", EDITORS),
    Case(
        "POST",
        "/wiki/a-renommer/rename",
        EDITORS,
        data={"title": "Renommée"},
        done=_exists("renommee"),
    ),
    Case("POST", "/wiki/a-supprimer/delete", EDITORS, done=lambda _: _deleted("a-supprimer")),
    Case("POST", "/wiki/supprimee/restore", EDITORS, done=lambda _: not _deleted("supprimee")),
    Case(
        "POST",
        "/wiki/a-proteger/protect",
        EDITORS,
        data={"protected": "1"},
        done=lambda _: page_queries.get("a-proteger").protected,
    ),
    Case(
        "POST",
        "/wiki/a-cacher/hide/1",
        ADMINS,
        data={"hidden": "1"},
        done=lambda _: page_queries.get_revision(page_queries.get("a-cacher"), 1).hidden,
    ),
    Case("GET", "/media", EVERYONE),
    Case("GET", "/media/upload", MEMBERS),
    Case(
        "POST",
        "/media/upload",
        MEMBERS,
        data=_picture("nouvelle.png", "blue"),
        done=lambda _: _versions("nouvelle.png") == 1,
    ),
    Case("GET", "/media/affiche.png", EVERYONE),
    Case(
        "POST",
        "/media/affiche.png",
        MEMBERS,
        data=_picture("affiche.png", "red"),
        done=lambda _: _versions("affiche.png") == 2,
    ),
    Case("GET", "/media/affiche.png/file", EVERYONE),
    Case("GET", "/media/affiche.png/thumbnail", EVERYONE),
    Case("GET", "/admin/users", ADMINS),
    Case("GET", "/admin/imports", ADMINS),
    Case("GET", "/api/v1/suggest?q=ouv", EVERYONE),
    Case(
        "POST",
        "/admin/users/1",
        ADMINS,
        data={"action": "role", "role": "editor"},
        done=lambda _: db.session.get(User, 1).role == "editor",
    ),
    Case(
        "POST",
        "/api/v1/media",
        MEMBERS,
        data=_picture("par-api.png", "yellow"),
        done=lambda _: _versions("par-api.png") == 1,
    ),
    Case("GET", "/api/v1/media/affiche.png", EVERYONE),
    Case("GET", "/export", EVERYONE),
    Case("POST", "/export", EVERYONE, data={"scope": "page", "slug": "ouverte"}, done=_a_bundle),
    Case("GET", "/import", EDITORS),
    Case(
        "POST",
        "/import",
        EDITORS,
        data=_bundle("bundle", "importee"),
        done=_exists("importee"),
    ),
    Case("POST", "/api/v1/export", EVERYONE, json={"slug": "ouverte"}, done=_a_bundle),
    Case(
        "POST",
        "/api/v1/import",
        EDITORS,
        data=_bundle("file", "importee-par-api"),
        done=_exists("importee-par-api"),
    ),
    Case("GET", "/api/v1/pages", EVERYONE),
    Case("GET", "/api/v1/pages/ouverte", EVERYONE),
    Case("GET", "/api/v1/pages/ouverte/revisions", EVERYONE),
    Case("GET", "/api/v1/pages/ouverte/credits", EVERYONE),
    Case("GET", "/api/v1/pages/ouverte.pdf", EVERYONE),
    Case("GET", "/api/v1/search?q=texte", EVERYONE),
    Case("GET", "/api/v1/me", ACCOUNTS),
    Case(
        "PUT",
        "/api/v1/pages/par-api",
        MEMBERS,
        json={"title": "Par API", "body": "x"},
        done=_exists("par-api"),
    ),
    # Tokens: 1 is the matrix's own; the page makes 2, the API 3, and each is revoked.
    Case("GET", "/account/tokens", ACCOUNTS),
    Case(
        "POST",
        "/account/tokens",
        ACCOUNTS,
        data={"name": "page", "scope": "read"},
        done=_token_named("page"),
    ),
    Case("GET", "/api/v1/tokens", ACCOUNTS),
    Case(
        "POST",
        "/api/v1/tokens",
        ACCOUNTS,
        json={"name": "api", "scope": "read"},
        done=_token_named("api"),
    ),
    Case("DELETE", "/api/v1/tokens/3", ACCOUNTS, done=_token_gone_after_creation("api")),
    Case("POST", "/account/tokens/2/revoke", ACCOUNTS, done=_token_gone_after_creation("page")),
    # Mail, following and the account page.
    Case("GET", "/password/reset", EVERYONE),
    Case("POST", "/password/reset", EVERYONE, data={"email": "personne@example.org"}),
    Case("POST", "/wiki/ouverte/watch", ACCOUNTS),
    Case("POST", "/tag/partage/watch", ACCOUNTS),
    Case("POST", "/kind/page/watch", ACCOUNTS),
    Case("GET", "/watchlist", ACCOUNTS),
    Case("POST", "/watchlist/settings", ACCOUNTS, data={"frequency": "daily"}),
    Case("GET", "/account", ACCOUNTS),
    Case("POST", "/account/email", ACCOUNTS, data={"email": "compte@example.org"}),
    Case("POST", "/account/language", ACCOUNTS, data={"locale": "fr"}),
    # Experiments across territories, the thesaurus.
    Case("GET", "/map", EVERYONE),
    Case("GET", "/api/v1/themes", EVERYONE),
    Case("GET", "/api/v1/territories?q=uz", EVERYONE),
    Case("GET", "/api/v1/experiments.csv", EVERYONE),
    Case("GET", "/wiki/semis/replicate?title=Semis ailleurs", MEMBERS),
    Case("GET", "/admin/themes", ADMINS),
    Case(
        "POST",
        "/admin/themes",
        ADMINS,
        data={"key": "tiers-lieux", "label_fr": "Tiers-lieux", "label_en": "Third places"},
        done=lambda _: themes.exists("tiers-lieux"),
    ),
    Case(
        "POST",
        "/admin/themes/retire",
        ADMINS,
        data={"key": "culture", "retired": "y"},
        done=lambda _: not themes.exists("culture"),
    ),
    # Last: logging out ends the session the cases above rely on.
    Case("POST", "/logout", EVERYONE),
]

#: Routes that need no case: the signed link in their address, not a role, decides
#: (tests/test_password_reset.py, test_notifications.py and test_profile.py try them).
NOT_COVERED: set[str] = {
    "/password/reset/<token>",
    "/notifications/unsubscribe/<token>",
    "/account/email/verify/<token>",
}


def _setup(member, editor) -> None:
    for title in ("Ouverte", "Protégée", "À supprimer", "Supprimée", "À renommer"):
        pages.save(None, title=title, body="texte\n", author=member, tags="partage")
    for title in ("À protéger", "À restaurer", "À cacher"):
        pages.save(None, title=title, body="texte\n", author=member)
    for slug in ("ouverte", "a-restaurer", "a-cacher"):
        pages.save(slug, title=page_queries.get(slug).title, body="texte\n\nsuite\n", author=member)
    moderation.set_protected(page_queries.get("protegee"), True, author=editor)
    page_moves.delete(page_queries.get("supprimee"), author=editor)
    media.upload(picture(), filename="affiche.png", author=member)
    pages.save(None, title="Semis", body="texte\n", kind="experiment", author=member)


def _client_as(app, role: str, users: dict):
    client = app.test_client()
    if role == "anonymous":
        return client, {}
    user = users[role]
    client.post("/login", data={"name": user.name, "password": PASSWORD})
    token = auth.create_token(user, "matrix")
    if role == "blocked":
        auth.set_blocked(user, True, by=users["admin"])
    return client, {"Authorization": f"Bearer {token}"}


#: What an allowed action answers: a page, a creation, or a redirection after a change.
SUCCESS = {200, 201, 204, 302}


def _denied(response) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    return response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(app, role, reader, member, editor, admin) -> None:
    blocked = auth.create_user("bob", PASSWORD, role="member")
    _setup(member, editor)
    users = {"reader": reader, "member": member, "editor": editor, "admin": admin}
    users["blocked"] = blocked
    client, api_headers = _client_as(app, role, users)
    wrong = []
    for case in CASES:
        headers = api_headers if case.path.startswith("/api/") else {}
        data = case.data() if callable(case.data) else case.data
        body = {"json": case.json} if case.json is not None else {"data": data}
        response = client.open(case.path, method=case.method, headers=headers, **body)
        allowed = role in case.allowed
        if response.status_code >= 500 or allowed == _denied(response):
            wrong.append(f"{case.method} {case.path}: {response.status_code}")
        elif allowed and response.status_code not in SUCCESS:
            wrong.append(f"{case.method} {case.path}: allowed but failed, {response.status_code}")
        elif case.done is not None and case.done(response) != allowed:
            outcome = "not done" if allowed else "done anyway"
            wrong.append(f"{case.method} {case.path}: {response.status_code} but {outcome}")
    assert wrong == []


def test_every_route_is_in_the_matrix(app) -> None:
    covered = {case.path.split("?")[0] for case in CASES}
    for rule in app.url_map.iter_rules():
        if rule.rule in NOT_COVERED:
            continue
        adapter = app.url_map.bind("localhost")
        assert any(
            adapter.test(path, method=method)
            and adapter.match(path, method=method)[0] == rule.endpoint
            for path in covered
            for method in rule.methods - {"HEAD", "OPTIONS"}
        ), f"{rule.rule} ({rule.endpoint}) has no case in the permission matrix"


@pytest.mark.parametrize("role", ["anonymous", "reader"])
def test_services_refuse_a_missing_permission_with_403(app, role, reader) -> None:
    """Uploading a file and saving a page answer a missing right alike: 403, nothing stored."""
    author = reader if role == "reader" else None
    with pytest.raises(Forbidden) as upload_refused:
        media.upload(picture(), filename="photo.png", author=author)
    with pytest.raises(Forbidden) as save_refused:
        pages.save("essai", title="Essai", body="texte", author=author)
    assert upload_refused.value.status == save_refused.value.status == 403
    assert media.find("photo.png") is None
    assert page_queries.find("essai") is None
