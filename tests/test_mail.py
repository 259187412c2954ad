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


@pytest.fixture
def certificate(tmp_path, monkeypatch):
    """A self-signed certificate for 127.0.0.1, trusted by this test's TLS clients."""
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return cert, key


def _tls_server(certificate, *, implicit: bool):
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from .conftest import Mailbox, free_port

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN202
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"ana", b"s3cr/t"))

    mailbox = Mailbox()
    options = {"ssl_context": context} if implicit else {"tls_context": context}
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        # With implicit TLS the whole connection is encrypted, but aiosmtpd does not know it.
        auth_require_tls=not implicit,
        require_starttls=not implicit,
        **options,
    )
    return controller, mailbox, logins


@pytest.mark.parametrize("scheme", ["starttls", "ssl"])
def test_credentials_travel_over_tls_only(app, runner, certificate, scheme):
    controller, mailbox, logins = _tls_server(certificate, implicit=scheme == "ssl")
    controller.start()
    try:
        port = controller.port
        url = (
            f"smtps://ana:s3cr%2Ft@127.0.0.1:{port}"
            if scheme == "ssl"
            else f"smtp://ana:s3cr%2Ft@127.0.0.1:{port}?starttls=yes"
        )
        app.config["SMTP_URL"] = url
        assert _send_test(runner).exit_code == 0
        assert logins == [(b"ana", b"s3cr/t")]
        assert len(mailbox.messages) == 1
    finally:
        controller.stop()
