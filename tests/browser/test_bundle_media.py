"""A bundle's page, opened from disk with its own Content-Security-Policy, shows its pictures."""

from __future__ import annotations

import io
import zipfile

from PIL import Image

from commons import auth, bundles, media, pages
from commons.extensions import db
from tests.conftest import make_app


def test_bundled_pictures_show_offline_under_the_page_policy(browser, tmp_path) -> None:
    app = make_app(tmp_path)
    bundle = tmp_path / "atelier.zip"
    with app.app_context():
        author = auth.create_user("marie", "correct horse battery", role="member")
        picture = io.BytesIO()
        Image.new("RGB", (64, 48), "red").save(picture, "PNG")
        media.upload(picture.getvalue(), filename="affiche.png", author=author)
        pages.save(None, title="Atelier", body="![Affiche](media:affiche.png)\n", author=author)
        with bundle.open("wb") as out:
            bundles.export_bundle(out, bundles.Selection(slug="atelier"))
        db.session.remove()
        db.engine.dispose()
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path / "bundle")
    offline = browser.new_context(offline=True)  # the page's own policy applies
    reader = offline.new_page()
    refused = []
    reader.on("console", lambda message: refused.append(message.text))
    reader.goto((tmp_path / "bundle" / "pages" / "atelier.html").as_uri())
    image = reader.locator("figure.media img")
    image.wait_for()
    reader.wait_for_function("document.querySelector('figure.media img').complete")
    width = image.evaluate("element => element.naturalWidth")
    offline.close()
    assert width == 64, refused
