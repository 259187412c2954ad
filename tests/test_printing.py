"""Pages and booklets as PDF: text, TASL lines, credits, pictures from the store only."""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
from pathlib import Path

import pypdf
import pytest

from commons import media, moderation, pages, printing
from tests.conftest import english
from tests.test_media import picture

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, whitespace collapsed (hyphenation may cut words)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


@pytest.fixture
def guide(app, member, editor):
    """A page with a picture, an external link, a declared source and a co-author."""
    media.upload(picture(), filename="affiche.png", author=member, creators="Atelier Carto")
    pages.save(
        None,
        title="Coopérer vraiment",
        body=(
            "## Pourquoi\n\nVoir [le réseau](https://reseau.example.org/guide) : c'est utile !\n\n"
            "![Affiche de l'atelier](media:affiche.png)\n"
        ),
        author=member,
        tags="coopération",
        coauthors="Camille Dupont",
        source={
            "title": "Guide d'origine",
            "authors": ["Réseau Sud"],
            "url": "https://sud.example.org/guide",
            "license": "CC-BY-4.0",
        },
    )
    pages.save(
        "cooperer-vraiment",
        title="Coopérer vraiment",
        body="## Pourquoi\n\nUne deuxième version.\n\n![Affiche de l'atelier](media:affiche.png)\n",
        author=editor,
        tags="coopération",
        base_revision=1,
    )
    return "cooperer-vraiment"


def test_a_page_prints_with_its_tasl_line_credits_and_picture(client, guide) -> None:
    response = english(client).get(f"/wiki/{guide}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "commons-cooperer-vraiment-" in disposition
    text = pdf_text(response.data)
    assert "Coopérer vraiment" in text and "Une deuxième version." in text
    # The TASL line: title, authors, source (the revision's permanent address), licence.
    assert "Authors marie, Camille Dupont, eddy" in text
    assert "http://localhost/wiki/cooperer-vraiment?rev=2" in text.replace("- ", "-")
    assert "Licence CC BY-SA 4.0" in text
    # The credits: co-author, declared source with its licence's name, the picture.
    assert "Camille Dupont — co-author" in text
    assert "Adapted from “Guide d'origine” by Réseau Sud (CC BY 4.0)" in text
    assert "Atelier Carto — CC BY-SA 4.0" in text
    assert "https://creativecommons.org/licenses/by-sa/4.0/" in text
    assert "1 / 2" in text or "1 / 1" in text
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    assert any(page.images for page in reader.pages), "the picture is printed"


def test_links_keep_their_address_as_a_footnote(client, app, member) -> None:
    body = "Lire [le guide](https://guide.example.org/a)."
    pages.save(None, title="Liens", body=body, author=member)
    first_page = pypdf.PdfReader(io.BytesIO(client.get("/wiki/liens.pdf").data)).pages[0]
    # At the foot of the page that shows the link, not pushed to the end of the document.
    assert "1. https://guide.example.org/a" in first_page.extract_text()


def test_french_typography_gets_its_no_break_spaces() -> None:
    html = printing.french_spacing(
        '<p>« Bonjour » : ça va ? <a href="https://x.org/?a=1">lien</a></p><code>a : b ?</code>'
    )
    assert "«\u202fBonjour\u202f»\u00a0: ça va\u202f?" in html
    assert 'href="https://x.org/?a=1"' in html and "<code>a : b ?</code>" in html


def test_printing_never_reaches_the_network(client, app, member, monkeypatch) -> None:
    pages.save(
        None,
        title="Image externe",
        body="![distante](https://images.example.org/x.png)\n\n![locale](/static/favicon.svg)\n",
        author=member,
    )
    tried = []

    def no_network(self, address):  # noqa: ANN001, ANN202 - socket's signature
        tried.append(address)
        raise OSError("no network in tests")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    response = client.get("/wiki/image-externe.pdf")
    assert response.status_code == 200 and tried == []
    assert "Image externe" in pdf_text(response.data)


def test_the_api_prints_a_page_and_refuses_a_missing_one(client, guide) -> None:
    response = client.get(f"/api/v1/pages/{guide}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    missing = client.get("/api/v1/pages/absente.pdf")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    assert client.get("/wiki/absente.pdf").status_code == 404


def test_a_hidden_revision_prints_without_its_text(client, app, member, admin) -> None:
    saved = pages.save(None, title="Contacts", body="Téléphone secret 0601", author=member)
    moderation.set_revision_hidden(saved.revision, True, author=admin)
    text = pdf_text(english(client).get("/wiki/contacts.pdf").data)
    assert "0601" not in text and "has been hidden" in text


def test_a_booklet_has_a_cover_contents_pages_and_every_credit(client, guide, member) -> None:
    pages.save(
        None,
        title="Autre fiche",
        body="Texte.",
        author=member,
        tags="coopération",
        license="CC0-1.0",
    )
    response = english(client).post(
        "/export", data={"scope": "tag", "tag": "coopération", "format": "pdf"}
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "commons-cooperation-" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    assert "Pages tagged coopération" in text and "Printed on" in text
    assert "Contents" in text
    for title in ("Autre fiche", "Coopérer vraiment"):
        assert text.count(title) >= 4, title  # contents, page, running head, credits
    assert "Camille Dupont — co-author" in text and "Réseau Sud" in text
    assert "Atelier Carto" in text
    assert "CC0 1.0 — Creative Commons Zero" in text and "CC BY-SA 4.0 — Creative" in text


def test_the_api_gives_a_booklet_of_a_search_or_a_kind(client, guide) -> None:
    response = client.post("/api/v1/export", json={"kind": "page", "format": "pdf"})
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    assert "Coopérer vraiment" in pdf_text(response.data)
    bundle = client.post("/api/v1/export", json={"kind": "page"})
    assert bundle.mimetype == "application/zip"


def test_a_booklet_too_large_is_refused_with_a_clear_message(client, app, guide, member) -> None:
    pages.save(None, title="Deuxième", body="Texte.", author=member)
    app.config["MAX_BOOKLET_PAGES"] = 1
    response = english(client).post("/api/v1/export", json={"all": True, "format": "pdf"})
    assert response.status_code == 413
    assert "at most 1 pages" in response.json["error"]["message"]


@pytest.mark.slow
def test_first_pages_of_a_booklet_as_pictures(client, guide) -> None:
    """Writes test-artifacts/booklet-*.png to look at the layout."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (Debian's poppler-utils) is missing: no pictures of the PDF")
    response = client.post("/api/v1/export", json={"tag": "coopération", "format": "pdf"})
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = ARTIFACTS / "booklet.pdf"
    pdf.write_bytes(response.data)
    pictures = ARTIFACTS / "booklet"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "4", str(pdf), str(pictures)],
        check=True,
        timeout=60,
    )
    assert sorted(ARTIFACTS.glob("booklet-*.png"))


def test_listings_and_searches_lead_to_the_booklet_button(client, guide) -> None:
    listing = english(client).get("/tag/coopération").get_data(as_text=True)
    assert 'href="/export?tag=coop%C3%A9ration"' in listing
    found = english(client).get("/search?q=cooperer").get_data(as_text=True)
    assert 'href="/export?q=cooperer"' in found
    form = english(client).get("/export?tag=coopération").get_data(as_text=True)
    assert 'name="format" value="pdf"' in form and "Booklet (PDF)" in form
    page = english(client).get(f"/wiki/{guide}").get_data(as_text=True)
    assert f'href="/wiki/{guide}.pdf"' in page


def test_a_booklet_of_pages_chosen_one_by_one_keeps_their_order(client, guide, member) -> None:
    pages.save(None, title="Première fiche", body="Texte.", author=member)
    chosen = "premiere-fiche\ncooperer-vraiment\n"
    response = english(client).post(
        "/export", data={"scope": "pages", "pages": chosen, "format": "pdf"}
    )
    assert response.status_code == 200
    assert "commons-selection-2-" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    assert text.index("Première fiche") < text.index("Coopérer vraiment")
    api = client.post("/api/v1/export", json={"pages": ["cooperer-vraiment"], "format": "pdf"})
    assert api.status_code == 200
    missing = english(client).post("/api/v1/export", json={"pages": ["absente"]})
    assert missing.status_code == 404 and "absente" in missing.json["error"]["message"]
    refused = client.post("/api/v1/export", json={"pages": [1, 2]})
    assert refused.status_code == 400 and refused.json["error"]["code"] == "selection_invalid"
