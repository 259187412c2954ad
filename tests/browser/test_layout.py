"""Every page of the interface fits a phone (390 px) and a desktop (1280 px), and axe-core
finds no serious problem at phone width; a screenshot of each page at both widths is kept."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from commons import auth, media, page_queries, pages
from commons.extensions import db

from .conftest import PASSWORD, VIEWPORTS, login, screenshot

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
SLUG = "epicerie-solidaire-en-circuits-courts"

#: Every page of the interface, by the account that may open it (None: anonymous).
PAGES_BY_ACCOUNT: dict[str | None, list[str]] = {
    None: [
        "/",
        f"/wiki/{SLUG}",
        f"/wiki/{SLUG}?rev=1",
        f"/wiki/{SLUG}/history",
        f"/wiki/{SLUG}/diff?from=1&to=2",
        f"/wiki/{SLUG}/credits",
        "/credits",
        "/pages",
        "/kind/experiment",
        "/tags",
        "/tag/tiers-lieux",
        "/recent",
        "/search?q=cooperation",
        "/search?q=cooperatoin",
        "/licenses",
        "/media",
        "/media/affiche.png",
        "/login",
        "/register",
        "/export",
        "/export?pages=bienvenue&pages=epicerie-solidaire-en-circuits-courts",
        "/wiki/page-qui-n-existe-pas",
    ],
    "marie": [
        f"/wiki/{SLUG}",
        f"/wiki/{SLUG}/edit",
        "/new",
        "/media/upload",
        "/account/tokens",
    ],
    "ada": [
        f"/wiki/{SLUG}",
        f"/wiki/{SLUG}/history",
        f"/wiki/{SLUG}/rename",
        "/admin/users",
        "/admin/imports",
        "/import",
    ],
}


@pytest.fixture(scope="module")
def content(live_server):
    """A second revision (so there is a diff), a picture, and an administrator."""
    with live_server.app.app_context():
        marie = auth.find_user("marie")
        page = page_queries.get(SLUG)
        body = page.current_revision.body.replace("épicerie", "épicerie solidaire", 1)
        pages.save(
            page.slug,
            title=page.title,
            body=body + "\n## Suite\n\nUne ligne de plus, assez longue pour passer à la ligne "
            "sur un téléphone et montrer comment le texte se replie.\n",
            author=marie,
            summary="suite",
        )
        picture = io.BytesIO()
        Image.new("RGB", (640, 480), "teal").save(picture, "PNG")
        media.upload(picture.getvalue(), filename="affiche.png", author=marie)
        auth.create_user("ada", PASSWORD, role="admin")
        db.session.commit()
        db.session.remove()


def _visits(tab):
    """Open every page in turn, logged in as the account that may see it; yield each URL."""
    for account, urls in PAGES_BY_ACCOUNT.items():
        tab.context.clear_cookies()
        if account:
            login(tab, account)
        for url in urls:
            tab.goto(url)
            yield account, url


def _overflow(tab) -> list[str]:
    """The document's width beyond the viewport, and the elements that stick out."""
    return tab.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            if (document.documentElement.scrollWidth <= width) return [];
            return [`document ${document.documentElement.scrollWidth}px > ${width}px`].concat(
                [...document.querySelectorAll('body *')]
                    .filter(el => el.getBoundingClientRect().right > width + 1)
                    .filter(el => !el.closest('.table-wrap, .visually-hidden, .skip-link'))
                    .slice(0, 5)
                    .map(el => el.tagName.toLowerCase() + '.' + el.className));
        }"""
    )


def _name(url: str) -> str:
    return url.strip("/").replace("/", "_").replace("?", "_").replace("&", "_") or "home"


def test_every_page_fits_the_screen(page, viewport, content) -> None:
    wide: list[str] = []
    for account, url in _visits(page):
        wide += [f"{url}: {problem}" for problem in _overflow(page)]
        screenshot(page, "layout", f"{account or 'anonymous'}-{_name(url)}", viewport)
    assert wide == [], "\n".join(wide)


@pytest.fixture
def phone_audit(browser, live_server, content):
    # axe is injected as a script, which the site's own policy rightly forbids.
    context = browser.new_context(
        bypass_csp=True, base_url=live_server.url, viewport=VIEWPORTS["phone"], locale="fr-FR"
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_no_serious_accessibility_problem_at_phone_width(phone_audit) -> None:
    tab = phone_audit
    problems: list[str] = []
    for _account, url in _visits(tab):
        tab.add_script_tag(content=AXE)
        result = tab.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        problems += [
            f"{url}: {v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
    assert problems == []


def test_the_menu_opens_without_javascript(browser, live_server) -> None:
    context = browser.new_context(
        java_script_enabled=False,
        viewport=VIEWPORTS["phone"],
        base_url=live_server.url,
        locale="fr-FR",
    )
    tab = context.new_page()
    tab.goto("/")
    link = tab.locator(".site-nav").get_by_role("link", name="Modifications récentes")
    assert not link.is_visible()
    header = tab.locator("header.site-header").bounding_box()
    assert header["height"] < 140
    tab.locator("label.menu-button").click()
    assert link.is_visible()
    context.close()


def test_search_results_come_before_the_filters_on_a_phone(page, viewport) -> None:
    page.goto("/search?q=cooperation")
    first_result = page.locator(".search-results li").first.bounding_box()
    assert first_result["y"] < VIEWPORTS[viewport]["height"]
