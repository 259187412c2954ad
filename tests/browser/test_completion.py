"""Completion as you type: titles and tags under the search box, tags in the tag field,
titles after "[[" in the editor; the keyboard is enough."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import login, screenshot


def test_the_search_box_suggests_titles_then_tags(page, viewport) -> None:
    page.goto("/")
    box = page.locator("form[role=search] input[name=q]").first
    box.press_sequentially("fin")
    options = page.locator(".suggestions [role=option]")
    expect(options.first).to_be_visible()
    labels = options.all_inner_texts()
    assert labels[0] == "Synthèse de l'atelier : financer les tiers-lieux"
    assert labels[-2:] == ["#financement", "#finances"]
    screenshot(page, "completion", "search", viewport)
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", re.compile(r"-0$"))
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/wiki/"))


def test_the_editor_completes_tags_and_links(page, viewport) -> None:
    login(page, "marie")
    page.goto("/wiki/brouillon-complete/edit?kind=page")
    tags = page.locator("input[name=tags]")
    tags.press_sequentially("tiers, financ")
    expect(page.locator(".suggestions [role=option]").first).to_have_text("#financement")
    tags.press("ArrowDown")
    tags.press("Enter")
    expect(tags).to_have_value("tiers, financement, ")

    body = page.locator("textarea#body")
    body.fill("Voir ")
    body.press("End")
    body.press_sequentially("[[outils d'ani")
    option = page.locator(".suggestions [role=option]").first
    expect(option).to_have_text("Outils d'animation de la coopération")
    screenshot(page, "completion", "editor-link", viewport)
    option.click()
    expect(body).to_have_value("Voir [[Outils d'animation de la coopération]]")
