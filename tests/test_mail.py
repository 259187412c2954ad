"""Outgoing mail: composition, a real SMTP server on loopback, the outbox without one."""

from __future__ import annotations

import email
from email.policy import default

import pytest

from commons import jobs, mail

from .conftest import english


def test_smtp_urls_give_the_server_its_security_and_credentials():
    plain = mail.parse_smtp_url("smtp://127.0.0.1:8025")
    assert plain == mail.SmtpServer("127.0.0.1", 8025, "none")
    starttls = mail.parse_smtp_url("smtp://ana%40ex.org:p%2Fss@mail.ex.org?starttls=yes")
    assert starttls == mail.SmtpServer("mail.ex.org", 587, "starttls", "ana@ex.org", "p/ss")
    assert mail.parse_smtp_url("smtps://u:p@mail.ex.org").tls == "ssl"
    assert mail.parse_smtp_url("smtps://u:p@mail.ex.org").port == 465
    with pytest.raises(ValueError):
        mail.parse_smtp_url("http://mail.ex.org")


def _send_test(runner, address="ana@example.org", locale=None):
    args = ["mail", "test", address] + (["--locale", locale] if locale else [])
    return runner.invoke(args=args)


def test_a_mail_reaches_a_real_smtp_server_as_text_and_html(app, runner, smtp_server):
    url, mailbox = smtp_server
    app.config.update(SMTP_URL=url, MAIL_FROM="Le commons <wiki@example.org>")
    result = _send_test(runner)
    assert result.exit_code == 0, result.output
    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert message.envelope_recipients == ["ana@example.org"]
    assert message["From"] == "Le commons <wiki@example.org>"
    assert message["Message-ID"].endswith("@example.org>")
    # French by default, in both alternatives.
    assert message["Subject"] == "Message de test"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "peut envoyer des courriels" in text
    assert "peut envoyer des courriels" in html and "<p>" in html


def test_a_mail_is_in_the_language_asked(app, runner, smtp_server):
    url, mailbox = smtp_server
    app.config["SMTP_URL"] = url
    assert _send_test(runner, locale="en").exit_code == 0
    assert mailbox.messages[0]["Subject"] == "Test message"


def test_without_smtp_mails_go_to_the_outbox(app, runner, tmp_path):
    app.config["OUTBOX_DIR"] = str(tmp_path / "outbox")
    result = _send_test(runner)
    assert str(tmp_path / "outbox") in result.output
    files = list((tmp_path / "outbox").iterdir())
    assert [path.suffix for path in files] == [".eml"]
    message = email.message_from_bytes(files[0].read_bytes(), policy=default)
    assert message["To"] == "ana@example.org"
    assert message.get_body(("html",)) is not None


def test_the_unsubscribe_link_is_a_header_too(app):
    message = mail.compose(
        to="ana@example.org",
        subject="s",
        text="t",
        html="<p>t</p>",
        unsubscribe_url="https://wiki.example.org/notifications/unsubscribe/abc",
    )
    assert message["List-Unsubscribe"] == "<https://wiki.example.org/notifications/unsubscribe/abc>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_failed_send_is_retried(app, smtp_server, tmp_path):
    url, mailbox = smtp_server
    # Nothing listens on the first address; the retry goes to the real server.
    app.config.update(SMTP_URL="smtp://127.0.0.1:1", JOB_RETRY_DELAYS=["1"])
    message = mail.compose(to="ana@example.org", subject="s", text="t", html="<p>t</p>")
    mail.send(message)
    app.config["SMTP_URL"] = url
    assert jobs.wait(30)
    assert len(mailbox.messages) == 1


def test_admins_are_told_when_mails_stay_in_the_outbox(client, auth, admin, app):
    english(client)
    auth.login(admin)
    assert "no SMTP server is configured" in client.get("/admin/users").get_data(as_text=True)
    app.config["SMTP_URL"] = "smtp://127.0.0.1:25"
    assert "no SMTP server is configured" not in client.get("/admin/users").get_data(as_text=True)
