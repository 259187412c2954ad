"""Pictures from the editor: picked, dropped or pasted, uploaded through a small dialog
(author and licence remembered), and their reference inserted at the cursor."""

from __future__ import annotations

import base64
import io
import re

from PIL import Image
from playwright.sync_api import expect

from .conftest import login, screenshot


def _png(colour: str) -> bytes:
    picture = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(picture, "PNG")
    return picture.getvalue()


def test_a_picked_then_a_dropped_picture_are_uploaded_and_inserted(page, viewport) -> None:
    login(page, "marie")
    page.goto(f"/wiki/atelier-photos-{viewport}/edit?kind=page")
    body = page.locator("textarea#body")
    body.fill("Avant.\n")
    body.press("End")

    page.get_by_role("button", name="Ajouter une image ou un fichier").click()
    dialog = page.locator("dialog.upload-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("#upload-file").set_input_files(
        {"name": f"affiche-{viewport}.png", "mimeType": "image/png", "buffer": _png("red")}
    )
    expect(dialog.locator("#upload-caption")).to_have_value(f"affiche {viewport}")
    dialog.locator("#upload-caption").fill("L'affiche")
    dialog.locator("#upload-authors").fill("Studio Graphique")
    dialog.locator("#upload-license").select_option("CC-BY-4.0")
    screenshot(page, "pictures", "dialog", viewport)
    dialog.get_by_role("button", name="Envoyer et insérer").click()
    expect(dialog).to_be_hidden()
    expect(body).to_have_value(f"Avant.\n\n![L'affiche](media:affiche-{viewport}.png)\n")

    body.press("Control+Home")
    page.evaluate(
        """data => {
            const bytes = Uint8Array.from(atob(data.png), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], data.name, {type: 'image/png'}));
            document.querySelector('textarea#body').dispatchEvent(
                new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }""",
        {"png": base64.b64encode(_png("blue")).decode(), "name": f"plan-{viewport}.png"},
    )
    expect(dialog).to_be_visible()
    expect(dialog.locator("#upload-authors")).to_have_value("Studio Graphique")
    expect(dialog.locator("#upload-license")).to_have_value("CC-BY-4.0")
    dialog.get_by_role("button", name="Envoyer et insérer").click()
    expect(body).to_have_value(
        re.compile(rf"^!\[plan {viewport}\]\(media:plan-{viewport}\.png\)\n\nAvant\.")
    )

    page.goto(f"/media/plan-{viewport}.png")
    expect(page.locator("main")).to_contain_text("Studio Graphique")
    expect(page.locator("main")).to_contain_text("CC BY 4.0")
