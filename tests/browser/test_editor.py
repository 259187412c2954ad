"""The editor: live preview from the server, toolbar, and the conflict screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from commons import auth, pages, transaction
from commons.extensions import db

from .conftest import agree_to_the_license, login, screenshot


def test_live_preview_and_toolbar(page, viewport) -> None:
    login(page, "marie")
    page.goto("/wiki/brouillon-vivant/edit?kind=page")
    body = page.locator("textarea#body")
    body.fill("## Essai en direct\n\nVoir [[Bienvenue]].\n")
    preview = page.locator("#live-preview")
    expect(preview.locator("h2")).to_have_text("Essai en direct")
    expect(preview.locator("a.wikilink")).to_have_attribute("href", "/wiki/bienvenue")
    body.press("End")
    page.locator("button[data-md='bold']").click()
    assert "**" in body.input_value()
    screenshot(page, "editor", "live-preview", viewport)


def test_conflict_screen_keeps_both_versions(page, live_server, viewport) -> None:
    with live_server.app.app_context():
        author = auth.find_user("eddy")
        pages.save(None, title=f"Conflit {viewport}", body="Une ligne.\n", author=author)
        transaction.commit()
        db.session.remove()
    slug = f"conflit-{viewport}"
    login(page, "marie")
    page.goto(f"/wiki/{slug}/edit")
    with live_server.app.app_context():
        pages.save(slug, title=f"Conflit {viewport}", body="Leur ligne.\n",
                   author=auth.find_user("eddy"), base_revision=1)  # fmt: skip
        transaction.commit()
        db.session.remove()
    page.locator("textarea#body").fill("Ma ligne.\n")
    agree_to_the_license(page)
    page.locator("button[name=save]").click()
    expect(page.locator("#conflict")).to_be_visible()
    expect(page.locator("textarea#current-body")).to_have_value("Leur ligne.\n")
    expect(page.locator("textarea#body")).to_have_value("Ma ligne.\n")
    screenshot(page, "editor", "conflict", viewport)


def test_leaving_with_unsaved_changes_asks_first(page) -> None:
    login(page, "marie")
    page.goto("/wiki/bienvenue/edit")
    page.locator("textarea#body").fill("changé\n")
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    with pytest.raises(PlaywrightError, match="ERR_ABORTED"):
        page.goto("/")  # dismissing the question keeps the editor open
    assert asked == ["beforeunload"]
    expect(page.locator("textarea#body")).to_have_value("changé\n")
