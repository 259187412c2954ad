"""A live wiki served on loopback and Debian's Chromium driven by Playwright.

The server runs in a thread of the test process on a temporary SQLite database with the
demo content, so browser tests see the same application as ``./dev run``.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from commons import auth, demo, transaction
from commons.extensions import db
from tests.conftest import PASSWORD, make_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("COMMONS_TEST_ARTIFACTS", "test-artifacts"))
#: Without these flags Chromium keeps calling home, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


class LiveServer:
    """The wiki on a free loopback port, with demo pages and one account per role."""

    def __init__(self, tmp_path: Path) -> None:
        self.app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
        with self.app.app_context():
            demo.load()
            for name, role in (("marie", "member"), ("eddy", "editor")):
                auth.create_user(name, PASSWORD, role=role)
            transaction.commit()
            db.session.remove()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        with self.app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("live"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `./dev test` installs it.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def page(browser, live_server: LiveServer, viewport: str):
    """A fresh browser tab in French, at the viewport's size, whose JS errors fail the test."""
    context = browser.new_context(
        viewport=VIEWPORTS[viewport], locale="fr-FR", base_url=live_server.url
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert errors == []


def screenshot(tab, journey: str, step: str, viewport: str) -> None:
    """Keep a full-page screenshot as a test artefact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{journey}-{step}-{viewport}.png"), full_page=True)


def login(tab, name: str) -> None:
    """Log in through the real form."""
    tab.goto("/login")
    tab.fill("#field-name", name)
    tab.fill("#field-password", PASSWORD)
    tab.locator("form.auth-form button[type=submit]").click()
    tab.wait_for_load_state()


def agree_to_the_license(tab) -> None:
    """Tick the licence agreement, unless this account already agreed to the licence."""
    box = tab.locator("#field-accept_license")
    if box.count():
        box.check()
    else:
        assert tab.locator("p.license-agreed").is_visible()
