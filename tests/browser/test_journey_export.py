"""Journey 3: a member exports a tag as a bundle and opens its index.html from disk."""

from __future__ import annotations

import zipfile

from playwright.sync_api import expect

from .conftest import login, screenshot


def test_member_exports_a_tag_and_reads_it_offline(page, browser, viewport, tmp_path) -> None:
    login(page, "marie")
    page.goto("/tags")
    page.locator("a.tag", has_text="tiers-lieux").first.click()
    page.goto("/export")
    page.check("#scope-tag")
    page.select_option("#field-tag", "tiers-lieux")
    screenshot(page, "export", "form", viewport)
    with page.expect_download() as download:
        page.locator("form.export-form button.button-primary").click()
    bundle = tmp_path / "bundle.zip"
    download.value.save_as(bundle)

    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        assert "manifest.json" in names and "index.html" in names and "CREDITS.md" in names
        archive.extractall(tmp_path / "bundle")

    offline = browser.new_context(viewport=page.viewport_size, offline=True)
    reader = offline.new_page()
    reader.goto((tmp_path / "bundle" / "index.html").as_uri())
    expect(reader.locator("body")).to_contain_text("Synthèse de l'atelier")
    screenshot(reader, "export", "index", viewport)
    reader.locator("a[href$='.html']", has_text="Synthèse").first.click()
    expect(reader.locator("body")).to_contain_text("CC BY-SA 4.0")
    expect(reader.locator("body")).to_contain_text("Équipe commons")
    screenshot(reader, "export", "page", viewport)
    offline.close()
