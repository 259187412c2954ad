"""Outgoing mail: composed with the standard library, sent over SMTP or kept in an outbox.

``COMMONS_SMTP_URL`` names the server: ``smtp://host:25`` (plain, for a relay on the same
machine), ``smtp://user:password@host:587?starttls=yes`` (upgraded to TLS before the
credentials travel), ``smtps://user:password@host:465`` (TLS from the start). Without it,
each mail is written to the outbox folder (``instance/outbox/``) as an ``.eml`` file that
any mail program opens: nothing is lost, and administrators are told.

Mails are composed where they are decided (in the recipient's language, with absolute
links) and handed to the job queue as bytes: :func:`send` enqueues, :func:`deliver` is
the job.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale

from . import jobs

#: Seconds an SMTP conversation may stall before the job fails (and is retried).
SMTP_TIMEOUT = 30
TRUE_WORDS = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to hand mails over, read from ``COMMONS_SMTP_URL``."""

    host: str
    port: int
    tls: str  # "none", "starttls" or "ssl"
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpServer:
    """The server described by ``smtp://`` or ``smtps://`` URL; ValueError for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ValueError("COMMONS_SMTP_URL must look like smtp://host:port or smtps://host:port")
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    if parts.scheme == "smtps":
        tls, default_port = "ssl", 465
    elif options.get("starttls", "").lower() in TRUE_WORDS:
        tls, default_port = "starttls", 587
    else:
        tls, default_port = "none", 25
    return SmtpServer(
        host=parts.hostname,
        port=parts.port or default_port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def uses_outbox() -> bool:
    """True when no SMTP server is configured and mails go to the outbox folder."""
    return not current_app.config.get("SMTP_URL")


def sender() -> str:
    """The ``From`` of every mail: ``COMMONS_MAIL_FROM``, else the site's name at localhost."""
    configured = current_app.config.get("MAIL_FROM")
    return configured or f"{current_app.config['SITE_NAME']} <noreply@localhost>"


def compose(
    *, to: str, subject: str, text: str, html: str, unsubscribe_url: str | None = None
) -> EmailMessage:
    """A mail with a plain-text part and its HTML alternative.

    ``unsubscribe_url`` adds ``List-Unsubscribe`` and the one-click ``List-Unsubscribe-Post``
    (RFC 8058), so mail programs offer their own "unsubscribe" button.
    """
    message = EmailMessage()
    message["From"] = sender()
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=_sender_domain())
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def _sender_domain() -> str:
    address = sender().rsplit("<", 1)[-1].rstrip(">")
    return address.rpartition("@")[2] or "localhost"


def render(template: str, locale: str, subject: Any, **context: Any) -> tuple[str, str, str]:
    """Subject, text and HTML of ``mail/<template>.txt`` and ``.html``, in ``locale``.

    ``subject`` is a lazy translatable string, or a function returning the subject (for
    plurals), translated here in the recipient's language.
    """
    with force_locale(locale):
        return (
            str(subject() if callable(subject) else subject),
            render_template(f"mail/{template}.txt", **context),
            render_template(f"mail/{template}.html", **context),
        )


def recipient_locale(user: Any) -> str:
    """The language a user reads their mails in: theirs, else the wiki's default (French)."""
    locales = current_app.config["LOCALES"]
    return user.locale if user.locale in locales else current_app.config["DEFAULT_LOCALE"]


def absolute_url(endpoint: str, base_url: str | None = None, **values: Any) -> str:
    """A link for a mail: from ``COMMONS_BASE_URL``, else ``base_url``, else the request.

    Background jobs have no request: whoever enqueues them passes the request's own
    address as ``base_url`` when no base URL is configured.
    """
    base = current_app.config.get("BASE_URL") or base_url
    if base is None and has_request_context():
        return url_for(endpoint, _external=True, **values)
    parts = urlsplit(base or "http://localhost")
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path.rstrip("/") or "/", url_scheme=parts.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def send(message: EmailMessage) -> None:
    """Hand ``message`` to the job queue; it leaves once the current transaction commits."""
    # SMTP's line endings (CRLF): smtplib sends bytes as they are.
    jobs.enqueue(deliver, message["From"], message["To"], message.as_bytes(policy=SMTP))


def deliver(from_address: str, to_address: str, raw: bytes) -> None:
    """The job that sends one composed mail: to the SMTP server, or into the outbox."""
    if uses_outbox():
        _write_to_outbox(raw)
        return
    server = parse_smtp_url(current_app.config["SMTP_URL"])
    with _connect(server) as connection:
        connection.sendmail(from_address, [to_address], raw)


@contextmanager
def _connect(server: SmtpServer) -> Iterator[smtplib.SMTP]:
    context = ssl.create_default_context()
    if server.tls == "ssl":
        connection: smtplib.SMTP = smtplib.SMTP_SSL(
            server.host, server.port, timeout=SMTP_TIMEOUT, context=context
        )
    else:
        connection = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT)
    try:
        if server.tls == "starttls":
            connection.starttls(context=context)
        if server.username:
            connection.login(server.username, server.password or "")
        yield connection
    finally:
        connection.quit()


def _write_to_outbox(raw: bytes) -> None:
    """Write the mail whole or not at all: a reader of the folder never sees half a file."""
    folder = current_app.config["OUTBOX_DIR"]
    os.makedirs(folder, exist_ok=True)
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex}"
    partial = os.path.join(folder, f".{name}.partial")
    with open(partial, "wb") as handle:
        handle.write(raw)
    os.replace(partial, os.path.join(folder, f"{name}.eml"))
