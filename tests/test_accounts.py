"""Accounts, sessions, tokens: names, logins, registrations, logouts, CSRF and scopes."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from commons import auth, page_queries, pages
from commons.errors import ValidationError
from commons.extensions import db
from commons.models import ApiToken, User
from tests.conftest import PASSWORD, AuthActions, english, make_app

REGISTRATION = {"password": PASSWORD, "password_confirm": PASSWORD}


@pytest.fixture
def client(app):
    return english(app.test_client())


@pytest.fixture
def auth_actions(client) -> AuthActions:
    """The conftest's ``auth`` fixture, under a name that leaves ``auth`` to the service."""
    return AuthActions(client)


def _form_token(client, path: str = "/login") -> str:
    form = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# --- names ---------------------------------------------------------------------------


def test_names_are_one_account_whatever_their_case_or_unicode_form(client) -> None:
    created = client.post("/register", data={"name": "Élodie", **REGISTRATION})
    assert created.status_code == 302
    for variant in ("élodie", "ÉLODIE", "E\u0301lodie"):
        again = client.post("/register", data={"name": variant, **REGISTRATION})
        assert again.status_code == 400, variant
        assert "already taken" in again.get_data(as_text=True)
    client.post("/logout")
    login = client.post("/login", data={"name": "ÉLODIE", "password": PASSWORD})
    assert login.status_code == 302
    assert client.get("/api/v1/me").json["name"] == "Élodie"


def test_compatibility_forms_fold_to_the_same_name(app) -> None:
    auth.create_user("Straße", PASSWORD)
    assert auth.find_user("STRASSE").name == "Straße"
    with pytest.raises(ValidationError):
        auth.create_user("ｓｔｒａｓｓｅ", PASSWORD)  # full-width letters


@pytest.mark.parametrize("name", ["\u0430dmin", "p\u0430ypal", "\u03b1lice"])
def test_names_mixing_alphabets_are_refused(client, name) -> None:
    response = client.post("/register", data={"name": name, **REGISTRATION})
    assert response.status_code == 400
    assert "cannot mix alphabets" in response.get_data(as_text=True)
    assert auth.find_user(name) is None


@pytest.mark.parametrize("name", ["Дмитрий", "Ελένη", "山田太郎", "やまだ Taro", "José-María"])
def test_names_in_one_writing_system_are_welcome(app, name) -> None:
    assert auth.create_user(name, PASSWORD).name == name


def test_a_login_hashes_a_password_even_for_an_unknown_name(client, monkeypatch) -> None:
    checked = []

    def counting_check(password_hash: str, password: str) -> bool:
        checked.append(password)
        return False

    monkeypatch.setattr(auth, "check_password_hash", counting_check)
    response = client.post("/login", data={"name": "personne", "password": "essai"})
    assert response.status_code == 400
    assert checked == ["essai"]


# --- registration --------------------------------------------------------------------


def test_registration_is_throttled_per_address_across_processes(app, tmp_path) -> None:
    other_worker = make_app(tmp_path, fresh=False).test_client()
    clients = [english(app.test_client()), other_worker]
    for number in range(auth.MAX_REGISTRATIONS_PER_ADDRESS):
        data = {"name": f"personne{number}", **REGISTRATION}
        assert clients[number % 2].post("/register", data=data).status_code == 302
    refused = clients[0].post("/register", data={"name": "une de trop", **REGISTRATION})
    assert refused.status_code == 429
    assert "Too many accounts" in refused.get_data(as_text=True)
    assert auth.find_user("une de trop") is None
    elsewhere = clients[1].post(
        "/register",
        data={"name": "ailleurs", **REGISTRATION},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert elsewhere.status_code == 302


def test_email_addresses_are_checked_and_normalised(client) -> None:
    refused = client.post("/register", data={"name": "marc", "email": "marc@", **REGISTRATION})
    assert refused.status_code == 400
    assert "not a valid email address" in refused.get_data(as_text=True)
    data = {"name": "marc", "email": "Marc@EXAMPLE.org", **REGISTRATION}
    assert client.post("/register", data=data).status_code == 302
    assert auth.find_user("marc").email == "Marc@example.org"


# --- sessions ------------------------------------------------------------------------


def test_logout_ends_every_session_and_remember_me_cookie(app, member) -> None:
    browser = app.test_client()
    browser.post("/login", data={"name": member.name, "password": PASSWORD, "remember": "y"})
    session_copy, remembered_copy = app.test_client(), app.test_client()
    session_copy.set_cookie("session", browser.get_cookie("session").value)
    remembered_copy.set_cookie("remember_token", browser.get_cookie("remember_token").value)
    for copy in (session_copy, remembered_copy):
        assert copy.get("/api/v1/me").status_code == 200
    browser.post("/logout")
    for copy in (browser, session_copy, remembered_copy):
        response = copy.get("/api/v1/me")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_login_renews_the_csrf_token(csrf_app, member) -> None:
    client = csrf_app.test_client()
    before = _form_token(client)
    login = {"name": member.name, "password": PASSWORD, "csrf_token": before}
    assert client.post("/login", data=login).status_code == 302
    payload = {"title": "Jeton ancien", "body": "x"}
    stale = client.put("/api/v1/pages/jeton-ancien", json=payload, headers={"X-CSRFToken": before})
    assert stale.status_code == 400 and stale.json["error"]["code"] == "csrf"


def test_a_visitor_page_shared_by_the_cache_holds_no_csrf_token(tmp_path) -> None:
    app = make_app(tmp_path, ANONYMOUS_EDITING=True, WTF_CSRF_ENABLED=True)
    with app.app_context():
        pages.save(None, title="Ouverte", body="texte\n", author=None)
        first, second = app.test_client(), app.test_client()
        for visitor in (first, second):
            html = visitor.get("/wiki/ouverte").get_data(as_text=True)
            assert "csrf" not in html
        # Anonymous editing still works: the editor, never cached, has the visitor's token.
        token = _form_token(second, "/wiki/ouverte/edit")
        edit = {"title": "Ouverte", "body": "suite\n", "base_revision": "1"}
        edit.update(accept_license="on", csrf_token=token)
        assert second.post("/wiki/ouverte/edit", data=edit).status_code == 302
        db.session.remove()
        db.engine.dispose()


# --- tokens --------------------------------------------------------------------------


def test_an_invented_bearer_header_never_passes_for_a_token(csrf_app, member) -> None:
    client = csrf_app.test_client()
    login = {"name": member.name, "password": PASSWORD, "csrf_token": _form_token(client)}
    client.post("/login", data=login)
    payload = {"title": "Sans jeton", "body": "x"}
    response = client.put("/api/v1/pages/sans-jeton", json=payload, headers=_bearer("invente"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert response.json["error"]["code"] == "invalid_token"
    assert page_queries.find("sans-jeton") is None


def test_a_revoked_token_is_refused_even_beside_a_session(client, auth_actions, member) -> None:
    token, secret = auth.issue_token(member, "script", "write")
    auth.revoke_token(member, token.id)
    auth_actions.login(member)
    response = client.get("/api/v1/me", headers=_bearer(secret))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_a_token_speaks_for_its_owner_not_for_the_session(client, auth_actions, member, editor):
    auth_actions.login(editor)
    secret = auth.create_token(member, "script")
    assert client.get("/api/v1/me", headers=_bearer(secret)).json["name"] == member.name


def test_a_token_speaks_for_its_owner_beside_a_remember_me_cookie(app, member, editor) -> None:
    browser = app.test_client()
    browser.post("/login", data={"name": editor.name, "password": PASSWORD, "remember": "y"})
    remembered = app.test_client()
    remembered.set_cookie("remember_token", browser.get_cookie("remember_token").value)
    secret = auth.create_token(member, "script")
    assert remembered.get("/api/v1/me", headers=_bearer(secret)).json["name"] == member.name
    assert remembered.get("/api/v1/me").json["name"] == editor.name


def test_a_blocked_owners_token_acts_as_a_visitor(client, member, admin) -> None:
    secret = auth.create_token(member, "script")
    auth.set_blocked(member, True, by=admin)
    response = client.get("/api/v1/me", headers=_bearer(secret))
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"


def test_a_read_token_can_only_read(client, member) -> None:
    secret = auth.create_token(member, "lecture", "read")
    assert client.get("/api/v1/pages", headers=_bearer(secret)).status_code == 200
    refused = client.put(
        "/api/v1/pages/par-lecture", json={"title": "T", "body": "x"}, headers=_bearer(secret)
    )
    assert refused.status_code == 403
    assert refused.headers["WWW-Authenticate"] == 'Bearer error="insufficient_scope"'
    assert page_queries.find("par-lecture") is None


def test_tokens_page_creates_lists_and_revokes(client, auth_actions, member) -> None:
    auth_actions.login(member)
    assert 'href="/account/tokens"' in client.get("/").get_data(as_text=True)
    created = client.post("/account/tokens", data={"name": "lettre", "scope": "read"})
    assert created.status_code == 201
    html = created.get_data(as_text=True)
    secret = re.search(r'<code class="token-secret">([^<]+)</code>', html).group(1)
    assert "lettre" in html and "read only" in html
    assert client.get("/api/v1/me", headers=_bearer(secret)).status_code == 200
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "lettre" in listing and secret not in listing
    token = db.session.query(ApiToken).filter_by(name="lettre").one()
    revoked = client.post(f"/account/tokens/{token.id}/revoke", follow_redirects=True)
    assert "lettre" in revoked.get_data(as_text=True)
    assert client.get("/api/v1/me", headers=_bearer(secret)).status_code == 401


def test_tokens_page_refuses_a_nameless_token(client, auth_actions, member) -> None:
    auth_actions.login(member)
    response = client.post("/account/tokens", data={"name": " ", "scope": "write"})
    assert response.status_code == 400
    assert "needs a name" in response.get_data(as_text=True)
    assert auth.list_tokens(member) == []


def test_someone_elses_token_cannot_be_revoked(client, auth_actions, member, editor) -> None:
    token, secret = auth.issue_token(editor, "outil", "write")
    auth_actions.login(member)
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 404
    assert client.get("/api/v1/me", headers=_bearer(secret)).json["name"] == editor.name


def test_tokens_api_lists_creates_and_revokes(client, member) -> None:
    secret = auth.create_token(member, "principal")
    created = client.post(
        "/api/v1/tokens", json={"name": "lecture", "scope": "read"}, headers=_bearer(secret)
    )
    assert created.status_code == 201
    assert created.json["scope"] == "read" and created.json["token"]
    listed = client.get("/api/v1/tokens", headers=_bearer(secret)).json["tokens"]
    assert [(t["name"], t["scope"]) for t in listed] == [
        ("lecture", "read"),
        ("principal", "write"),
    ]
    assert all("token" not in t for t in listed)
    assert listed[1]["last_used_at"] is not None
    gone = client.delete(f"/api/v1/tokens/{created.json['id']}", headers=_bearer(secret))
    assert gone.status_code == 204
    assert client.get("/api/v1/me", headers=_bearer(created.json["token"])).status_code == 401
    bad_scope = client.post(
        "/api/v1/tokens", json={"name": "x", "scope": "admin"}, headers=_bearer(secret)
    )
    assert bad_scope.status_code == 400 and bad_scope.json["error"]["code"] == "scope_invalid"


def test_cli_creates_a_named_read_token(runner, member) -> None:
    result = runner.invoke(args=["token", "create", "marie", "--scope", "read", "--name", "site"])
    assert result.exit_code == 0
    secret = result.output.strip()
    token = db.session.query(ApiToken).filter_by(name="site").one()
    assert token.scope == "read" and auth.use_token(secret) == token
    default = runner.invoke(args=["token", "create", "marie"])
    assert auth.use_token(default.output.strip()).scope == "write"


def test_user_rows_keep_their_folded_name(app) -> None:
    user = auth.create_user("ÉLODIE", PASSWORD)
    assert db.session.get(User, user.id).name_key == "élodie"


def test_the_migration_folds_the_names_of_existing_accounts(tmp_path) -> None:
    app = make_app(tmp_path)
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade(revision="8a2f5f45bfb2")
        with db.engine.begin() as connection:
            for name in ("Élodie", "élodie"):  # two accounts that lower() kept apart
                connection.execute(
                    text(
                        "INSERT INTO users (name, password_hash, role, blocked, created_at)"
                        " VALUES (:name, 'x', 'member', :blocked, :created)"
                    ),
                    {"name": name, "blocked": False, "created": datetime(2026, 1, 1)},
                )
            connection.execute(
                text(
                    "INSERT INTO api_tokens (user_id, name, token_hash, created_at)"
                    " VALUES (1, 'ancien', 'h', :created)"
                ),
                {"created": datetime(2026, 1, 1)},
            )
        upgrade()
        users = db.session.scalars(select(User).order_by(User.id)).all()
        assert [user.name_key for user in users] == ["élodie", f"élodie#{users[1].id}"]
        assert len({user.session_key for user in users}) == 2
        assert db.session.scalars(select(ApiToken.scope)).all() == ["write"]
        assert auth.find_user("ÉLODIE").name == "Élodie"
        db.session.remove()
        db.engine.dispose()
