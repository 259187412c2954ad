"""Imports obey the rules of a local save: licences revision by revision and version by
version, declared sources, size limits checked before reading, a streamed manifest, deleted
pages left deleted, and who imported what recorded. Every refusal stores nothing."""

from __future__ import annotations

import copy
import io
import tracemalloc
from typing import Any

import pytest
from sqlalchemy import func, select

from commons import bundles, media, page_moves, page_queries, pages, transaction
from commons.errors import TooLarge, ValidationError
from commons.extensions import db
from commons.models import Media, MediaVersion, Page, Revision

from .test_bundles import BODY, bearer, bundle_of, digest, minimal_manifest, zip_bytes
from .test_bundles_media import BLUE, RED, media_entry, stored_files

OLDER = "Première version.\n"
BY_SA_SOURCE = {"title": "Guide", "authors": ["Réseau X"], "license": "CC-BY-SA-4.0"}


def stored() -> tuple[int, ...]:
    """How many pages, revisions, media and media versions are stored."""
    return tuple(
        db.session.scalar(select(func.count(column)))
        for column in (Page.id, Revision.id, Media.id, MediaVersion.id)
    )


def two_revisions(first: str, current: str, *, history: bool = True) -> dict[str, Any]:
    """A page whose revision 1 is under ``first`` and whose current one under ``current``;
    with ``history`` the text of revision 1 travels too."""
    manifest = minimal_manifest(license=current, revision=2)
    page = manifest["pages"][0]
    older = {
        **copy.deepcopy(page["revisions"][0]),
        "license": first,
        "sha256": digest(OLDER),
        "size": len(OLDER.encode()),
        "path": "revisions/outil/1.md" if history else None,
    }
    current_revision = {**page["revisions"][0], "number": 2, "parent": 1, "action": "edit"}
    page["revisions"] = [older, current_revision]
    return manifest


def import_refused(data: bytes, error: type[Exception] = ValidationError, **options: Any) -> Any:
    """Import ``data``, which must be refused without storing anything; the error."""
    before, files_before = stored(), stored_files()
    with pytest.raises(error) as caught:
        bundles.import_bundle(io.BytesIO(data), **options)
    assert stored() == before and stored_files() == files_before
    return caught.value


@pytest.fixture
def local_page(editor) -> Page:
    """A page already here, so that refusals are seen to leave existing data alone."""
    return pages.save(None, title="Déjà là", body="Ici.\n", author=editor).page


# --- licences, revision by revision ----------------------------------------------------------


@pytest.mark.parametrize("history", [True, False], ids=["with-history", "current-text-only"])
@pytest.mark.parametrize(
    ("first", "current"),
    [("CC-BY-SA-4.0", "CC0-1.0"), ("CC-BY-SA-4.0", "CC-BY-4.0"), ("CC-BY-4.0", "CC0-1.0")],
)
def test_a_history_moving_away_from_by_sa_is_refused(app, local_page, first, current, history):
    files = {"pages/outil.md": BODY, "revisions/outil/1.md": OLDER}
    error = import_refused(bundle_of(two_revisions(first, current, history=history), files))
    assert error.code == "license_refused"
    assert "révision 2" in str(error.message) and "outil" in str(error.message)


def test_a_history_moving_towards_by_sa_keeps_each_revision_licence(app) -> None:
    manifest = two_revisions("CC0-1.0", "CC-BY-SA-4.0")
    files = {"pages/outil.md": BODY, "revisions/outil/1.md": OLDER}
    bundles.import_bundle(io.BytesIO(bundle_of(manifest, files)))
    page = page_queries.get("outil")
    assert [page_queries.get_revision(page, n).license for n in (1, 2)] == [
        "CC0-1.0",
        "CC-BY-SA-4.0",
    ]


def test_a_media_history_moving_away_from_by_sa_is_refused(app, local_page) -> None:
    entry = media_entry(BLUE, license="CC0-1.0", version=2)
    older = {**entry["versions"][0], "sha256": digest(RED), "size": len(RED)}
    older.update(license="CC-BY-SA-4.0", path="media/affiche.png/1.png")
    entry["versions"] = [
        older,
        {**entry["versions"][0], "number": 2, "path": "media/affiche.png/2.png"},
    ]
    manifest = minimal_manifest()
    manifest["media"] = [entry]
    files = {
        "pages/outil.md": BODY,
        "media/affiche.png/1.png": RED,
        "media/affiche.png/2.png": BLUE,
    }
    error = import_refused(bundle_of(manifest, files))
    assert error.code == "license_refused" and "version 2" in str(error.message)


# --- declared sources ---------------------------------------------------------------------------


@pytest.mark.parametrize("license_", ["CC0-1.0", "CC-BY-4.0"])
def test_an_imported_page_cannot_launder_its_by_sa_source(app, local_page, license_) -> None:
    manifest = minimal_manifest(license=license_, source=BY_SA_SOURCE)
    error = import_refused(bundle_of(manifest))
    assert error.code == "license_refused" and "CC BY-SA 4.0" in str(error.message)


def test_an_imported_by_sa_page_may_declare_a_by_sa_source(app) -> None:
    bundles.import_bundle(io.BytesIO(bundle_of(minimal_manifest(source=BY_SA_SOURCE))))
    assert page_queries.get("outil").source["license"] == "CC-BY-SA-4.0"


def test_an_imported_media_cannot_launder_its_by_sa_source(app, local_page) -> None:
    manifest = minimal_manifest()
    manifest["media"] = [media_entry(source=BY_SA_SOURCE)]  # the media is CC BY
    error = import_refused(
        bundle_of(manifest, {"pages/outil.md": BODY, "media/affiche.png/1.png": RED})
    )
    assert error.code == "license_refused"


def test_a_saved_page_cannot_launder_its_by_sa_source(app, editor) -> None:
    with pytest.raises(ValidationError) as caught:
        pages.save(
            None, title="Fiche", body="x", license="CC0-1.0", source=BY_SA_SOURCE, author=editor
        )
    assert caught.value.code == "license_refused" and page_queries.find("fiche") is None
    page = pages.save(None, title="Fiche", body="x", license="CC-BY-4.0", author=editor).page
    transaction.commit()
    with pytest.raises(ValidationError):
        pages.save("fiche", title="Fiche", body="y", source=BY_SA_SOURCE, author=editor)
    transaction.rollback()
    assert page_queries.get("fiche").source is None and page.revision_count == 1
    saved = pages.save(
        "fiche", title="Fiche", body="y", license="CC-BY-SA-4.0", source=BY_SA_SOURCE, author=editor
    )
    assert saved.page.license == "CC-BY-SA-4.0" and saved.page.source["license"] == "CC-BY-SA-4.0"


def test_an_uploaded_file_cannot_launder_its_by_sa_source(app, member) -> None:
    with pytest.raises(ValidationError) as caught:
        media.upload(RED, filename="a.png", author=member, license="CC0-1.0", source=BY_SA_SOURCE)
    assert caught.value.code == "license_refused" and stored()[2:] == (0, 0)


# --- sizes and the streamed manifest ------------------------------------------------------------


def refused_too_large_with_peak(data: bytes) -> tuple[Any, int]:
    """The import's TooLarge refusal of ``data`` and the peak memory it took to refuse."""
    tracemalloc.start()
    try:
        error = import_refused(data, TooLarge)
        return error, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_huge_manifest_is_refused_as_soon_as_it_lists_too_many_pages(app) -> None:
    """20 MB of empty pages: refused at the page past the limit, never held whole."""
    count = 20_000_000 // 3
    manifest = b'{"format": "commons-bundle", "version": 1, "pages": [' + b"{}," * count + b"{}]}"
    data = zip_bytes({"manifest.json": manifest})
    del manifest
    error, peak = refused_too_large_with_peak(data)
    assert error.code == "bundle_too_many_pages"
    assert str(app.config["MAX_BUNDLE_PAGES"]) in str(error.message)
    assert peak < 50_000_000


def test_a_page_with_too_many_revisions_is_refused_before_it_is_built(app, monkeypatch):
    """One page's entry is built whole when checked: its revisions are counted first."""
    monkeypatch.setitem(app.config, "MAX_BUNDLE_REVISIONS", 10_000)
    manifest = minimal_manifest()
    revision = manifest["pages"][0]["revisions"][0]
    manifest["pages"][0]["revisions"] = [revision] * 100_000
    data = bundle_of(manifest)
    error, peak = refused_too_large_with_peak(data)
    assert error.code == "bundle_too_many_revisions" and "10000" in str(error.message)
    assert peak < 50_000_000


def test_media_versions_count_with_the_revisions(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "MAX_BUNDLE_REVISIONS", 2)
    manifest = minimal_manifest()
    entry = media_entry()
    entry["versions"] = entry["versions"] * 2
    manifest["media"] = [entry]
    error = import_refused(bundle_of(manifest, {"pages/outil.md": BODY}), TooLarge)
    assert error.code == "bundle_too_many_revisions"


@pytest.mark.parametrize(
    ("declared", "sha256"),
    [(5_000, "0" * 64), (10, digest("x" * 10))],
    ids=["declared-by-the-manifest", "declared-by-the-zip"],
)
def test_an_oversized_text_is_refused_on_its_declared_size(app, monkeypatch, declared, sha256):
    """Refused with the size limit before being read: its hash is never computed, so a
    wrong one is not what is reported."""
    monkeypatch.setitem(app.config, "MAX_BODY_BYTES", 1_000)
    manifest = minimal_manifest()
    manifest["pages"][0]["revisions"][0].update(size=declared, sha256=sha256)
    error = import_refused(bundle_of(manifest, {"pages/outil.md": "x" * 5_000}), TooLarge)
    assert error.code == "body_too_large" and "1000" in str(error.message)


def test_an_oversized_media_file_is_refused_on_its_size_in_the_zip(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "MAX_MEDIA_BYTES", len(RED))
    manifest = minimal_manifest()
    manifest["media"] = [media_entry()]
    files = {"pages/outil.md": BODY, "media/affiche.png/1.png": RED + b"\0" * 100_000}
    error = import_refused(bundle_of(manifest, files), TooLarge)
    assert error.code == "media_too_large"


def test_a_manifest_nested_too_deeply_is_refused(app) -> None:
    nested = b'{"format": "commons-bundle", "version": 1, "pages": [' + b"[" * 10_000
    error = import_refused(zip_bytes({"manifest.json": nested + b"]" * 10_001 + b"}"}))
    assert error.code == "manifest_invalid" and "imbriqué" in str(error.message)


@pytest.mark.parametrize(
    ("manifest", "words"),
    [
        (b'{"format": "commons-bundle", "version": 1, "pages": [}', "JSON"),
        (b'{"format": "commons-bundle", "version": 1, "pages": ["\xff"]}', "UTF-8"),
        (b"[]", "objet"),
        (b'{"version": 1, "pages": [{}], "format": "autre"}', "autre"),
    ],
)
def test_a_broken_manifest_says_what_is_wrong(app, manifest, words) -> None:
    error = import_refused(zip_bytes({"manifest.json": manifest}))
    assert words in str(error.message)


# --- merging into a page deleted here ------------------------------------------------------------


def test_merge_into_a_page_deleted_here_leaves_it_deleted_and_says_so(app, editor) -> None:
    page = pages.save("outil", title="Outil", body="Ancien.\n", author=editor).page
    page_moves.delete(page, author=editor)
    before = stored()
    report = bundles.import_bundle(io.BytesIO(bundle_of(minimal_manifest())), on_conflict="merge")
    assert [(item.slug, item.reason) for item in report.skipped] == [("outil", "deleted")]
    assert report.merged == [] and stored() == before
    assert page_queries.get("outil", include_deleted=True).deleted


def test_the_import_form_reports_a_page_left_deleted(client, auth, editor) -> None:
    page = pages.save("outil", title="Outil", body="Ancien.\n", author=editor).page
    page_moves.delete(page, author=editor)
    auth.login(editor)
    upload = {
        "bundle": (io.BytesIO(bundle_of(minimal_manifest())), "b.zip"),
        "on_conflict": "merge",
    }
    response = client.post(
        "/import",
        data=upload,
        content_type="multipart/form-data",
        headers={"Accept-Language": "fr"},
    )
    assert response.status_code == 200
    assert "a été supprimée ici" in response.get_data(as_text=True)


# --- who imported what -------------------------------------------------------------------------


def test_imported_revisions_record_who_imported_them(app, client, editor) -> None:
    """Hidden revisions may come under any name: the importer is recorded on each revision."""
    manifest = two_revisions("CC-BY-SA-4.0", "CC-BY-SA-4.0")
    older = manifest["pages"][0]["revisions"][0]
    older.update(hidden=True, author="Quelqu’un d’autre")
    for key in ("sha256", "size", "path"):
        del older[key]
    bundles.import_bundle(io.BytesIO(bundle_of(manifest)), importer=editor)
    page = page_queries.get("outil")
    hidden = page_queries.get_revision(page, 1)
    assert hidden.hidden and hidden.author_name == "Quelqu’un d’autre"
    assert {rev.imported_by for rev in page_queries.history(page)} == {editor.name}
    listed = client.get("/api/v1/pages/outil/revisions", headers=bearer(editor)).get_json()
    assert {rev["imported_by"] for rev in listed["revisions"]} == {editor.name}
    assert f"par {editor.name}" in client.get(
        "/wiki/outil/history", headers={"Accept-Language": "fr"}
    ).get_data(as_text=True)


def test_local_saves_and_command_line_imports_record_no_importer(app, editor) -> None:
    bundles.import_bundle(io.BytesIO(bundle_of(minimal_manifest())))
    pages.save("outil", title="Outil", body="Suite.\n", author=editor)
    assert [rev.imported_by for rev in page_queries.history(page_queries.get("outil"))] == [
        None,
        None,
    ]


# --- text uploads ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        "\ufeff<html><script>alert(1)</script></html>",
        "\ufeff<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
        "<!-- note -->\n<svg onload='alert(1)'/>",
        "<!-- a --> <!-- b -->\n<!DOCTYPE html><p>x</p>",
        "\ufeff  <!-- note --><script>alert(1)</script>",
        "<!--" + "x" * 5_000 + "--><html>",
        "<?xml version='1.0'?><root/>",
    ],
    ids=[
        "bom-html",
        "bom-svg",
        "comment-svg",
        "comments-doctype",
        "bom-comment-script",
        "long-comment",
        "xml",
    ],
)
def test_markup_is_refused_as_text_whatever_precedes_it(app, member, data) -> None:
    with pytest.raises(ValidationError) as caught:
        media.upload(data.encode(), filename="note.txt", author=member)
    assert caught.value.code == "media_type_refused" and stored()[2:] == (0, 0)


@pytest.mark.parametrize("data", ["\ufeffBonjour.\n", "<3 merci\n", "a < b et c > d\n"])
def test_plain_text_is_still_accepted(app, member, data) -> None:
    version = media.upload(data.encode(), filename="note.txt", author=member)
    assert version.content_type == "text/plain; charset=utf-8"


def test_a_text_file_is_served_with_one_charset(app, client, member) -> None:
    media.upload(b"Compte rendu.\n", filename="note.txt", author=member)
    response = client.get("/media/note.txt/file")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
