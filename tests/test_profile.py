"""The account page and email verification: at registration, on change, and the policy."""

from __future__ import annotations

import re

import pytest

from commons import auth as accounts
from commons import email_verification, jobs
from commons.extensions import db

from .conftest import PASSWORD, english


@pytest.fixture
def mailbox(app, smtp_server):
    url, box = smtp_server
    app.config["SMTP_URL"] = url
    return box


def _link(message, path):
    text = message.get_body(("plain",)).get_content()
    return re.search(rf"http://localhost({path}\S+)", text).group(1)


def test_the_account_page_lists_contributions_and_links_tokens(client, auth, member):
    from commons import pages

    english(client)
    pages.save(None, title="Ma page", body="x\n", author=member, summary="premier jet")
    auth.login(member)
    page = client.get("/account").get_data(as_text=True)
    assert "Ma page" in page and "premier jet" in page
    assert 'href="/account/tokens"' in page and 'href="/watchlist"' in page


def test_registration_mails_a_verification_link(client, mailbox):
    response = client.post(
        "/register",
        data={
            "name": "zoe",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "email": "zoe@example.org",
        },
    )
    assert response.status_code == 302
    assert jobs.wait(30)
    [message] = mailbox.messages
    assert message["To"] == "zoe@example.org"
    assert message["Subject"] == "Confirmez votre adresse électronique"
    zoe = accounts.find_user("zoe")
    assert not email_verification.is_verified(zoe)
    assert client.get(_link(message, "/account/email/verify/")).status_code == 302
    db.session.expire_all()
    assert email_verification.is_verified(zoe)


def test_a_new_address_replaces_the_old_one_once_confirmed(client, auth, mailbox):
    ana = accounts.create_user("ana", PASSWORD, email="old@example.org")
    auth.login(ana)
    assert client.post("/account/email", data={"email": "new@example.org"}).status_code == 302
    assert jobs.wait(30)
    [message] = mailbox.messages
    assert message["To"] == "new@example.org"
    assert accounts.find_user("ana").email == "old@example.org"
    client.get(_link(message, "/account/email/verify/"))
    db.session.expire_all()
    assert accounts.find_user("ana").email == "new@example.org"
    assert email_verification.is_verified(accounts.find_user("ana"))


def test_a_bad_address_or_link_is_a_clear_error(client, auth, member):
    english(client)
    auth.login(member)
    response = client.post("/account/email", data={"email": "not an address"})
    assert response.status_code == 400
    assert client.get("/account/email/verify/forged").status_code == 400


def test_when_required_unverified_addresses_get_no_mail(app, client, mailbox):
    app.config["EMAIL_VERIFICATION"] = "required"
    ana = accounts.create_user("ana", PASSWORD, email="ana@example.org")
    assert not email_verification.may_receive_mail(ana)
    client.post("/password/reset", data={"email": "ana@example.org"})
    assert jobs.wait(30)
    assert mailbox.messages == []
    no_email = client.post(
        "/register", data={"name": "zoe", "password": PASSWORD, "password_confirm": PASSWORD}
    )
    assert no_email.status_code == 400
    assert accounts.find_user("zoe") is None


def test_when_off_no_link_is_sent(app, client, auth, mailbox):
    app.config["EMAIL_VERIFICATION"] = "off"
    ana = accounts.create_user("ana", PASSWORD, email="old@example.org")
    auth.login(ana)
    client.post("/account/email", data={"email": "new@example.org"})
    assert jobs.wait(30)
    assert mailbox.messages == []
    assert accounts.find_user("ana").email == "new@example.org"


def test_the_language_is_saved(client, auth, member):
    auth.login(member)
    assert client.post("/account/language", data={"locale": "en"}).status_code == 302
    assert accounts.find_user("marie").locale == "en"
    assert client.post("/account/language", data={"locale": "xx"}).status_code == 400
