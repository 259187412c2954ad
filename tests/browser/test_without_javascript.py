"""Without JavaScript the wiki still works: reading, searching, editing with the plain form."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import PASSWORD, VIEWPORTS, agree_to_the_license


def test_read_search_and_edit_without_javascript(browser, live_server) -> None:
    context = browser.new_context(
        java_script_enabled=False, base_url=live_server.url, viewport=VIEWPORTS["desktop"]
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.goto("/")
    search = tab.locator("form[role=search] input[name=q]").first
    search.fill("epicerie")
    search.press("Enter")
    tab.locator("ol.results h3 a").first.click()
    expect(tab.locator("h1")).to_contain_text("Épicerie")

    tab.goto("/login")
    tab.fill("#field-name", "marie")
    tab.fill("#field-password", PASSWORD)
    tab.locator("form.auth-form button[type=submit]").click()
    tab.goto("/wiki/sans-script/edit?kind=page&title=Sans+script")
    tab.fill("textarea#body", "Écrit **sans JavaScript**.\n")
    tab.locator("button[name=preview]").click()
    expect(tab.locator("#preview")).to_contain_text("sans JavaScript")
    agree_to_the_license(tab)
    tab.locator("button[name=save]").click()
    expect(tab).to_have_url(re.compile(r"/wiki/sans-script"))
    expect(tab.locator("main strong")).to_have_text("sans JavaScript")
    context.close()
