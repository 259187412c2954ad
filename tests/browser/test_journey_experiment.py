"""Journey 1: a member documents an experiment from its template, previews it and saves it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import agree_to_the_license, login, screenshot


def test_member_documents_an_experiment(page, viewport: str) -> None:
    login(page, "marie")
    page.goto("/new")
    title = f"Repair café itinérant ({viewport})"
    page.fill("#field-title", title)
    page.check("#kind-experiment")
    page.locator("form.new-form button[type=submit]").click()

    body = page.locator("textarea#body")
    expect(body).to_contain_text("## ")
    template = body.input_value()
    for section in ("Contexte", "Objectif", "Étapes", "Ressources", "Résultats", "Contacts"):
        assert section in template or section.lower() in template.lower()
    screenshot(page, "experiment", "template", viewport)

    body.fill(
        "## Contexte\n\nUn café réparation qui tourne entre trois villages.\n\n"
        "## Étapes\n\n- [x] trouver des bénévoles\n- [ ] réserver les salles\n\n"
        "Voir aussi [[Outils d'animation de la coopération]].\n"
    )
    page.fill("#field-tags", "réparation, ruralité")
    page.fill("#field-summary", "Première version")
    page.locator("button[name=preview]").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("Un café réparation qui tourne")
    expect(preview.locator("a.wikilink")).to_have_attribute(
        "href", "/wiki/outils-d-animation-de-la-cooperation"
    )
    screenshot(page, "experiment", "preview", viewport)

    agree_to_the_license(page)
    page.locator("button[name=save]").click()
    expect(page).to_have_url(re.compile(r"/wiki/repair-cafe-itinerant"))
    expect(page.locator("h1")).to_contain_text("Repair café itinérant")
    expect(page.locator("main")).to_contain_text("CC BY-SA 4.0")
    expect(page.locator("input[type=checkbox][disabled]")).to_have_count(2)
    screenshot(page, "experiment", "saved", viewport)

    page.goto(page.url.split("?")[0] + "/history")
    expect(page.locator("main")).to_contain_text("Première version")
    expect(page.locator("main")).to_contain_text("marie")
