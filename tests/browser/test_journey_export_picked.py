"""Exporting pages picked from search results: tick, 'export the picked pages', download."""

from __future__ import annotations

import json
import zipfile

from playwright.sync_api import expect

from .conftest import screenshot


def test_pages_picked_in_search_results_are_exported(page, viewport, tmp_path) -> None:
    page.goto("/search?q=epicerie")
    results = page.locator("ol.results > li")
    expect(results.first).to_be_visible()
    titles = [results.nth(i).locator("h3").inner_text() for i in range(2)]
    for i in range(2):
        results.nth(i).get_by_text("Choisir pour l’export").click()
    page.get_by_role("button", name="Exporter les pages choisies").click()

    expect(page.locator("#scope-pages")).to_be_checked()
    expect(page.locator(".picked-pages input:checked")).to_have_count(2)
    screenshot(page, "export-picked", "form", viewport)
    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger le paquet").click()
    bundle = tmp_path / "picked.zip"
    download.value.save_as(bundle)
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert sorted(item["title"] for item in manifest["pages"]) == sorted(titles)
