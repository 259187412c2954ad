"""Journey 2: a newcomer searches without accents, filters, opens a tool and its credits."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import screenshot


def test_newcomer_finds_a_tool_and_its_credits(page, viewport: str) -> None:
    page.goto("/")
    search = page.locator("form[role=search] input[name=q]").first
    search.fill("outils cooperation")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=outils"))
    results = page.locator("ol.results > li")
    expect(results.first).to_be_visible()
    expect(page.locator("ol.results")).to_contain_text("Outils d'animation de la coopération")
    expect(page.locator("ol.results mark").first).to_be_visible()
    screenshot(page, "search", "results", viewport)

    page.locator("aside.facets a[href*='kind=tool']").first.click()
    expect(page).to_have_url(re.compile(r"kind=tool"))
    expect(page.locator(".active-filters")).to_be_visible()
    for badge in page.locator("ol.results > li .meta").all():
        expect(badge).to_contain_text("Outil")
    screenshot(page, "search", "filtered", viewport)

    page.locator("ol.results > li h3 a").first.click()
    expect(page.locator("h1")).to_contain_text("Outils")
    expect(page.locator("section.tasl")).to_contain_text("CC BY-SA 4.0")
    page.locator("section.page-actions a[href$='/credits']").click()
    expect(page.locator("h1")).to_contain_text("Crédits")
    expect(page.locator("table.credits")).to_contain_text("Équipe commons")
    expect(page.locator("svg.chart-svg")).to_be_visible()
    screenshot(page, "search", "credits", viewport)


def test_a_typo_gets_a_did_you_mean(page) -> None:
    page.goto("/search?q=epicrie+solidaire")
    suggestion = page.locator("a[href*='/search?q=']", has_text="épicerie")
    expect(suggestion.or_(page.locator("ol.results"))).to_be_visible()
