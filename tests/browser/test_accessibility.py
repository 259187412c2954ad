"""Accessibility: axe-core finds no serious or critical problem; the keyboard is enough."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from commons import auth, page_queries, pages, transaction
from commons.extensions import db

from .conftest import login, screenshot

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")

PAGES = [
    "/",
    "/wiki/epicerie-solidaire-en-circuits-courts",
    "/wiki/epicerie-solidaire-en-circuits-courts/history",
    "/wiki/epicerie-solidaire-en-circuits-courts/diff?from=1&to=2",
    "/wiki/epicerie-solidaire-en-circuits-courts/credits",
    "/pages",
    "/kind/experiment",
    "/tags",
    "/recent",
    "/search?q=cooperation",
    "/licenses",
    "/media",
    "/login",
    "/register",
    "/new",
    "/wiki/page-qui-n-existe-pas",
]
MEMBER_PAGES = [
    "/wiki/epicerie-solidaire-en-circuits-courts/edit",
    "/media/upload",
    "/account/tokens",
]


@pytest.fixture(scope="module")
def edited(live_server):
    with live_server.app.app_context():
        page = page_queries.get("epicerie-solidaire-en-circuits-courts")
        pages.save(
            page.slug,
            title=page.title,
            body=page.current_revision.body + "\n## Suite\n\nUne ligne de plus.\n",
            author=auth.find_user("marie"),
            summary="suite",
        )
        transaction.commit()
        db.session.remove()


@pytest.fixture
def audited(browser, live_server, viewport, edited):
    # axe is injected as a script, which the site's own policy rightly forbids.
    context = browser.new_context(
        bypass_csp=True,
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900}
        if viewport == "desktop"
        else {"width": 390, "height": 844},
        locale="fr-FR",
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def _violations(tab) -> list[str]:
    tab.add_script_tag(content=AXE)
    result = tab.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_no_serious_accessibility_problem(audited, viewport) -> None:
    problems = []
    for url in PAGES:
        audited.goto(url)
        problems += [f"{url}: {p}" for p in _violations(audited)]
    login(audited, "marie")
    for url in MEMBER_PAGES:
        audited.goto(url)
        problems += [f"{url}: {p}" for p in _violations(audited)]
    assert problems == []


def test_keyboard_reaches_the_content_and_focus_is_visible(page, viewport) -> None:
    page.goto("/wiki/epicerie-solidaire-en-circuits-courts")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    style = skip.evaluate(
        "el => [getComputedStyle(el).outlineStyle, getComputedStyle(el).boxShadow]"
    )
    assert style != ["none", "none"]
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    screenshot(page, "keyboard", "skip-link", viewport)


def test_every_field_has_a_label(page) -> None:
    login(page, "marie")
    for url in ("/wiki/nouvelle-page/edit", "/media/upload", "/search?q=x"):
        page.goto(url)
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input, textarea, select')]
                 .filter(el => el.type !== 'hidden' && !el.labels?.length
                         && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
                 .map(el => el.name || el.id)"""
        )
        assert unlabelled == [], url
