"""Media: uploads checked by content, versions, serving, embedding with credits."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image
from sqlalchemy import func, select

from commons import media, pages
from commons.errors import TooLarge, ValidationError
from commons.extensions import db
from commons.models import Media, MediaVersion


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def picture(fmt: str = "PNG", size: tuple[int, int] = (64, 48), color: str = "green") -> bytes:
    stream = io.BytesIO()
    Image.new("RGB", size, color).save(stream, fmt)
    return stream.getvalue()


def odt() -> bytes:
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr("mimetype", media.ODT.content_type)
        archive.writestr("content.xml", "<office:document-content/>")
    return stream.getvalue()


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (picture("PNG"), "image/png"),
        (picture("JPEG"), "image/jpeg"),
        (picture("WEBP"), "image/webp"),
        (picture("GIF"), "image/gif"),
        (b"%PDF-1.7\n...", "application/pdf"),
        (odt(), media.ODT.content_type),
        (b"Compte rendu de l'atelier\n", "text/plain; charset=utf-8"),
    ],
)
def test_accepted_types_are_recognised_by_content(member, data, content_type) -> None:
    version = media.upload(data, filename="Fichier Été.bin", author=member)
    assert version.content_type == content_type
    assert version.media.name.startswith("fichier-ete.")
    assert media.file_path(version.sha256).read_bytes() == data


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"#!/bin/sh\nrm -rf /\x00", "media_type_refused"),
        (b"\x89PNG\r\n\x1a\n<script>alert(1)</script>", "media_invalid"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "media_type_refused"),
        (b'<?xml version="1.0"?><svg><script>alert(1)</script></svg>', "media_type_refused"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "media_type_refused"),
        (b"", "media_empty"),
    ],
)
def test_refused_files_leave_nothing_behind(app, member, data, code) -> None:
    with pytest.raises(ValidationError) as refused:
        media.upload(data, filename="evil.png", author=member)
    assert refused.value.code == code
    assert Media.query.count() == 0 and MediaVersion.query.count() == 0
    assert not any(
        p.is_file() for p in (app.instance_path and media.file_path("00").parents[1]).rglob("*")
    )


def test_decompression_bombs_are_refused(member) -> None:
    bomb = picture("PNG", size=(8000, 6000), color="white")
    with pytest.raises(ValidationError) as refused:
        media.upload(bomb, filename="bomb.png", author=member)
    assert refused.value.code == "image_too_large"


def test_size_limit_gives_413(app, member) -> None:
    app.config["MAX_MEDIA_BYTES"] = 1000
    with pytest.raises(TooLarge):
        media.upload(b"x" * 1001, filename="big.txt", author=member)


def test_versions_keep_old_files_and_identical_files_are_stored_once(member) -> None:
    first = media.upload(picture(color="red"), filename="affiche.png", author=member)
    item = first.media
    second = media.upload(
        picture(color="blue"), filename="autre.png", author=member, replace=item, summary="v2"
    )
    assert second.number == 2 and item.current_version == second
    assert media.file_path(first.sha256).exists() and media.file_path(second.sha256).exists()
    copy = media.upload(picture(color="red"), filename="copie.png", author=member)
    assert copy.sha256 == first.sha256
    with pytest.raises(ValidationError):
        media.upload(b"%PDF-1.4", filename="x.pdf", author=member, replace=item)
    with pytest.raises(ValidationError):
        media.upload(picture(), filename="affiche.png", author=member)


def test_licences_are_checked_like_pages(member) -> None:
    with pytest.raises(ValidationError) as refused:
        media.upload(picture(), filename="nc.png", author=member, license="CC BY-NC 4.0")
    assert refused.value.code == "license_refused"


def test_upload_page_serving_and_thumbnail(client, auth, member) -> None:
    auth.login(member)
    response = client.post(
        "/media/upload",
        data={
            "file": (io.BytesIO(picture("JPEG", (900, 600))), "Atelier Rennes.jpg"),
            "title": "Atelier de Rennes",
            "creators": "Collectif Photo",
            "license": "CC-BY-4.0",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/media/atelier-rennes.jpg")
    page = client.get("/media/atelier-rennes.jpg").get_data(as_text=True)
    assert "Collectif Photo" in page and "CC BY 4.0" in page
    served = client.get("/media/atelier-rennes.jpg/file")
    assert served.mimetype == "image/jpeg" and served.headers["X-Content-Type-Options"] == "nosniff"
    thumb = client.get("/media/atelier-rennes.jpg/thumbnail")
    assert thumb.mimetype == "image/webp"
    assert Image.open(io.BytesIO(thumb.data)).width == media.THUMBNAIL_WIDTH
    versioned = client.get("/media/atelier-rennes.jpg/file?version=1")
    assert "immutable" in versioned.headers["Cache-Control"]


def test_documents_download_as_attachments(client, member) -> None:
    media.upload(b"%PDF-1.4 rapport", filename="rapport.pdf", author=member)
    served = client.get("/media/rapport.pdf/file")
    assert served.mimetype == "application/pdf"
    assert served.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in served.headers["Content-Security-Policy"]


def test_bad_upload_in_the_form_explains_and_stores_nothing(client, auth, member) -> None:
    auth.login(member)
    response = client.post(
        "/media/upload",
        data={"file": (io.BytesIO(b"<?php system($_GET['c']); ?>\x00"), "photo.png")},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert "not accepted" in response.get_data(as_text=True)
    assert _count(Media) == 0


def test_pages_embed_media_with_caption_and_credit(client, member) -> None:
    media.upload(
        picture(),
        filename="affiche.png",
        author=member,
        creators="Studio Graphique",
        license="CC0",
    )
    pages.save(
        None,
        title="Atelier",
        body="![Affiche de l'atelier](media:affiche.png)\n\n[[media:absente.png]]\n",
        author=member,
    )
    html = client.get("/wiki/atelier").get_data(as_text=True)
    assert '<img alt="Affiche de l\'atelier" src="/media/affiche.png/thumbnail">' in html.replace(
        "&#39;", "'"
    )
    assert "Studio Graphique" in html and "CC0 1.0" in html
    assert 'href="/media/upload?name=absente.png"' in html


def test_page_credits_list_the_media_it_shows(client, member) -> None:
    media.upload(picture(), filename="plan.png", author=member, creators="Atelier Carto")
    pages.save(None, title="Carte", body="![Le plan](media:plan.png)\n", author=member)
    html = client.get("/wiki/carte/credits").get_data(as_text=True)
    assert "Atelier Carto" in html and "/media/plan.png" in html
    data = client.get("/api/v1/pages/carte/credits").json
    assert data["media"][0]["authors"] == ["Atelier Carto"]


def test_media_api_upload_and_metadata(client, member) -> None:
    from commons import auth

    token = auth.create_token(member, "api")
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post(
        "/api/v1/media",
        data={
            "file": (io.BytesIO(picture()), "Affiche API.png"),
            "authors": "Studio Coop\nMarie",
            "license": "CC-BY-4.0",
            "source": "https://example.org/affiche",
            "description": "L'affiche du forum",
        },
        headers=headers,
    )
    assert response.status_code == 201, response.json
    assert response.json["name"] == "affiche-api.png"
    assert response.json["url"].endswith("/media/affiche-api.png")
    meta = client.get("/api/v1/media/affiche-api.png").json
    assert meta["authors"] == ["Studio Coop", "Marie"]
    assert meta["license"]["spdx"] == "CC-BY-4.0"
    assert meta["source"]["url"] == "https://example.org/affiche"
    assert meta["versions"][0]["content_type"] == "image/png"
    refused = client.post(
        "/api/v1/media",
        data={"file": (io.BytesIO(b"MZ\x90\x00"), "x.png")},
        headers=headers,
    )
    assert refused.status_code == 400
    assert refused.json["error"]["code"] == "media_type_refused"
    assert client.post("/api/v1/media", data={}).status_code == 401
    assert client.get("/api/v1/media/absent.png").status_code == 404
