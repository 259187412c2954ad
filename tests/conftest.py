"""Shared fixtures: an app on a fresh database (SQLite, or PostgreSQL when
``COMMONS_TEST_DATABASE_URL`` is set), a client, a CLI runner and users."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient

from commons import create_app
from commons.extensions import db


def _private_schema(url: str | None) -> str | None:
    """Each test process works in its own PostgreSQL schema, so parallel runs never collide."""
    if not url:
        return None
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3Dcommons_test_{os.getpid()}"


TEST_DATABASE_URL = _private_schema(os.environ.get("COMMONS_TEST_DATABASE_URL"))
PASSWORD = "correct horse battery"


class IsolatedClient(FlaskClient):
    """A test client whose requests each get their own application context.

    Tests keep an application context open to call services; without this, requests
    would share its ``g`` (and the logged-in user cached there) and its database session,
    which no real request does.
    """

    def open(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201 - FlaskClient's signature
        # End the test's own transaction so the request sees, and may lock, fresh rows;
        # afterwards, forget what the test had loaded so it reads the request's changes.
        if not has_app_context():
            return super().open(*args, **kwargs)
        db.session.commit()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


def _settings(tmp_path, **overrides) -> dict:
    settings = {
        "DATABASE_URL": TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'commons.db'}",
        "INDEX_DIR": str(tmp_path / "index"),
        "MEDIA_DIR": str(tmp_path / "media"),
        "TERRITORIES_FILE": str(tmp_path / "territories.json.gz"),
        "IMPORTS_DIR": str(tmp_path / "imports"),
        "SECRET_KEY": "test-secret",
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        # A failed job (say, a mail to a server a test stopped) is retried once, soon.
        "JOB_RETRY_DELAYS": ["1"],
    }
    settings.update(overrides)
    return settings


def make_app(tmp_path, *, fresh: bool = True, **overrides) -> Flask:
    """A new app on a fresh, empty schema (or, with ``fresh=False``, on the existing one)."""
    app = create_app(_settings(tmp_path, **overrides))
    app.test_client_class = IsolatedClient
    if not fresh:
        return app
    with app.app_context():
        if TEST_DATABASE_URL and app.config["DATABASE_URL"] == TEST_DATABASE_URL:
            schema = f"commons_test_{os.getpid()}"
            with db.engine.begin() as connection:
                connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        db.create_all()
    return app


@pytest.fixture
def app(tmp_path) -> Iterator[Flask]:
    app = make_app(tmp_path)
    with app.app_context():
        yield app
        # A search thread (catching up, merging) or a job must not outlive the test's database.
        app.extensions["commons_search"].wait_for_background(30)
        app.extensions["commons_jobs"].wait(30)
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def csrf_app(tmp_path) -> Iterator[Flask]:
    """Like ``app`` but with CSRF protection on, as in production."""
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app
        app.extensions["commons_search"].wait_for_background(30)
        app.extensions["commons_jobs"].wait(30)
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def english(client: FlaskClient) -> FlaskClient:
    """``client`` asking for English, the language of the messages that tests quote."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


def _user(name: str, role: str):
    from commons import auth

    return auth.create_user(name, PASSWORD, role=role)


@pytest.fixture
def reader(app):
    return _user("rita", "reader")


@pytest.fixture
def member(app):
    return _user("marie", "member")


@pytest.fixture
def editor(app):
    return _user("eddy", "editor")


@pytest.fixture
def admin(app):
    return _user("ada", "admin")


class AuthActions:
    """Log a test client in and out through the real forms."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, user, password: str = PASSWORD):
        return self.client.post("/login", data={"name": user.name, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


#: The services a test calls directly, standing for the requests that would call them.
CHANGING_SERVICES = {
    "pages": ("save",),
    "page_moves": ("rename", "delete", "restore", "revert"),
    "moderation": ("set_protected", "set_revision_hidden"),
    "media": ("upload",),
    "auth": ("create_user", "set_role", "set_blocked"),
}


@pytest.fixture
def commit_each_change(monkeypatch):
    """Make each direct call of a changing service commit, as its request's end would.

    Services only flush: tests that watch what happens after a commit (the search index,
    another process) without sending requests use this.
    """
    import importlib

    from commons import transaction

    def committing(change):  # noqa: ANN001, ANN202
        @functools.wraps(change)
        def call(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            result = change(*args, **kwargs)
            transaction.commit()
            return result

        return call

    for module_name, names in CHANGING_SERVICES.items():
        module = importlib.import_module(f"commons.{module_name}")
        for name in names:
            monkeypatch.setattr(module, name, committing(getattr(module, name)))


@pytest.fixture
def fresh_commons(app, tmp_path):
    """Makes a second, empty commons once the first one is no longer needed.

    On PostgreSQL both share the test schema, which the new one empties: call it only
    after everything wanted from the first commons has been read.
    """
    made = []

    def make():  # noqa: ANN202
        db.session.commit()  # PostgreSQL cannot empty a schema that a transaction reads
        (tmp_path / "other").mkdir()
        made.append(make_app(tmp_path / "other"))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


class Mailbox:
    """What a real SMTP server on loopback (aiosmtpd) received."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook
        from email import message_from_bytes
        from email.policy import default

        message = message_from_bytes(envelope.original_content, policy=default)
        message.envelope_recipients = list(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback; yields ``(url, mailbox)``."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", mailbox
    finally:
        controller.stop()
