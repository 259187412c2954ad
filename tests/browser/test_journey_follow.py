"""Journey: follow a page, another member edits it, the mail arrives, its link opens the diff."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from commons import auth, jobs
from commons.extensions import db

from .conftest import agree_to_the_license, login, screenshot


def test_follow_a_page_and_open_the_diff_from_the_mail(
    browser, live_server, page, viewport, smtp_server
) -> None:
    url, mailbox = smtp_server
    app = live_server.app
    app.config.update(SMTP_URL=url, NOTIFICATION_DELAY=0)
    with app.app_context():
        auth.find_user("marie").email = "marie@example.org"
        db.session.commit()

    login(page, "marie")
    page.goto("/wiki/bienvenue")
    page.get_by_role("button", name="Suivre", exact=True).click()
    expect(page.get_by_role("button", name="Ne plus suivre")).to_be_visible()
    screenshot(page, "follow", "following", viewport)

    other = browser.new_context(base_url=live_server.url)
    editor = other.new_page()
    login(editor, "eddy")
    editor.goto("/wiki/bienvenue/edit")
    body = editor.locator("textarea#body")
    body.fill(body.input_value() + f"\nUne phrase ajoutée ({viewport}).\n")
    agree_to_the_license(editor)
    editor.locator("button[name=save]").click()
    expect(editor).to_have_url(re.compile(r"/wiki/bienvenue"))
    other.close()

    with app.app_context():
        assert jobs.wait(30)
    [message] = [m for m in mailbox.messages if m["To"] == "marie@example.org"]
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"(http://127\.0\.0\.1:\d+/wiki/bienvenue/diff\?\S+)", text).group(1)
    page.goto(link)
    expect(page.locator("h1")).to_contain_text("Modifications entre")
    expect(page.locator("main")).to_contain_text(f"Une phrase ajoutée ({viewport})")
    screenshot(page, "follow", "diff", viewport)
    page.goto("/wiki/bienvenue")
    page.get_by_role("button", name="Ne plus suivre").click()
