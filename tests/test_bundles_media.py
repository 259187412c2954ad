"""Bundles carry the media their pages show: export with files and credits, standalone pages
showing the bundled pictures, import checked like uploads, conflicts, round trips."""

from __future__ import annotations

import copy
import io
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import current_app
from PIL import Image
from sqlalchemy import func, select

from commons import bundles, integrity, media, page_queries, pages, rendered, serialize, transaction
from commons import search as search_service
from commons.errors import CommonsError, TooLarge, ValidationError
from commons.extensions import db
from commons.models import Media, MediaVersion

from . import test_bundles
from .test_bundles import (
    BASE,
    BODY,
    bearer,
    bundle_of,
    counts,
    digest,
    export,
    members,
    minimal_manifest,
)

# Fixtures shared with the other bundle tests.
changed = test_bundles.changed

# --- helpers -------------------------------------------------------------------------------------


def picture(color: str = "green", size: tuple[int, int] = (64, 48)) -> bytes:
    stream = io.BytesIO()
    Image.new("RGB", size, color).save(stream, "PNG")
    return stream.getvalue()


PDF = b"%PDF-1.4\n% rapport de l'atelier\n"
RED, BLUE, OLD = picture("red"), picture("blue"), picture("gray")


def sample(member, editor) -> None:
    """A page showing a picture with two versions and a document; an older text showed a
    third picture."""
    first = media.upload(
        RED,
        filename="Affiche.png",
        author=member,
        title="Affiche de l'atelier",
        description="L'affiche du forum.",
        license="CC-BY-4.0",
        source={"title": "Maquette", "authors": "Studio Coop", "url": "https://example.net/m"},
        creators="Studio Graphique",
        summary="première affiche",
    )
    media.upload(
        BLUE,
        filename="affiche.png",
        author=editor,
        license="CC-BY-SA-4.0",
        creators="Atelier Couleur",
        summary="en bleu",
        replace=first.media,
    )
    media.upload(PDF, filename="rapport.pdf", author=member, license="CC0-1.0")
    media.upload(OLD, filename="ancien.png", author=member)
    page = pages.save(
        None, title="Atelier", body="![Ancienne](media:ancien.png)\n", author=editor
    ).page
    pages.save(
        page.slug,
        title="Atelier",
        body="![Affiche du forum](media:affiche.png)\n\nLire [[media:rapport.pdf|le rapport]].\n",
        base_revision=1,
        author=member,
    )


def media_counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(Media.id))),
        db.session.scalar(select(func.count(MediaVersion.id))),
    )


def stored_files() -> list[Path]:
    """Files in the media folder (thumbnails aside)."""
    folder = Path(current_app.config["MEDIA_DIR"])
    return [path for path in folder.rglob("*") if path.is_file() and "thumbnails" not in path.parts]


def media_snapshot() -> dict[str, Any]:
    """Everything a round trip must keep of each media, files included, in plain data."""
    result = {}
    for item in db.session.scalars(select(Media)):
        result[item.name] = {
            "kind": item.kind,
            "title": item.title,
            "description": item.description,
            "license": item.license,
            "source": item.source,
            "versions": [
                {
                    "number": version.number,
                    "sha256": version.sha256,
                    "bytes": media.file_path(version.sha256).read_bytes(),
                    "content_type": version.content_type,
                    "size": (version.size, version.width, version.height),
                    "license": version.license,
                    "summary": version.summary,
                    "author": version.author_name,
                    "creators": version.creators,
                    "date": version.created_at,
                }
                for version in media.versions(item)
            ],
        }
    return result


def media_entry(data: bytes = RED, name: str = "affiche.png", **changes: Any) -> dict[str, Any]:
    """A media entry as another commons would write it, its one file ``data``."""
    extension = name.rsplit(".", 1)[-1]
    entry = {
        "name": name,
        "kind": "image",
        "title": "Affiche",
        "description": "",
        "license": "CC-BY-4.0",
        "source": None,
        "url": f"https://ailleurs.example/media/{name}",
        "version": 1,
        "versions": [
            {
                "number": 1,
                "sha256": digest(data),
                "size": len(data),
                "license": "CC-BY-4.0",
                "summary": "",
                "author": "Camille",
                "creators": ["Studio"],
                "date": "2024-03-01T10:00:00Z",
                "path": f"media/{name}/1.{extension}",
            }
        ],
    }
    entry.update(changes)
    return entry


def bundle_with_media(
    entry: dict[str, Any], files: dict[str, bytes] | None = None, body: str = BODY
) -> bytes:
    """The minimal bundle, whose page shows the media of ``entry``, with its files."""
    manifest = minimal_manifest()
    page = manifest["pages"][0]
    page["revisions"][0].update(sha256=digest(body), size=len(body.encode()))
    manifest["media"] = [entry]
    if files is None:
        files = {entry["versions"][0]["path"]: RED}
    return bundle_of(manifest, {"pages/outil.md": body, **files})


class _Elements(HTMLParser):
    """Every start tag of a document, with its attributes, and the text of each figure."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.figures: list[str] = []
        self._figure: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "figure":
            self._figure = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure" and self._figure is not None:
            self.figures.append(" ".join("".join(self._figure).split()))
            self._figure = None

    def handle_data(self, data: str) -> None:
        if self._figure is not None:
            self._figure.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [
            found
            for name, found in self.tags
            if name == tag and all(found.get(key) == value for key, value in attrs.items())
        ]


def parse(html: bytes) -> _Elements:
    parser = _Elements()
    parser.feed(html.decode("utf-8"))
    return parser


# --- export --------------------------------------------------------------------------------------


def test_export_with_history_carries_every_version_of_every_media_shown(
    app, member, editor
) -> None:
    sample(member, editor)
    files = members(export(bundles.Selection(everything=True, history=True)))
    manifest = json.loads(files["manifest.json"])
    by_name = {item["name"]: item for item in manifest["media"]}
    # The older text showed ancien.png: with the history, it travels too.
    assert sorted(by_name) == ["affiche.png", "ancien.png", "rapport.pdf"]
    (page,) = manifest["pages"]
    assert page["media"] == ["affiche.png", "rapport.pdf"]
    poster = by_name["affiche.png"]
    assert poster["title"] == "Affiche de l'atelier" and poster["kind"] == "image"
    assert poster["description"] == "L'affiche du forum."
    assert poster["license"] == "CC-BY-SA-4.0" and poster["version"] == 2
    assert poster["source"]["authors"] == ["Studio Coop"]
    assert poster["url"] == f"{BASE}media/affiche.png"
    assert poster["authors"] == ["Atelier Couleur", "Studio Graphique"]
    first, second = poster["versions"]
    assert first["path"] == "media/affiche.png/1.png" and files[first["path"]] == RED
    assert second["path"] == "media/affiche.png/2.png" and files[second["path"]] == BLUE
    assert (first["sha256"], first["size"]) == (digest(RED), len(RED))
    assert (first["license"], first["author"], first["author_kind"]) == (
        "CC-BY-4.0",
        "marie",
        "account",
    )
    assert first["creators"] == ["Studio Graphique"] and first["summary"] == "première affiche"
    assert (first["width"], first["height"], first["content_type"]) == (64, 48, "image/png")
    assert second["author"] == "eddy" and second["date"].endswith("Z")
    document = by_name["rapport.pdf"]
    assert document["kind"] == "document" and files["media/rapport.pdf/1.pdf"] == PDF
    # Every licence a page or a file uses travels with its legal text.
    assert {"licenses/CC-BY-4.0.txt", "licenses/CC0-1.0.txt"} <= set(files)
    credits_md = files["CREDITS.md"].decode()
    tail = credits_md.split("Affiche de l'atelier", 1)[1]
    for expected in ("media/affiche.png/2.png", "Atelier Couleur, Studio Graphique", "Maquette"):
        assert expected in tail
    assert f"{BASE}media/affiche.png" in tail and "CC BY-SA 4.0" in tail
    index = parse(files["index.html"])
    assert index.find("a", href="media/affiche.png/2.png")
    assert index.find("a", href="media/rapport.pdf/1.pdf")


def test_the_manifest_describes_files_as_the_api_does(client, member, editor) -> None:
    sample(member, editor)
    files = members(export(bundles.Selection(everything=True, history=True)))
    manifest = json.loads(files["manifest.json"])
    shared = ("number", "sha256", "size", "content_type", "width", "height", "summary")
    for entry in manifest["media"]:
        api = client.get(f"/api/v1/media/{entry['name']}").json
        for key in ("name", "kind", "title", "description", "source", "authors"):
            assert entry[key] == api[key]
        assert entry["license"] == api["license"]["spdx"]
        bundled = [{key: version[key] for key in shared} for version in entry["versions"]]
        given = [{key: version[key] for key in shared} for version in api["versions"][::-1]]
        assert bundled == given


def test_export_without_history_carries_the_current_files_only(app, member, editor) -> None:
    sample(member, editor)
    files = members(export(bundles.Selection(slug="atelier")))
    manifest = json.loads(files["manifest.json"])
    assert [item["name"] for item in manifest["media"]] == ["affiche.png", "rapport.pdf"]
    (current,) = manifest["media"][0]["versions"]
    assert current["number"] == 2 and current["path"] == "media/affiche.png/2.png"
    assert sorted(name for name in files if name.startswith("media/")) == [
        "media/affiche.png/2.png",
        "media/rapport.pdf/1.pdf",
    ]


def test_export_refuses_a_missing_file_clearly(app, member, editor) -> None:
    sample(member, editor)
    media.file_path(digest(BLUE)).unlink()
    with pytest.raises(CommonsError) as caught:
        export(bundles.Selection(slug="atelier"))
    assert caught.value.code == "media_file_missing" and "affiche.png" in str(caught.value.message)


def test_bundle_page_shows_the_bundled_pictures_with_their_credits(app, member, editor) -> None:
    sample(member, editor)
    pages.save(None, title="Ailleurs", body="[[media:absente.png]] et [[Atelier]]", author=member)
    files = members(export(bundles.Selection(everything=True)))
    html = parse(files["pages/atelier.html"])
    (policy,) = html.find("meta", **{"http-equiv": "Content-Security-Policy"})
    assert "img-src 'self'" in (policy["content"] or "")
    (image,) = html.find("img")
    assert image == {"alt": "Affiche du forum", "src": "../media/affiche.png/2.png"}
    # Each link or picture of a media resolves, from pages/, to a file of the zip.
    for found in html.find("img") + html.find("a"):
        target = found.get("src") or found.get("href") or ""
        if target.startswith("../media/"):
            assert target.removeprefix("../") in files, target
    assert html.find("a", href="../media/affiche.png/2.png")
    assert html.find("a", **{"class": "media-link", "href": "../media/rapport.pdf/1.pdf"})
    (figure,) = html.figures
    assert figure.startswith("Affiche du forum")
    assert "Atelier Couleur, Studio Graphique" in figure and "CC BY-SA 4.0" in figure
    text = files["pages/atelier.html"].decode()
    assert "Affiche de l'atelier" in text.replace("&#39;", "'")  # in the page's credits
    assert 'src="/' not in text and 'href="/' not in text
    elsewhere = parse(files["pages/ailleurs.html"])
    assert not elsewhere.find("img")  # a missing media is not a bundled file
    assert elsewhere.find("a", href="atelier.html")


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("write_batch", [bundles.importer.WRITE_BATCH, 1])
def test_round_trip_with_history_reproduces_the_media_and_their_figures(
    app, fresh_commons, member, editor, monkeypatch, write_batch
) -> None:
    # With a batch of one, every media is flushed and let go before the next is written.
    monkeypatch.setattr(bundles.importer, "WRITE_BATCH", write_batch)
    sample(member, editor)
    data = export(bundles.Selection(everything=True, history=True))
    expected = media_snapshot()
    with fresh_commons().app_context():
        report = bundles.import_bundle(io.BytesIO(data))
        got = media_snapshot()
        uploaders = {
            (version.media.name, version.author_id, version.origin)
            for version in db.session.scalars(select(MediaVersion))
        }
        page = page_queries.get("atelier")
        html = rendered.revision_view(page.current_revision).html
        page_credits = serialize.credits(page)["media"]
        found = [hit.name for hit in search_service.search("Studio Graphique").media]
        assert integrity.check() == []
    assert got == expected
    assert sorted(item.name for item in report.media_created) == sorted(expected)
    assert {item.name: item.versions for item in report.media_created}["affiche.png"] == 2
    # Imported uploaders are external authors, credited with where the file came from.
    assert uploaders == {(name, None, f"{BASE}media/{name}") for name in expected}
    figure = parse(html.encode()).figures[0]
    assert "Affiche du forum" in figure and "Atelier Couleur, Studio Graphique" in figure
    assert [item["name"] for item in page_credits] == ["affiche.png", "rapport.pdf"]
    assert found == ["affiche.png"]  # the index heard of the new files


def test_round_trip_without_history_keeps_the_current_file(
    app, fresh_commons, member, editor
) -> None:
    sample(member, editor)
    data = export(bundles.Selection(slug="atelier"))
    with fresh_commons().app_context():
        bundles.import_bundle(io.BytesIO(data))
        (version,) = media.versions(media.get("affiche.png"))
        file = media.file_path(version.sha256).read_bytes()
        assert media.find("ancien.png") is None
    assert (version.number, version.author_name, version.creators) == (
        1,
        "eddy",
        ["Atelier Couleur"],
    )
    assert file == BLUE and version.summary == "en bleu"


def test_an_older_bundle_without_media_still_imports(app) -> None:
    manifest = minimal_manifest()
    assert "media" not in manifest
    report = bundles.import_bundle(io.BytesIO(bundle_of(manifest)))
    assert [item.slug for item in report.created] == ["outil"]
    assert report.to_json()["media"] == {"created": [], "merged": [], "skipped": []}


# --- bad input -----------------------------------------------------------------------------------


def _script_as_png() -> bytes:
    script = b"#!/bin/sh\nrm -rf ~\n"
    return bundle_with_media(media_entry(script), {"media/affiche.png/1.png": script})


def _svg() -> bytes:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    entry = media_entry(svg, name="dessin.png")
    return bundle_with_media(entry, {"media/dessin.png/1.png": svg})


def _with_version(**changes: Any) -> bytes:
    entry = media_entry()
    entry["versions"][0].update(changes)
    return bundle_with_media(entry, {"media/affiche.png/1.png": RED})


def _bomb() -> bytes:
    bomb = picture("white", size=(8000, 6000))
    return bundle_with_media(media_entry(bomb), {"media/affiche.png/1.png": bomb})


def _twice() -> bytes:
    manifest = minimal_manifest()
    manifest["media"] = [media_entry(), copy.deepcopy(media_entry())]
    return bundle_of(manifest, {"pages/outil.md": BODY, "media/affiche.png/1.png": RED})


def _older_nc() -> bytes:
    """Two versions, the older one under a licence that cannot enter."""
    entry = media_entry(version=2)
    older = copy.deepcopy(entry["versions"][0])
    older.update(license="CC BY-NC 4.0")
    entry["versions"][0]["number"] = 2
    entry["versions"].insert(0, older)
    return bundle_with_media(entry)


BAD_MEDIA = {
    "wrong sha256": (
        lambda: _with_version(sha256=digest(BLUE)),
        "bundle_hash_mismatch",
        "media/affiche.png/1.png",
    ),
    "longer than declared": (
        lambda: _with_version(size=10),
        "bundle_hash_mismatch",
        "media/affiche.png/1.png",
    ),
    "script named png": (_script_as_png, "media_type_mismatch", "media/affiche.png/1.png"),
    "svg": (_svg, "media_type_refused", "dessin.png"),
    "damaged picture": (
        lambda: bundle_with_media(
            media_entry(b"\x89PNG\r\n\x1a\n<script>"),
            {"media/affiche.png/1.png": b"\x89PNG\r\n\x1a\n<script>"},
        ),
        "media_invalid",
        "media/affiche.png/1.png",
    ),
    "decompression bomb": (_bomb, "image_too_large", "media/affiche.png/1.png"),
    "missing member": (
        lambda: bundle_with_media(media_entry(), {}),
        "bundle_missing_file",
        "media/affiche.png/1.png",
    ),
    "unknown licence": (
        lambda: bundle_with_media(media_entry(license="Tous droits réservés")),
        "license_refused",
        "affiche.png",
    ),
    "non-commercial older version": (_older_nc, "license_refused", "affiche.png"),
    "parent path in manifest": (
        lambda: _with_version(path="media/../../etc/passwd"),
        "manifest_invalid",
        "path",
    ),
    "parent path in zip": (
        lambda: bundle_with_media(
            media_entry(), {"media/affiche.png/1.png": RED, "media/../../x.png": RED}
        ),
        "bundle_unsafe_path",
        "media/../../x.png",
    ),
    "invalid name": (
        lambda: bundle_with_media(media_entry(name="Affiche Été.png")),
        "media_name_invalid",
        "Affiche Été.png",
    ),
    "name of another type": (
        lambda: bundle_with_media(
            media_entry(name="affiche.pdf"), {"media/affiche.pdf/1.pdf": RED}
        ),
        "media_type_mismatch",
        "affiche.pdf",
    ),
    "unknown kind": (
        lambda: bundle_with_media(media_entry(kind="video")),
        "manifest_invalid",
        "video",
    ),
    "no author": (lambda: _with_version(author=" "), "manifest_invalid", "affiche.png"),
    "date without zone": (
        lambda: _with_version(date="2024-03-01T10:00:00"),
        "manifest_invalid",
        "date",
    ),
    "duplicate name": (_twice, "bundle_duplicate_media", "affiche.png"),
    "wrong current version": (
        lambda: bundle_with_media(media_entry(version=3)),
        "manifest_invalid",
        "version",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_MEDIA))
def test_bad_media_are_refused_and_change_nothing(app, editor, changed, case) -> None:
    build, code, where = BAD_MEDIA[case]
    with pytest.raises((ValidationError, TooLarge)) as caught:
        bundles.import_bundle(io.BytesIO(build()), importer=editor)
    assert caught.value.code == code
    assert where in str(caught.value.message)
    assert counts() == (0, 0) and media_counts() == (0, 0)
    assert stored_files() == [] and changed == []
    assert search_service.search("Affiche").media == []


def test_media_errors_name_the_media_and_the_version(app) -> None:
    with pytest.raises(ValidationError) as caught:
        bundles.import_bundle(io.BytesIO(_script_as_png()))
    message = str(caught.value.message)
    assert message.startswith("manifest.json, fichier 1 («\u00a0affiche.png\u00a0»)")
    assert "media/affiche.png/1.png" in message and "text/plain" in message


def test_a_file_over_the_media_limit_is_refused(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "MAX_MEDIA_BYTES", len(RED) - 1)
    with pytest.raises(TooLarge) as caught:
        bundles.import_bundle(io.BytesIO(bundle_with_media(media_entry())))
    assert caught.value.code == "media_too_large"
    assert "media/affiche.png/1.png" in str(caught.value.message)
    assert media_counts() == (0, 0) and stored_files() == []


def test_a_failure_after_the_files_are_written_removes_them(
    app,
    member,
    monkeypatch,
    changed,
) -> None:
    # The same picture uploaded here before: its file is shared and must stay.
    media.upload(BLUE, filename="local.png", author=member)
    transaction.commit()
    before = stored_files()
    entry = media_entry(version=2)
    second = copy.deepcopy(entry["versions"][0])
    second.update(number=2, sha256=digest(BLUE), size=len(BLUE), path="media/affiche.png/2.png")
    entry["versions"].append(second)
    data = bundle_with_media(
        entry, {"media/affiche.png/1.png": RED, "media/affiche.png/2.png": BLUE}
    )

    def failing(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(pages, "append_revision", failing)
    with pytest.raises(RuntimeError):
        bundles.import_bundle(io.BytesIO(data))
    assert media_counts() == (1, 1) and counts() == (0, 0)
    assert stored_files() == before and changed == []


# --- conflicts -----------------------------------------------------------------------------------


def _local_poster(member, data: bytes = BLUE, license: str = "CC-BY-4.0") -> Media:
    return media.upload(
        data, filename="affiche.png", author=member, title="Locale", license=license
    ).media


def test_the_same_file_is_skipped_whatever_the_choice(app, member) -> None:
    _local_poster(member, RED)
    report = bundles.import_bundle(
        io.BytesIO(bundle_with_media(media_entry())), on_conflict="merge"
    )
    assert [(i.name, i.reason) for i in report.media_skipped] == [("affiche.png", "identical")]
    assert media_counts() == (1, 1)


def test_an_existing_name_is_skipped_by_default(app, member) -> None:
    _local_poster(member)
    report = bundles.import_bundle(io.BytesIO(bundle_with_media(media_entry())))
    assert [(i.name, i.reason) for i in report.media_skipped] == [("affiche.png", "exists")]
    assert media.get("affiche.png").title == "Locale" and media_counts() == (1, 1)


def test_rename_imports_under_a_free_name_and_keeps_the_pages_references(app, member) -> None:
    _local_poster(member)
    media.upload(picture("yellow"), filename="affiche-2.png", author=member)
    body = "![Affiche](media:affiche.png)\n"
    report = bundles.import_bundle(
        io.BytesIO(bundle_with_media(media_entry(), body=body)), on_conflict="rename"
    )
    (created,) = report.media_created
    assert (created.name, created.original_name, created.versions) == (
        "affiche-3.png",
        "affiche.png",
        1,
    )
    imported = media.get("affiche-3.png")
    assert imported.title == "Affiche" and imported.current_version.author_name == "Camille"
    assert media.file_path(imported.current_version.sha256).read_bytes() == RED
    # The page's text is kept as it was written: it still names affiche.png.
    assert page_queries.get("outil").current_revision.body == body


def test_merge_adds_the_bundle_file_as_a_new_version(app, member) -> None:
    local = _local_poster(member)
    report = bundles.import_bundle(
        io.BytesIO(bundle_with_media(media_entry())), on_conflict="merge"
    )
    assert [(i.name, i.versions) for i in report.media_merged] == [("affiche.png", 1)]
    versions = media.versions(local)
    assert [v.number for v in versions] == [2, 1]
    added = versions[0]
    assert (added.author_id, added.author_name, added.creators) == (None, "Camille", ["Studio"])
    assert added.origin == "https://ailleurs.example/media/affiche.png"
    assert media.get("affiche.png").current_version.sha256 == digest(RED)
    assert media.get("affiche.png").title == "Locale"  # the metadata here stays


def test_merge_skips_a_file_whose_licence_cannot_follow(app, member) -> None:
    _local_poster(member, license="CC-BY-SA-4.0")
    entry = media_entry(license="CC0-1.0")
    report = bundles.import_bundle(io.BytesIO(bundle_with_media(entry)), on_conflict="merge")
    assert [(i.name, i.reason) for i in report.media_skipped] == [("affiche.png", "license")]
    assert [item.slug for item in report.created] == ["outil"] and media_counts() == (1, 1)


# --- web, API and command line -------------------------------------------------------------------


def test_api_export_and_import_carry_media(app, client, member, editor) -> None:
    sample(member, editor)
    response = client.post("/api/v1/export", json={"slug": "atelier", "history": True})
    assert response.status_code == 200
    data = response.get_data()
    assert members(data)["media/affiche.png/1.png"] == RED
    headers = {**bearer(editor), "Content-Type": "application/zip"}
    again = client.post("/api/v1/import?on_conflict=merge", data=data, headers=headers)
    assert again.status_code == 200
    assert again.json["media"]["skipped"] == [
        {"name": "affiche.png", "title": "Affiche de l'atelier", "reason": "identical"},
        {"name": "ancien.png", "title": "ancien.png", "reason": "identical"},
        {"name": "rapport.pdf", "title": "rapport.pdf", "reason": "identical"},
    ]
    bad = bundle_with_media(media_entry(license="CC BY-ND 4.0"))
    refused = client.post("/api/v1/import", data=bad, headers=headers)
    assert refused.status_code == 400 and refused.json["error"]["code"] == "license_refused"
    assert "affiche.png" in refused.json["error"]["message"]


def test_import_page_reports_the_media(client, auth, editor) -> None:
    auth.login(editor)
    upload = {"bundle": (io.BytesIO(bundle_with_media(media_entry())), "b.zip")}
    response = client.post("/import", data=upload, content_type="multipart/form-data")
    assert response.status_code == 200
    links = parse(response.get_data()).find("a", href="/media/affiche.png")
    assert links and media.get("affiche.png").current_version.author_name == "Camille"


def test_cli_export_then_import_with_media(runner, app, tmp_path, member, editor) -> None:
    sample(member, editor)
    db.session.commit()
    out = tmp_path / "atelier.zip"
    result = runner.invoke(args=["export", str(out), "--slug", "atelier", "--history"])
    assert result.exit_code == 0, result.output
    assert "media/affiche.png/2.png" in members(out.read_bytes())
    # Changed here since: the bundle's file is no longer the same.
    media.upload(
        picture("black"), filename="x.png", author=member, replace=media.get("affiche.png")
    )
    result = runner.invoke(args=["import", str(out), "--on-conflict", "rename"])
    assert result.exit_code == 0, result.output
    assert "affiche-2.png" in result.output and "rapport-2.pdf" not in result.output
    db.session.expire_all()
    assert media.get("affiche-2.png").version_count == 2
    bad = tmp_path / "faux.zip"
    bad.write_bytes(_svg())
    result = runner.invoke(args=["import", str(bad)])
    assert result.exit_code == 1 and "dessin.png" in result.output
