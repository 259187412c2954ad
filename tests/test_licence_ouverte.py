"""The Licence Ouverte 2.0 (Etalab): a page or media licence, a declared source of a
CC BY-SA page, its official text served and bundled, its name shown rather than its code."""

from __future__ import annotations

import io
import zipfile

import pytest

from commons import bundles, licenses, media, pages
from commons.errors import ValidationError
from tests.conftest import english
from tests.test_bundles import export
from tests.test_media import picture

PUBLIC_REPORT = {
    "title": "Rapport de l'Agence",
    "authors": ["Agence nationale de la cohésion des territoires"],
    "url": "https://agence.example.gouv.fr/rapport",
    "license": "Licence Ouverte 2.0",
}


def test_a_page_and_a_file_may_be_under_the_licence_ouverte(member) -> None:
    page = pages.save(None, title="Données", body="x", author=member, license="LO 2.0").page
    assert page.license == "etalab-2.0"
    version = media.upload(picture(), filename="carte.png", author=member, license="etalab-2.0")
    assert version.license == "etalab-2.0"


def test_a_by_sa_page_may_adapt_a_public_body_s_work(client, member) -> None:
    page = pages.save(
        None, title="Synthèse", body="Adapté.", author=member, source=PUBLIC_REPORT
    ).page
    assert page.license == "CC-BY-SA-4.0" and page.source["license"] == "etalab-2.0"
    html = english(client).get("/wiki/synthese").get_data(as_text=True)
    assert "(Licence Ouverte 2.0)" in html and "etalab-2.0" not in html.split("<main")[1]
    credits_page = english(client).get("/wiki/synthese/credits").get_data(as_text=True)
    assert "Licence Ouverte 2.0" in credits_page


def test_a_by_page_cannot_be_relicensed_to_the_licence_ouverte(app, member) -> None:
    page = pages.save(None, title="Outil", body="x", author=member, license="CC-BY-4.0").page
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(ValidationError) as refused:
            pages.save(page.slug, title="Outil", body="y", author=member, license="etalab-2.0")
        assert "CC BY 4.0 cannot move to Licence Ouverte 2.0" in str(refused.value.message)


def test_unknown_licences_are_told_the_allowed_ones_by_name(app) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(ValidationError) as refused:
            licenses.normalize("Licence maison")
        assert "Licence Ouverte 2.0" in str(refused.value.message)


def test_its_official_text_is_served_and_bundled(client, member) -> None:
    listing = client.get("/licenses").get_data(as_text=True)
    assert "Licence Ouverte 2.0" in listing
    text = client.get("/licenses/etalab-2.0").get_data(as_text=True)
    assert "LICENCE OUVERTE / OPEN LICENCE" in text and "Version 2.0" in text
    pages.save(None, title="Jeu de données", body="x", author=member, license="etalab-2.0")
    with zipfile.ZipFile(io.BytesIO(export(bundles.Selection(slug="jeu-de-donnees")))) as bundle:
        assert b"Licence Ouverte" in bundle.read("licenses/etalab-2.0.txt")
        assert "Licence Ouverte 2.0" in bundle.read("CREDITS.md").decode()


def test_the_editor_offers_it_by_name(client, auth, member) -> None:
    auth.login(member)
    form = english(client).get("/wiki/donnees/edit").get_data(as_text=True)
    assert 'value="etalab-2.0"' in form and "Licence Ouverte 2.0" in form
    # The source's licence is suggested by name, not by code.
    assert '<option value="Licence Ouverte 2.0">' in form
