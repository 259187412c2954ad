"""Forgotten passwords: the mailed link, its hour, its single use, the throttle, the secrecy."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from commons import auth as accounts
from commons import jobs, password_reset
from commons.extensions import db

from .conftest import PASSWORD, english


@pytest.fixture
def mailbox(app, smtp_server):
    url, box = smtp_server
    app.config["SMTP_URL"] = url
    return box


@pytest.fixture
def ana(app):
    user = accounts.create_user("ana", PASSWORD, email="Ana@Example.org")
    user.locale = "en"
    db.session.commit()
    return user


def _ask(client, email):
    response = client.post("/password/reset", data={"email": email})
    assert jobs.wait(30)
    return response


def _link(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"http://localhost(/password/reset/\S+)", text).group(1)


def test_the_login_page_offers_a_reset(client):
    english(client)
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/password/reset"' in page and "Forgot your password?" in page


def test_a_reset_link_sets_a_new_password_once(client, auth, ana, mailbox):
    response = _ask(client, "ana@example.org")
    assert response.status_code == 200
    [message] = mailbox.messages
    assert message["To"] == "Ana@example.org"
    assert message["Subject"] == "Choose a new password"  # the account's language
    assert message.get_body(("html",)) is not None
    link = _link(message)
    assert client.get(link).status_code == 200
    changed = client.post(
        link, data={"password": "a brand new one", "password_confirm": "a brand new one"}
    )
    assert changed.status_code == 302
    assert (
        client.post("/login", data={"name": "ana", "password": "a brand new one"}).status_code
        == 302
    )
    # Usable once: the password it was made for is gone.
    again = client.post(
        link, data={"password": "yet another one", "password_confirm": "yet another one"}
    )
    assert again.status_code == 400
    assert accounts.authenticate("ana", "a brand new one", "127.0.0.1")


def test_the_answer_is_the_same_for_an_unknown_address(client, ana, mailbox):
    known = _ask(client, "ana@example.org").get_data(as_text=True)
    unknown = _ask(client, "nobody@example.org").get_data(as_text=True)
    assert len(mailbox.messages) == 1
    assert known.replace("ana@example.org", "X") == unknown.replace("nobody@example.org", "X")


def test_a_link_expires_after_an_hour(client, app, ana, monkeypatch):
    token = password_reset.make_token(ana)
    monkeypatch.setattr(password_reset, "LINK_LIFETIME", timedelta(seconds=-1))
    response = client.get(f"/password/reset/{token}")
    assert response.status_code == 400


def test_a_forged_or_mistyped_link_is_refused(client, ana):
    token = password_reset.make_token(ana)
    assert client.get(f"/password/reset/{token[:-2]}xx").status_code == 400
    assert (
        client.post(
            f"/password/reset/{token}x",
            data={"password": "a brand new one", "password_confirm": "a brand new one"},
        ).status_code
        == 400
    )
    assert accounts.authenticate("ana", PASSWORD, "127.0.0.1")


def test_differing_or_short_passwords_keep_the_old_one(client, ana):
    english(client)
    link = f"/password/reset/{password_reset.make_token(ana)}"
    differ = client.post(link, data={"password": "a brand new one", "password_confirm": "another"})
    assert differ.status_code == 400 and "The two passwords differ." in differ.get_data(
        as_text=True
    )
    short = client.post(link, data={"password": "short", "password_confirm": "short"})
    assert short.status_code == 400
    assert accounts.authenticate("ana", PASSWORD, "127.0.0.1")


def test_resetting_logs_every_device_out(app, client, auth, ana):
    auth.login(ana)
    assert client.get("/account/tokens").status_code == 200
    other = app.test_client()
    link = f"/password/reset/{password_reset.make_token(ana)}"
    other.post(link, data={"password": "a brand new one", "password_confirm": "a brand new one"})
    assert client.get("/account/tokens").status_code == 302


def test_requests_are_throttled_per_address(client, ana, mailbox):
    for _ in range(password_reset.MAX_REQUESTS_PER_EMAIL):
        assert _ask(client, "ana@example.org").status_code == 200
    assert _ask(client, "ANA@example.org").status_code == 429
    assert len(mailbox.messages) == password_reset.MAX_REQUESTS_PER_EMAIL


def test_requests_are_throttled_per_client(client):
    for number in range(password_reset.MAX_REQUESTS_PER_CLIENT):
        assert _ask(client, f"person{number}@example.org").status_code == 200
    assert _ask(client, "someone.else@example.org").status_code == 429


def test_an_empty_address_is_a_clear_error(client):
    english(client)
    response = client.post("/password/reset", data={"email": ""})
    assert response.status_code == 400
    assert "Give the email address of your account." in response.get_data(as_text=True)
