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

    if viewport == "phone":  # the filters follow the results, folded
        page.locator("aside.facets summary").click()
    page.locator("aside.facets a[href*='kind=tool']").first.click()
    expect(page).to_have_url(re.compile(r"kind=tool"))
    expect(page.locator(".active-filters")).to_be_visible()
    badges = page.locator("ol.results > li .meta")
    expect(badges.first).to_be_visible()
    for badge in badges.all():
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


def test_a_typo_that_finds_nothing_is_corrected(page) -> None:
    page.goto("/search?q=epicrie+solidaire")
    expect(page.locator("p.notice[role=status]")).to_contain_text(
        re.compile(r"résultats pour «\s*epicerie solidaire\s*»")
    )
    expect(page.locator("ol.results > li h3").first).to_have_text(
        "Épicerie solidaire en circuits courts"
    )


def test_a_typo_beside_known_words_gets_a_did_you_mean(page) -> None:
    page.goto("/search?q=epicrie+OR+solidaire")
    suggestion = page.locator("p.suggestion a")
    expect(suggestion).to_have_text("epicerie OR solidaire")
    suggestion.click()
    expect(page).to_have_url(re.compile(r"q=epicerie\+OR\+solidaire"))
    expect(page.locator("ol.results > li").first).to_be_visible()
    expect(page.locator("p.suggestion")).to_have_count(0)
