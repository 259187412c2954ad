"""Bundles: export, the standalone files, import with conflicts, round trips, and every kind
of bad input refused with nothing stored."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import re
import warnings
import zipfile
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from commons import auth as auth_service
from commons import (
    bundles,
    credits,
    integrity,
    moderation,
    page_moves,
    page_queries,
    pages,
    transaction,
)
from commons.errors import CommonsError, NotFound, TooLarge, ValidationError
from commons.extensions import db
from commons.models import Page, Revision
from commons.serialize import credits as credits_json

BASE = "https://commons.example.org/"


# --- helpers -------------------------------------------------------------------------------------


def sample(editor, member, admin) -> None:
    """Pages with histories, co-authors, sources, a rename, a hidden and a deleted page."""
    tool = pages.save(
        None,
        title="Outils d'animation de la coopération",
        body="# Outils\n\nLe [[Photolangage]].\n",
        kind="tool",
        tags=["animation", "coopération"],
        license="CC-BY-4.0",
        attribution_parties=["Réseau de la coopération"],
        summary="première version",
        author=editor,
    ).page
    pages.save(
        tool.slug,
        title=tool.title,
        body="# Outils\n\nLe [[Photolangage]] et le [[Épicerie solidaire|cas de l'épicerie]].\n",
        kind="tool",
        tags=["animation", "coopération"],
        license="CC-BY-SA-4.0",
        summary="exemple ajouté",
        coauthors=["Atelier de Lyon"],
        base_revision=1,
        minor=True,
        author=member,
    )
    shop = pages.save(
        None,
        title="Épicerie solidaire",
        body="Données personnelles : 06 12 34 56 78\n",
        kind="experiment",
        tags=["alimentation"],
        source={
            "title": "Rapport sur les épiceries",
            "authors": "Réseau X, Bob",
            "url": "https://example.net/rapport",
            "license": "CC-BY-4.0",
        },
        author=member,
    ).page
    pages.save(
        shop.slug,
        title=shop.title,
        body="Une épicerie. Voir [[Outils d'animation de la coopération]] et [[Page absente]].\n",
        kind="experiment",
        tags=["alimentation"],
        base_revision=1,
        author=editor,
    )
    moderation.set_revision_hidden(page_queries.get_revision(shop, 1), True, author=admin)
    renamed = pages.save(
        None, title="Ancien titre", body="Synthèse.\n", kind="synthesis", author=editor
    ).page
    page_moves.rename(renamed, "Synthèse de l'atelier", author=editor)
    draft = pages.save(None, title="Brouillon", body="Brouillon.\n", author=member).page
    page_moves.delete(draft, author=editor)
    transaction.commit()


def export(selection: bundles.Selection, base_url: str | None = BASE) -> bytes:
    out = io.BytesIO()
    bundles.export_bundle(out, selection, base_url=base_url)
    return out.getvalue()


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zip_bytes(files: dict[str, bytes | str], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are written on purpose
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            for name, data in files.items() if isinstance(files, dict) else files:
                archive.writestr(name, data)
    return buffer.getvalue()


def digest(body: bytes | str) -> str:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return hashlib.sha256(data).hexdigest()


BODY = "Bonjour tout le monde.\n"


def minimal_manifest(**page_changes: Any) -> dict[str, Any]:
    """A valid one-page manifest, as another commons would write it."""
    page = {
        "slug": "outil",
        "title": "Outil",
        "kind": "tool",
        "tags": ["ess"],
        "license": "CC-BY-SA-4.0",
        "url": "https://ailleurs.example/wiki/outil",
        "revision": 1,
        "files": {"html": "pages/outil.html", "markdown": "pages/outil.md"},
        "revisions": [
            {
                "number": 1,
                "parent": None,
                "action": "create",
                "author": "Camille",
                "author_kind": "account",
                "coauthors": [],
                "date": "2024-03-01T10:00:00Z",
                "summary": "création",
                "sha256": digest(BODY),
                "size": len(BODY.encode()),
                "path": "pages/outil.md",
            }
        ],
    }
    page.update(page_changes)
    return {
        "format": "commons-bundle",
        "version": 1,
        "source": "https://ailleurs.example/",
        "pages": [page],
    }


def bundle_of(manifest: Any, files: dict[str, bytes | str] | None = None) -> bytes:
    content = files if files is not None else {"pages/outil.md": BODY}
    raw = manifest if isinstance(manifest, (bytes, str)) else json.dumps(manifest)
    return zip_bytes({**content, "manifest.json": raw})


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(Page.id))),
        db.session.scalar(select(func.count(Revision.id))),
    )


def snapshot() -> dict[str, Any]:
    """Everything a round trip must keep, page by page, in plain data."""
    result = {}
    for page in db.session.scalars(select(Page).where(Page.deleted.is_(False))):
        revisions = db.session.scalars(
            select(Revision).where(Revision.page_id == page.id).order_by(Revision.number)
        )
        result[page.slug] = {
            "title": page.title,
            "kind": page.kind,
            "tags": page.tag_names,
            "license": page.license,
            "source": page.source,
            "parties": page.attribution_parties,
            "revisions": [
                {
                    "number": rev.number,
                    "action": rev.action,
                    "title": rev.title,
                    "kind": rev.kind,
                    "tags": rev.tags,
                    "license": rev.license,
                    "author": rev.author_name,
                    "coauthors": rev.coauthors,
                    "summary": rev.summary,
                    "minor": rev.minor,
                    "date": rev.created_at,
                    "hidden": rev.hidden,
                    **({} if rev.hidden else {"body": rev.body, "sha256": rev.sha256}),
                }
                for rev in revisions
            ],
            "credits": [
                {key: c[key] for key in ("name", "edits", "first", "last", "role")}
                for c in credits_json(page)["contributors"]
            ],
            "origins": {c["name"]: c["origin"] for c in credits_json(page)["contributors"]},
        }
    return result


@pytest.fixture
def changed():
    """The revisions announced to listeners (the search index) during the test."""
    seen: list = []

    def receiver(sender, revisions):  # noqa: ANN001, ANN202 - blinker's signature
        seen.extend(revisions)

    with transaction.pages_changed.connected_to(receiver):
        yield seen


# --- export --------------------------------------------------------------------------------------


def test_export_holds_pages_credits_licences_and_history(app, editor, member, admin) -> None:
    sample(editor, member, admin)
    files = members(export(bundles.Selection(everything=True, history=True)))
    manifest = json.loads(files["manifest.json"])
    assert manifest["format"] == "commons-bundle" and manifest["version"] == 1
    assert manifest["source"] == BASE and manifest["history"] is True
    slugs = [p["slug"] for p in manifest["pages"]]
    assert "brouillon" not in slugs  # deleted pages stay home
    assert set(slugs) == {
        "outils-d-animation-de-la-cooperation",
        "epicerie-solidaire",
        "synthese-de-l-atelier",
    }
    tool = next(p for p in manifest["pages"] if p["kind"] == "tool")
    assert tool["license"] == "CC-BY-SA-4.0"
    assert tool["attribution_parties"] == ["Réseau de la coopération"]
    assert tool["url"] == BASE + "wiki/outils-d-animation-de-la-cooperation"
    first, second = tool["revisions"]
    assert first["license"] == "CC-BY-4.0" and first["parent"] is None
    assert first["path"] == "revisions/outils-d-animation-de-la-cooperation/1.md"
    assert second["parent"] == 1 and second["coauthors"] == ["Atelier de Lyon"]
    assert second["author"] == "marie" and second["author_kind"] == "account"
    assert second["path"] == tool["files"]["markdown"]
    assert second["date"].endswith("Z") and second["minor"] is True
    for revision in tool["revisions"]:
        assert digest(files[revision["path"]]) == revision["sha256"]
    assert {c["name"] for c in tool["contributors"]} == {"eddy", "marie", "Atelier de Lyon"}
    assert files["licenses/CC-BY-SA-4.0.txt"].startswith(b"Attribution-ShareAlike 4.0")
    assert "licenses/CC-BY-4.0.txt" in files  # an old revision's licence travels too
    credits_md = files["CREDITS.md"].decode()
    for name in ("eddy", "marie", "Atelier de Lyon", "Réseau de la coopération", "Bob"):
        assert name in credits_md
    index = files["index.html"].decode()
    assert 'href="pages/epicerie-solidaire.html"' in index and ">alimentation<" in index


def test_the_manifest_credits_contributors_as_the_api_does(client, editor, member, admin) -> None:
    sample(editor, member, admin)
    manifest = json.loads(members(export(bundles.Selection(everything=True)))["manifest.json"])

    def same_instants(people: list[dict]) -> list[dict]:
        # The bundle writes dates in UTC with a "Z", the API in ISO-8601: the same instants.
        return [
            {**p, **{key: datetime.fromisoformat(p[key]) for key in ("first", "last")}}
            for p in people
        ]

    for entry in manifest["pages"]:
        api = client.get(f"/api/v1/pages/{entry['slug']}/credits").json
        assert entry["contributors"] and entry["contributors"][0]["first"].endswith("Z")
        assert same_instants(entry["contributors"]) == same_instants(api["contributors"])
        assert (entry["title"], entry["license"]) == (api["title"], api["license"]["spdx"])


def test_standalone_page_links_inside_the_bundle_and_fetches_nothing(
    app, editor, member, admin
) -> None:
    sample(editor, member, admin)
    files = members(export(bundles.Selection(everything=True)))
    html = files["pages/epicerie-solidaire.html"].decode()
    assert 'href="outils-d-animation-de-la-cooperation.html"' in html
    assert f'href="{BASE}wiki/page-absente"' in html  # a page not in the bundle
    assert "/edit" not in html
    assert '<pre class="credit">' in html  # the suggested credit line wraps
    assert 'href="/' not in html and "<script" not in html and "src=" not in html
    assert "<style>" in html and 'rel="stylesheet"' not in html
    assert 'class="tasl"' in html and 'href="../licenses/CC-BY-SA-4.0.txt"' in html
    assert "Rapport sur les épiceries" in html and "Réseau X, Bob" in html
    assert files["pages/epicerie-solidaire.md"].decode().startswith("Une épicerie.")


def test_without_a_base_url_links_to_the_commons_become_text(app, editor) -> None:
    pages.save(None, title="Seule", body="Voir [[Ailleurs]].", author=editor)
    files = members(export(bundles.Selection(slug="seule"), base_url=None))
    assert json.loads(files["manifest.json"])["source"] is None
    assert "href=" not in files["pages/seule.html"].decode().split('class="page-body"')[1][:200]


def test_hidden_revisions_travel_without_their_text(app, editor, member, admin) -> None:
    sample(editor, member, admin)
    data = export(bundles.Selection(slug="epicerie-solidaire", history=True))
    assert b"06 12 34 56 78" not in b"".join(members(data).values())
    revisions = json.loads(members(data)["manifest.json"])["pages"][0]["revisions"]
    assert revisions[0]["hidden"] is True
    assert {"sha256", "size", "path"}.isdisjoint(revisions[0])
    assert revisions[0]["author"] == "marie"


def test_without_history_only_current_texts_travel(app, editor, member, admin) -> None:
    sample(editor, member, admin)
    files = members(export(bundles.Selection(tag="animation")))
    assert not [name for name in files if name.startswith("revisions/")]
    (page,) = json.loads(files["manifest.json"])["pages"]
    assert [("path" in rev) for rev in page["revisions"]] == [False, True]


def test_selections(app, editor, member, admin) -> None:
    sample(editor, member, admin)

    def slugs(selection: bundles.Selection) -> list[str]:
        return [slug for _id, slug in bundles.selected_pages(selection)]

    assert slugs(bundles.Selection(slug="epicerie-solidaire")) == ["epicerie-solidaire"]
    assert slugs(bundles.Selection(slug="ancien-titre")) == ["synthese-de-l-atelier"]
    assert slugs(bundles.Selection(kind="synthesis")) == ["synthese-de-l-atelier"]
    assert slugs(bundles.Selection(tag="Alimentation")) == ["epicerie-solidaire"]
    assert len(slugs(bundles.Selection(everything=True))) == 3
    # A search exports what the real search finds, most relevant first, within its filters.
    assert slugs(bundles.Selection(query="atelier")) == [
        "synthese-de-l-atelier",
        "outils-d-animation-de-la-cooperation",
    ]
    assert slugs(bundles.Selection(query="photolangage")) == [
        "outils-d-animation-de-la-cooperation"
    ]
    assert slugs(bundles.Selection(query="épicerie", kind="experiment")) == ["epicerie-solidaire"]
    assert slugs(bundles.Selection(query="épicerie", tag="animation")) == [
        "outils-d-animation-de-la-cooperation"
    ]
    with pytest.raises(NotFound):
        bundles.selected_pages(bundles.Selection(query="brouillon"))  # deleted
    with pytest.raises(ValidationError):
        bundles.selected_pages(bundles.Selection())
    with pytest.raises(NotFound):
        bundles.selected_pages(bundles.Selection(slug="brouillon"))
    with pytest.raises(NotFound):
        bundles.selected_pages(bundles.Selection(tag="inconnue"))
    with pytest.raises(ValidationError):
        bundles.selected_pages(bundles.Selection(kind="poème"))


def test_selection_from_a_form_keeps_the_chosen_scope() -> None:
    form = {"scope": "tag", "slug": "x", "tag": "ess", "kind": "tool", "history": "on"}
    assert bundles.Selection.from_mapping(form) == bundles.Selection(tag="ess", history=True)
    assert bundles.Selection.from_mapping({"all": True}).everything
    assert bundles.Selection.from_mapping({"q": "coop"}).query == "coop"
    with pytest.raises(ValidationError):
        bundles.Selection.from_mapping({"scope": "tout"})
    with pytest.raises(ValidationError):
        bundles.Selection.from_mapping({"slug": 3})


def test_pages_picked_from_a_list_or_a_search_are_exported(client, editor, member, admin) -> None:
    sample(editor, member, admin)
    picked = {
        "scope": "pages",
        "pages": ["epicerie-solidaire", "ancien-titre", "epicerie-solidaire"],
    }

    listing = client.get("/pages").get_data(as_text=True)
    results = client.get("/search?q=atelier").get_data(as_text=True)
    form = client.get("/export?pages=epicerie-solidaire&pages=ancien-titre").get_data(as_text=True)
    response = client.post("/export", data=picked)
    missing = client.post("/export", data={"scope": "pages", "pages": ["brouillon"]})

    assert 'name="pages" value="epicerie-solidaire"' in listing
    assert 'name="pages" value="synthese-de-l-atelier"' in results
    assert re.search(r'id="scope-pages" name="scope" value="pages" checked', form)
    assert 'value="synthese-de-l-atelier" id="picked-synthese-de-l-atelier" checked' in form
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert sorted(page["slug"] for page in manifest["pages"]) == [
        "epicerie-solidaire",
        "synthese-de-l-atelier",
    ]
    assert manifest["selection"]["pages"] == ["epicerie-solidaire", "ancien-titre"]
    assert missing.status_code == 404
    assert bundles.Selection.from_mapping({"pages": "x", "slug": "y", "scope": "pages"}) == (
        bundles.Selection(pages=("x",))
    )
    with pytest.raises(ValidationError):
        bundles.Selection.from_mapping({"pages": [3]})


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("write_batch", [bundles.importer.WRITE_BATCH, 1])
def test_round_trip_with_history_keeps_pages_bodies_metadata_and_credits(
    app, fresh_commons, editor, member, admin, monkeypatch, write_batch
) -> None:
    # With a batch of one, every page is flushed and let go before the next is written.
    monkeypatch.setattr(bundles.importer, "WRITE_BATCH", write_batch)
    sample(editor, member, admin)
    data = export(bundles.Selection(everything=True, history=True))
    expected = snapshot()
    with fresh_commons().app_context():
        report = bundles.import_bundle(io.BytesIO(data))
        got = snapshot()
        assert integrity.check() == []
    assert sorted(item.slug for item in report.created) == sorted(expected)
    assert report.revisions == 6
    for slug, page in expected.items():
        origins = got[slug].pop("origins")
        page.pop("origins")
        assert got[slug] == page, slug
        # Imported authors and co-authors are credited with where they came from.
        assert set(origins.values()) == {f"{BASE}wiki/{slug}"}


def test_round_trip_of_a_round_trip_keeps_the_first_origin(app, fresh_commons, editor) -> None:
    pages.save(None, title="Outil", body="v1", author=editor)
    first = export(bundles.Selection(everything=True, history=True))
    with fresh_commons().app_context():
        bundles.import_bundle(io.BytesIO(first))
        again = export(bundles.Selection(everything=True, history=True), "https://b.example/")
    (revision,) = json.loads(members(again)["manifest.json"])["pages"][0]["revisions"]
    assert revision["author_kind"] == "external" and revision["origin"] == f"{BASE}wiki/outil"


def test_import_without_history_credits_every_contributor(
    app, fresh_commons, editor, member, admin
) -> None:
    sample(editor, member, admin)
    data = export(bundles.Selection(everything=True))
    with fresh_commons().app_context():
        report = bundles.import_bundle(io.BytesIO(data))
        tool = page_queries.get("outils-d-animation-de-la-cooperation")
        (revision,) = page_queries.history(tool)
        names = {c.name for c in credits.contributors(tool)}
        shop = page_queries.get("epicerie-solidaire")
        shop_body = shop.current_revision.body
        assert integrity.check() == []
    # Only the current texts travelled; the shop's first revision is hidden, so it has no
    # text to give anyway, and its history comes whole.
    assert {item.slug: item.revisions for item in report.created} == {
        "outils-d-animation-de-la-cooperation": 1,
        "synthese-de-l-atelier": 1,
        "epicerie-solidaire": 2,
    }
    assert revision.action == "import" and revision.author_name == "marie"
    assert revision.coauthors == ["eddy", "Atelier de Lyon"]
    assert names == {"marie", "eddy", "Atelier de Lyon"}
    assert shop_body.startswith("Une épicerie.")


# --- conflicts -----------------------------------------------------------------------------------


def test_existing_pages_are_skipped_by_default(app, editor, changed) -> None:
    pages.save("outil", title="Outil local", body="ici", author=editor)
    transaction.commit()
    changed.clear()
    report = bundles.import_bundle(io.BytesIO(bundle_of(minimal_manifest())))
    assert [(i.slug, i.reason) for i in report.skipped] == [("outil", "exists")]
    assert page_queries.get("outil").current_revision.body == "ici" and changed == []


def test_rename_imports_under_the_next_free_address(app, editor) -> None:
    pages.save("outil", title="Outil local", body="ici", author=editor)
    pages.save("outil-2", title="Outil deux", body="là", author=editor)
    report = bundles.import_bundle(io.BytesIO(bundle_of(minimal_manifest())), on_conflict="rename")
    (created,) = report.created
    assert (created.slug, created.original_slug) == ("outil-3", "outil")
    page = page_queries.get("outil-3")
    assert page.current_revision.body == BODY and page.current_revision.author_name == "Camille"


def test_merge_adds_the_bundle_text_on_top_with_its_authors(app, editor, changed) -> None:
    pages.save("outil", title="Outil", body="ici", license="CC0-1.0", author=editor)
    transaction.commit()
    changed.clear()
    manifest = minimal_manifest()
    manifest["pages"][0]["revisions"][0]["coauthors"] = ["Atelier"]
    report = bundles.import_bundle(io.BytesIO(bundle_of(manifest)), on_conflict="merge")
    assert [item.slug for item in report.merged] == ["outil"]
    page = page_queries.get("outil")
    revision = page.current_revision
    assert (revision.number, revision.action, revision.body) == (2, "merge", BODY)
    assert revision.author_id is None and revision.author_name == "Camille"
    assert revision.origin == "https://ailleurs.example/wiki/outil"
    assert page.license == "CC-BY-SA-4.0"  # the more protective licence wins
    assert page.tag_names == ["ess"] and changed == [revision]
    again = bundles.import_bundle(io.BytesIO(bundle_of(manifest)), on_conflict="merge")
    assert [(i.slug, i.reason) for i in again.skipped] == [("outil", "identical")]


def test_merge_keeps_a_more_protective_local_licence(app, editor) -> None:
    pages.save("outil", title="Outil", body="ici", author=editor)
    manifest = minimal_manifest(license="CC0-1.0")
    bundles.import_bundle(io.BytesIO(bundle_of(manifest)), on_conflict="merge")
    assert page_queries.get("outil").license == "CC-BY-SA-4.0"


def test_a_hidden_current_text_arrives_hidden_and_is_never_merged(app, editor) -> None:
    manifest = minimal_manifest(files={"html": "pages/outil.html", "markdown": None})
    revision = manifest["pages"][0]["revisions"][0]
    for key in ("sha256", "size", "path"):
        del revision[key]
    revision["hidden"] = True
    report = bundles.import_bundle(io.BytesIO(bundle_of(manifest, {})))
    current = page_queries.get("outil").current_revision
    assert report.created[0].revisions == 1 and current.hidden and current.body == ""
    merged = bundles.import_bundle(io.BytesIO(bundle_of(manifest, {})), on_conflict="merge")
    assert [(i.slug, i.reason) for i in merged.skipped] == [("outil", "hidden")]
    assert integrity.check() == []


def test_unknown_conflict_choice_is_refused(app) -> None:
    with pytest.raises(ValidationError):
        bundles.import_bundle(io.BytesIO(bundle_of(minimal_manifest())), on_conflict="replace")


def test_members_cannot_import(app, member) -> None:
    with pytest.raises(CommonsError) as caught:
        bundles.import_bundle(io.BytesIO(bundle_of(minimal_manifest())), importer=member)
    assert caught.value.status == 403 and counts() == (0, 0)


# --- bad input -----------------------------------------------------------------------------------


def _manifest_with(path: str, value: Any) -> dict[str, Any]:
    """The minimal manifest with one field changed, by a path like "pages.0.slug"."""
    manifest = minimal_manifest()
    target: Any = manifest
    *parents, last = path.split(".")
    for key in parents:
        target = target[int(key) if key.isdigit() else key]
    if value is KeyError:
        del target[int(last) if last.isdigit() else last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return manifest


def _with_body(body: bytes) -> bytes:
    """A bundle whose text is ``body``, with the right hash and size."""
    manifest = minimal_manifest()
    manifest["pages"][0]["revisions"][0].update(sha256=digest(body), size=len(body))
    return bundle_of(manifest, {"pages/outil.md": body})


def _twice(**second: Any) -> dict[str, Any]:
    """The minimal manifest with its page listed twice, the second changed by ``second``."""
    manifest = minimal_manifest()
    manifest["pages"].append({**copy.deepcopy(manifest["pages"][0]), **second})
    return manifest


REVISION = "pages.0.revisions.0"

BAD_BUNDLES = {
    "not a zip": (lambda: b"PK pas vraiment un zip", "bundle_not_zip", None),
    "empty file": (lambda: b"", "bundle_not_zip", None),
    "no manifest": (lambda: zip_bytes({"pages/outil.md": BODY}), "manifest_missing", None),
    "manifest not json": (lambda: bundle_of('{"format": '), "manifest_invalid", "manifest.json"),
    "manifest not utf-8": (lambda: bundle_of(b"\xff\xfe{}"), "manifest_invalid", "manifest.json"),
    "manifest not an object": (lambda: bundle_of("[]"), "manifest_invalid", "manifest.json"),
    "unknown format": (
        lambda: bundle_of(_manifest_with("format", "zip-wiki")),
        "bundle_format",
        "zip-wiki",
    ),
    "unknown version": (lambda: bundle_of(_manifest_with("version", 2)), "bundle_version", "2"),
    "no pages": (lambda: bundle_of(_manifest_with("pages", [])), "manifest_invalid", "pages"),
    "absolute path": (
        lambda: bundle_of(minimal_manifest(), {"pages/outil.md": BODY, "/etc/cron.d/x": "x"}),
        "bundle_unsafe_path",
        "/etc/cron.d/x",
    ),
    "parent path": (
        lambda: bundle_of(minimal_manifest(), {"pages/outil.md": BODY, "pages/../../x": "x"}),
        "bundle_unsafe_path",
        "pages/../../x",
    ),
    "windows path": (
        lambda: bundle_of(minimal_manifest(), {"pages/outil.md": BODY, "..\\x.md": "x"}),
        "bundle_unsafe_path",
        "x.md",
    ),
    "drive path": (
        lambda: bundle_of(minimal_manifest(), {"pages/outil.md": BODY, "C:/x.md": "x"}),
        "bundle_unsafe_path",
        "C:/x.md",
    ),
    "manifest points outside": (
        lambda: bundle_of(_manifest_with(f"{REVISION}.path", "../outil.md")),
        "manifest_invalid",
        "path",
    ),
    "duplicate member": (
        lambda: zip_bytes(
            [
                ("pages/outil.md", BODY),
                ("pages/outil.md", "autre"),
                ("manifest.json", json.dumps(minimal_manifest())),
            ]
        ),
        "bundle_duplicate_file",
        "pages/outil.md",
    ),
    "sha256 mismatch": (
        lambda: bundle_of(minimal_manifest(), {"pages/outil.md": BODY.replace("B", "b")}),
        "bundle_hash_mismatch",
        "pages/outil.md",
    ),
    "size mismatch": (
        lambda: bundle_of(_manifest_with(f"{REVISION}.size", 3)),
        "bundle_hash_mismatch",
        "pages/outil.md",
    ),
    "missing body": (lambda: bundle_of(minimal_manifest(), {}), "bundle_missing_file", "outil.md"),
    "body not utf-8": (lambda: _with_body(b"\xff"), "bundle_encoding", "pages/outil.md"),
    "non-commercial licence": (
        lambda: bundle_of(minimal_manifest(license="CC BY-NC-SA 4.0")),
        "license_refused",
        "outil",
    ),
    "all rights reserved": (
        lambda: bundle_of(minimal_manifest(license="Tous droits réservés")),
        "license_refused",
        "outil",
    ),
    "no licence": (lambda: bundle_of(minimal_manifest(license="")), "license_missing", "outil"),
    "source under a refused licence": (
        lambda: bundle_of(minimal_manifest(source={"title": "Livre", "license": "CC BY-ND 4.0"})),
        "license_refused",
        "outil",
    ),
    "invalid slug": (
        lambda: bundle_of(minimal_manifest(slug="Pas Un Slug")),
        "slug_invalid",
        "Pas Un Slug",
    ),
    "empty title": (lambda: bundle_of(minimal_manifest(title="  ")), "title_required", "outil"),
    "unknown kind": (lambda: bundle_of(minimal_manifest(kind="poème")), "kind_invalid", "outil"),
    "duplicate page": (lambda: bundle_of(_twice()), "bundle_duplicate_page", "outil"),
    "revision gap": (
        lambda: bundle_of(_manifest_with(f"{REVISION}.number", 2)),
        "manifest_invalid",
        "outil",
    ),
    "wrong current revision": (
        lambda: bundle_of(minimal_manifest(revision=4)),
        "manifest_invalid",
        "outil",
    ),
    "bad date": (
        lambda: bundle_of(_manifest_with(f"{REVISION}.date", "hier")),
        "manifest_invalid",
        "date",
    ),
    "date without zone": (
        lambda: bundle_of(_manifest_with(f"{REVISION}.date", "2024-03-01T10:00:00")),
        "manifest_invalid",
        "date",
    ),
    "no author": (
        lambda: bundle_of(_manifest_with(f"{REVISION}.author", KeyError)),
        "manifest_invalid",
        "author",
    ),
    "bad sha256": (
        lambda: bundle_of(_manifest_with(f"{REVISION}.sha256", "abc")),
        "manifest_invalid",
        "sha256",
    ),
    "bad origin": (
        lambda: bundle_of(_manifest_with(f"{REVISION}.origin", "javascript:alert(1)")),
        "manifest_invalid",
        "origin",
    ),
    "unknown action": (
        lambda: bundle_of(_manifest_with(f"{REVISION}.action", "explode")),
        "manifest_invalid",
        "explode",
    ),
    "damaged member": (
        lambda: bundle_of(minimal_manifest()).replace(
            zlib_compressed(BODY), b"\x00" * len(zlib_compressed(BODY))
        ),
        "bundle_damaged",
        "pages/outil.md",
    ),
}


def zlib_compressed(text: str) -> bytes:
    """The raw deflate stream zipfile writes for ``text`` (to corrupt it in place)."""
    import zlib

    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return compressor.compress(text.encode()) + compressor.flush()


@pytest.mark.parametrize("case", sorted(BAD_BUNDLES))
def test_bad_bundles_are_refused_and_change_nothing(app, editor, changed, case) -> None:
    build, code, where = BAD_BUNDLES[case]
    with pytest.raises((ValidationError, TooLarge)) as caught:
        bundles.import_bundle(io.BytesIO(build()), importer=editor)
    assert caught.value.code == code
    if where:
        assert where in str(caught.value.message)
    assert counts() == (0, 0) and changed == []


def test_a_bad_page_after_good_ones_stores_nothing(app, changed) -> None:
    manifest = _twice(slug="autre", files={"markdown": "pages/autre.md"})
    manifest["pages"][1]["revisions"][0]["path"] = "pages/autre.md"
    data = bundle_of(manifest, {"pages/outil.md": BODY, "pages/autre.md": "falsifié"})
    with pytest.raises(ValidationError) as caught:
        bundles.import_bundle(io.BytesIO(data))
    assert "pages/autre.md" in str(caught.value.message) and "autre" in str(caught.value.message)
    assert counts() == (0, 0) and changed == []


def test_a_failure_while_writing_rolls_everything_back(app, monkeypatch, changed) -> None:
    manifest = _twice(slug="autre")
    written = []
    original = pages.append_revision

    def failing(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if written:
            raise RuntimeError("disk full")
        written.append(original(*args, **kwargs))
        return written[-1]

    monkeypatch.setattr(pages, "append_revision", failing)
    with pytest.raises(RuntimeError):
        bundles.import_bundle(io.BytesIO(bundle_of(manifest)))
    assert written and counts() == (0, 0) and changed == []


@pytest.mark.parametrize(
    ("setting", "value", "code"),
    [
        ("MAX_BUNDLE_PAGES", 1, "bundle_too_many_pages"),
        ("MAX_BUNDLE_MEMBERS", 1, "bundle_too_many_files"),
        ("MAX_BUNDLE_BYTES", 100, "bundle_too_large"),
        ("MAX_BUNDLE_MEMBER_BYTES", 20, "bundle_member_too_large"),
        ("MAX_BUNDLE_TOTAL_BYTES", 600, "bundle_total_too_large"),
        ("MAX_BODY_BYTES", 5, "body_too_large"),
    ],
)
def test_limits_are_enforced(app, monkeypatch, setting, value, code) -> None:
    manifest = _twice(slug="autre")
    monkeypatch.setitem(app.config, setting, value)
    with pytest.raises((ValidationError, TooLarge)) as caught:
        bundles.import_bundle(io.BytesIO(bundle_of(manifest)))
    assert caught.value.code == code and counts() == (0, 0)


def test_a_zip_bomb_is_stopped_before_it_is_expanded(app, monkeypatch) -> None:
    bomb = "\n" * 30_000_000  # 30 MB that deflate turns into about 30 KB
    manifest = _manifest_with(f"{REVISION}.sha256", digest(bomb))
    manifest["pages"][0]["revisions"][0]["size"] = len(bomb)
    data = bundle_of(manifest, {"pages/outil.md": bomb})
    assert len(data) < 100_000
    monkeypatch.setitem(app.config, "MAX_BUNDLE_MEMBER_BYTES", 1_000_000)
    with pytest.raises(TooLarge) as caught:
        bundles.import_bundle(io.BytesIO(data))
    assert "pages/outil.md" in str(caught.value.message) and counts() == (0, 0)


def test_reading_stops_at_the_limit_even_when_the_zip_lies(app) -> None:
    """Declared sizes are checked first; what actually comes out is counted as it comes."""
    data = zip_bytes({"big.md": "x" * 1_000_000})
    archive = bundles.archive.Archive(io.BytesIO(data), bundles.Limits.from_config())
    archive.limits = bundles.Limits(10**9, 100_000, 10**9, 10, 10)
    with pytest.raises(TooLarge):
        archive.read("big.md")
    assert archive.spent <= 100_000 + bundles.CHUNK
    archive.close()


@pytest.mark.parametrize(
    "name",
    ["/abs", "a/../b", "..", "C:/x", "a\\b", "a\x00b", ""],
)
def test_unsafe_member_names(name) -> None:
    assert bundles.unsafe_member_name(name)


@pytest.mark.parametrize("name", ["manifest.json", "pages/a-b.md", "revisions/x/12.md", "a..b"])
def test_safe_member_names(name) -> None:
    assert not bundles.unsafe_member_name(name)


# --- HTML pages ----------------------------------------------------------------------------------


def test_export_form_and_download(client, editor) -> None:
    pages.save(None, title="Outil", body="Texte", tags=["ess"], author=editor)
    form = client.get("/export?slug=outil")
    assert form.status_code == 200
    text = form.get_data(as_text=True)
    assert 'value="outil"' in text and 'id="scope-page" name="scope" value="page" checked' in text
    by_tag = client.get("/export?tag=ess").get_data(as_text=True)
    assert 'value="tag" checked' in by_tag and 'value="ess" selected' in by_tag
    response = client.post("/export", data={"scope": "tag", "tag": "ess", "history": "on"})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    manifest = json.loads(members(response.get_data())["manifest.json"])
    assert [p["slug"] for p in manifest["pages"]] == ["outil"]
    assert manifest["source"] == "http://localhost/"


def test_export_form_shows_errors(client) -> None:
    response = client.post("/export", data={"scope": "page", "slug": "absente"})
    assert response.status_code == 404 and 'class="alert alert-error"' in response.get_data(
        as_text=True
    )


def test_import_page_is_for_editors(client, auth, member) -> None:
    assert client.get("/import").status_code == 302
    auth.login(member)
    assert client.get("/import").status_code == 403
    upload = {"bundle": (io.BytesIO(bundle_of(minimal_manifest())), "b.zip")}
    assert client.post("/import", data=upload).status_code == 403
    assert counts() == (0, 0)


def test_import_page_shows_the_report(client, auth, editor) -> None:
    auth.login(editor)
    assert client.get("/import").status_code == 200
    upload = {"bundle": (io.BytesIO(bundle_of(minimal_manifest())), "b.zip"), "on_conflict": "skip"}
    response = client.post("/import", data=upload, content_type="multipart/form-data")
    assert response.status_code == 200
    assert 'href="/wiki/outil"' in response.get_data(as_text=True)
    assert page_queries.get("outil").current_revision.author_name == "Camille"


def test_an_import_is_previewed_then_confirmed_without_uploading_again(
    client, auth, editor
) -> None:
    auth.login(editor)
    upload = {
        "bundle": (io.BytesIO(bundle_of(minimal_manifest())), "b.zip"),
        "on_conflict": "skip",
        "preview": "1",
    }

    preview = client.post("/import", data=upload, content_type="multipart/form-data")
    written_by_the_preview = counts()
    confirmed = client.post("/import", data={"on_conflict": "skip"})
    again = client.post("/import", data={"on_conflict": "skip"})

    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert "Aperçu" in text and 'href="/wiki/outil"' in text
    assert written_by_the_preview == (0, 0)
    assert confirmed.status_code == 200
    assert page_queries.get("outil").current_revision.author_name == "Camille"
    assert again.status_code == 400  # the kept bundle was imported once, then forgotten


def test_imports_are_logged_for_administrators(client, auth, editor, admin) -> None:
    auth.login(editor)
    upload = {"bundle": (io.BytesIO(bundle_of(minimal_manifest())), "b.zip"), "preview": "1"}
    client.post("/import", data=upload, content_type="multipart/form-data")
    empty_after_preview = bundles.import_log.list_imports()[1]
    client.post("/import", data={"on_conflict": "skip"})
    refused = client.get("/admin/imports")
    auth.logout()
    auth.login(admin)

    log = client.get("/admin/imports").get_data(as_text=True)

    assert empty_after_preview == 0
    assert refused.status_code == 403
    assert "par eddy" in log and 'href="/wiki/outil"' in log
    assert 'href="/admin/imports"' in log  # in the administrator's menu


def test_import_page_shows_what_is_wrong(client, auth, editor) -> None:
    auth.login(editor)
    upload = {"bundle": (io.BytesIO(b"nope"), "b.zip")}
    response = client.post("/import", data=upload, content_type="multipart/form-data")
    assert response.status_code == 400 and 'class="alert alert-error"' in response.get_data(
        as_text=True
    )
    missing = client.post("/import", data={}, content_type="multipart/form-data")
    assert missing.status_code == 400


# --- API -----------------------------------------------------------------------------------------


def bearer(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth_service.create_token(user)}"}


def test_api_export(client, editor) -> None:
    pages.save(None, title="Outil", body="Texte", kind="tool", author=editor)
    response = client.post("/api/v1/export", json={"kind": "tool", "history": True})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "pages/outil.md" in members(response.get_data())
    empty = client.post("/api/v1/export", json={})
    assert empty.status_code == 400 and empty.json["error"]["code"] == "selection_empty"
    wrong = client.post("/api/v1/export", data="[1]", content_type="application/json")
    assert wrong.status_code == 400 and wrong.json["error"]["code"] == "invalid_json"


def test_api_import_raw_body_and_multipart(client, editor) -> None:
    headers = {**bearer(editor), "Content-Type": "application/zip"}
    data = bundle_of(minimal_manifest())
    response = client.post("/api/v1/import", data=data, headers=headers)
    assert response.status_code == 200
    assert response.json["created"] == [{"slug": "outil", "title": "Outil", "revisions": 1}]
    again = client.post("/api/v1/import?on_conflict=rename", data=data, headers=headers)
    assert again.json["created"][0]["slug"] == "outil-2"
    form = {"file": (io.BytesIO(data), "b.zip"), "on_conflict": "skip"}
    multipart = client.post(
        "/api/v1/import", data=form, headers=bearer(editor), content_type="multipart/form-data"
    )
    assert multipart.json["skipped"] == [{"slug": "outil", "title": "Outil", "reason": "exists"}]


def test_api_import_errors_are_json(client, editor, member) -> None:
    data = bundle_of(minimal_manifest())
    anonymous = client.post("/api/v1/import", data=data)
    assert anonymous.status_code == 401 and anonymous.json["error"]["code"] == "unauthorized"
    refused = client.post("/api/v1/import", data=data, headers=bearer(member))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    bad = client.post("/api/v1/import", data=b"nope", headers=bearer(editor))
    assert bad.status_code == 400 and bad.json["error"]["code"] == "bundle_not_zip"
    licence = bundle_of(minimal_manifest(license="CC BY-NC 4.0"))
    refused = client.post("/api/v1/import", data=licence, headers=bearer(editor))
    assert refused.status_code == 400 and refused.json["error"]["code"] == "license_refused"
    assert counts() == (0, 0)


def test_api_import_by_session_needs_the_csrf_header(csrf_app, editor) -> None:
    import re

    from .conftest import PASSWORD

    client = csrf_app.test_client()
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)
    ).group(1)
    client.post("/login", data={"name": editor.name, "password": PASSWORD, "csrf_token": token})
    data = bundle_of(minimal_manifest())
    refused = client.post("/api/v1/import", data=data)
    assert refused.status_code == 400 and refused.json["error"]["code"] == "csrf"
    # Logging in started a new session: the token comes from a page seen since.
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/import").get_data(as_text=True)
    ).group(1)
    accepted = client.post("/api/v1/import", data=data, headers={"X-CSRFToken": token})
    assert accepted.status_code == 200


# --- command line --------------------------------------------------------------------------------


def test_cli_export_then_import(runner, app, tmp_path, editor, member, admin) -> None:
    sample(editor, member, admin)
    db.session.commit()
    out = tmp_path / "tout.zip"
    result = runner.invoke(args=["export", str(out), "--all", "--history", "--base-url", BASE])
    assert result.exit_code == 0, result.output
    assert "3 pages" in result.output and not (tmp_path / "tout.zip.partial").exists()
    assert json.loads(members(out.read_bytes())["manifest.json"])["source"] == BASE
    result = runner.invoke(args=["import", str(out), "--on-conflict", "rename"])
    assert result.exit_code == 0, result.output
    assert (
        "3 créées" in result.output and "epicerie-solidaire-2" in result.output
    )  # the CLI speaks COMMONS_DEFAULT_LOCALE


def test_cli_refuses_bad_input(runner, tmp_path) -> None:
    bad = tmp_path / "faux.zip"
    bad.write_bytes(b"nope")
    result = runner.invoke(args=["import", str(bad)])
    assert result.exit_code == 1 and counts() == (0, 0)
    result = runner.invoke(args=["export", str(tmp_path / "rien.zip")])
    assert result.exit_code == 1 and not (tmp_path / "rien.zip").exists()
