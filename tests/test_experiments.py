"""Experiment sheets through the API: fields per revision, facets, replication, CSV, map."""

from __future__ import annotations

import pytest
from flask import current_app

from commons import experiments, jobs, page_moves, page_queries
from commons.extensions import db
from tests.conftest import english


def _settled() -> None:
    """Let the jobs the requests started (authors following what they create) finish, and
    start a fresh transaction: on SQLite a write cannot follow a read older than theirs."""
    jobs.wait()
    db.session.rollback()


def _put(client, slug, **data):
    return english(client).put(f"/api/v1/pages/{slug}", json=data)


@pytest.fixture
def writer(client, member):
    from commons import auth

    token = auth.create_token(member, "test")
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


SHEET = {
    "territory": ["30334"],
    "period": {"start": "2023-04"},
    "status": "running",
    "organisations": ["Le Mas des Semences"],
    "themes": ["alimentation"],
}


def test_a_put_may_give_only_codes_and_the_answer_names_the_places(writer):
    answer = _put(
        writer,
        "grainotheque",
        title="Grainothèque",
        body="Des semences.",
        kind="experiment",
        fields=SHEET,
    )
    assert answer.status_code == 201, answer.json
    assert answer.json["fields"]["territory"] == [
        {"code": "30334", "type": "commune", "name": "Uzès"}
    ]
    shown = writer.get("/api/v1/pages/grainotheque").json
    assert shown["fields"]["status"] == "running"
    assert shown["replicates"] is None and shown["replications"] == []


def test_an_unknown_code_is_a_400_and_stores_nothing(writer):
    answer = _put(
        writer,
        "ailleurs",
        title="Ailleurs",
        body="x",
        kind="experiment",
        fields={"territory": ["99999"]},
    )
    assert answer.status_code == 400
    assert "99999" in answer.json["error"]["message"]
    assert page_queries.find("ailleurs") is None


def test_fields_are_versioned_and_a_revert_brings_them_back(writer, member):
    _put(writer, "cantine", title="Cantine", body="Bio.", kind="experiment", fields=SHEET)
    changed = dict(SHEET, status="done")
    answer = _put(writer, "cantine", base_revision=1, body="Bio.", fields=changed)
    assert answer.status_code == 200 and answer.json["revision"] == 2
    assert writer.get("/api/v1/pages/cantine?rev=1").json["fields"]["status"] == "running"
    _settled()
    page = page_queries.get("cantine")
    page_moves.revert(page, 1, author=member)
    assert writer.get("/api/v1/pages/cantine").json["fields"]["status"] == "running"


def test_a_commune_counts_in_its_departement_and_region(writer):
    _put(writer, "a", title="A", body="x", kind="experiment", fields=SHEET)
    _put(
        writer,
        "b",
        title="B",
        body="x",
        kind="experiment",
        fields={"territory": ["34"], "status": "idea"},
    )
    assert experiments.counts_by_departement({}) == {"30": 1, "34": 1}
    assert experiments.counts_by_departement({"region": "76"}) == {"30": 1, "34": 1}
    assert experiments.counts_by_departement({"status": "idea"}) == {"34": 1}


def test_a_replication_names_its_original_and_the_original_lists_it(writer):
    _put(writer, "origine", title="Origine", body="x", kind="experiment", fields=SHEET)
    answer = _put(
        writer,
        "copie",
        title="Copie",
        body="x",
        kind="experiment",
        fields={"territory": ["2A004"], "status": "idea"},
        replicates="origine",
    )
    assert answer.status_code == 201, answer.json
    assert answer.json["replicates"]["slug"] == "origine"
    original = writer.get("/api/v1/pages/origine").json
    assert original["replications"] == [
        {
            "slug": "copie",
            "title": "Copie",
            "territory": [{"code": "2A004", "type": "commune", "name": "Ajaccio"}],
            "status": "idea",
        }
    ]


@pytest.mark.parametrize(
    ("replicates", "message"),
    [("nulle-part", "There is no page"), ("ftp://x/y", "neither a page"), (12, "replicates must")],
)
def test_a_wrong_original_is_refused(writer, replicates, message):
    answer = _put(
        writer, "copie", title="Copie", body="x", kind="experiment", replicates=replicates
    )
    assert answer.status_code == 400
    assert message in answer.json["error"]["message"]
    assert page_queries.find("copie") is None


def test_search_finds_an_experiment_by_a_place_its_text_never_names(writer):
    _put(writer, "semis", title="Semis", body="Des graines.", kind="experiment", fields=SHEET)
    _put(
        writer,
        "autre",
        title="Autre",
        body="Des graines.",
        kind="experiment",
        fields={"territory": ["34172"], "themes": ["habitat"]},
    )
    found = writer.get("/api/v1/search?q=Uzès").json
    assert [hit["slug"] for hit in found["results"]] == ["semis"]
    by_departement = writer.get("/api/v1/search?q=graines&departement=30").json
    assert [hit["slug"] for hit in by_departement["results"]] == ["semis"]
    by_region = writer.get("/api/v1/search?q=graines&region=76").json
    assert {hit["slug"] for hit in by_region["results"]} == {"semis", "autre"}
    assert by_region["facets"]["departement"] == {"30": 1, "34": 1}
    only_filter = writer.get("/api/v1/search?theme=habitat").json
    assert [hit["slug"] for hit in only_filter["results"]] == ["autre"]


def test_the_search_page_shows_the_facets_and_the_active_filter(writer):
    _put(writer, "semis", title="Semis", body="Des graines.", kind="experiment", fields=SHEET)
    page = english(writer).get("/search?q=graines&region=76").get_data(as_text=True)
    assert "Région : Occitanie" in page
    assert "Gard" in page and "departement=30" in page


def test_the_map_counts_experiments_by_departement_and_links_to_the_search(writer):
    _put(writer, "semis", title="Semis", body="x", kind="experiment", fields=SHEET)
    page = english(writer).get("/map").get_data(as_text=True)
    assert "<svg" in page and "Gard (30)" in page
    assert "/search?kind=experiment&amp;departement=30" in page
    empty = english(writer).get("/map?status=stopped").get_data(as_text=True)
    assert "No experiment is placed" in empty


def test_the_csv_lists_experiments_with_their_fields_and_never_a_formula(writer):
    _put(
        writer,
        "semis",
        title='=HYPERLINK("http://x")',
        body="x",
        kind="experiment",
        fields=SHEET,
    )
    answer = english(writer).get("/api/v1/experiments.csv?departement=30")
    assert answer.mimetype == "text/csv"
    lines = answer.get_data(as_text=True).splitlines()
    assert lines[0].startswith("# Experiments of") and "CC BY-SA" in lines[1]
    assert lines[2].startswith("slug,title,url,status")
    assert lines[3].startswith('semis,"\'=HYPERLINK(""http://x"")"')
    assert "30334" in lines[3] and "Uzès" in lines[3] and "marie" in lines[3]


def test_themes_and_place_completion_for_the_editor(writer):
    themes = writer.get("/api/v1/themes").json["themes"]
    assert {"key": "finance-solidaire", "label": "Finance solidaire"} in themes
    places = writer.get("/api/v1/territories?q=uzes&limit=1").json["places"]
    assert places == [{"code": "30334", "type": "commune", "name": "Uzès", "label": "Uzès (Gard)"}]


def test_a_deleted_experiment_leaves_the_map(writer, editor):
    _put(writer, "semis", title="Semis", body="x", kind="experiment", fields=SHEET)
    _settled()
    page_moves.delete(page_queries.get("semis"), author=editor)
    assert experiments.counts_by_departement({}) == {}


def test_the_page_shows_its_sheet_and_where_it_was_replicated(writer):
    _put(writer, "origine", title="Origine", body="x", kind="experiment", fields=SHEET)
    _put(
        writer,
        "copie",
        title="Copie",
        body="x",
        kind="experiment",
        fields={"territory": ["2A004"]},
        replicates="origine",
    )
    original = english(writer).get("/wiki/origine").get_data(as_text=True)
    assert "Territory" in original and ">Uzès</a>" in original
    assert "Running" in original and "Replicated in" in original
    assert 'Ajaccio — <a href="/wiki/copie">Copie</a>' in original
    copy = english(writer).get("/wiki/copie").get_data(as_text=True)
    assert "Replicates" in copy and '<a href="/wiki/origine">Origine</a>' in copy


def test_a_plain_page_has_no_sheet(writer):
    _put(writer, "note", title="Note", body="x")
    assert 'class="sheet"' not in english(writer).get("/wiki/note").get_data(as_text=True)


def test_the_credits_page_draws_the_replication_lineage(writer):
    _put(writer, "origine", title="Origine", body="x", kind="experiment", fields=SHEET)
    _put(
        writer,
        "fille",
        title="Fille",
        body="x",
        kind="experiment",
        fields={"territory": ["34"]},
        replicates="origine",
    )
    _put(
        writer,
        "petite-fille",
        title="Petite-fille",
        body="x",
        kind="experiment",
        replicates="fille",
    )
    credits_page = english(writer).get("/wiki/origine/credits").get_data(as_text=True)
    assert "This experiment and its 2 replications" in credits_page
    for slug in ("origine", "fille", "petite-fille"):
        assert f'href="/wiki/{slug}"' in credits_page
    alone = english(writer).get("/wiki/petite-fille/credits").get_data(as_text=True)
    assert "lineage-svg" not in alone


def test_sheets_and_replication_travel_in_a_bundle(writer, tmp_path, fresh_commons):
    from commons import bundles

    _put(writer, "origine", title="Origine", body="x", kind="experiment", fields=SHEET)
    _put(
        writer,
        "copie",
        title="Copie",
        body="y",
        kind="experiment",
        fields={"territory": ["34"], "status": "idea"},
        replicates="origine",
    )
    _put(writer, "copie", base_revision=1, body="y", fields={"territory": ["34"]})
    path = tmp_path / "bundle.zip"
    with open(path, "wb") as handle:
        bundles.export_bundle(
            handle, bundles.Selection(everything=True, history=True), base_url="https://a.example"
        )
    with fresh_commons().app_context():
        with open(path, "rb") as handle:
            bundles.import_bundle(handle)
        from commons import serialize, transaction

        transaction.commit()
        with current_app.test_request_context():
            copy = serialize.page(page_queries.get("copie"), None)
            first = serialize.page(
                page_queries.get("copie"),
                None,
                page_queries.get_revision(page_queries.get("copie"), 1),
            )
            original = serialize.page(page_queries.get("origine"), None)
        assert copy["fields"] == {
            "territory": [{"code": "34", "type": "departement", "name": "Hérault"}]
        }
        assert first["fields"]["status"] == "idea"
        assert copy["replicates"]["slug"] == "origine"
        assert copy["replicates"]["url"] == "https://a.example/wiki/origine"
        assert original["fields"] == {
            **SHEET,
            "territory": [{"code": "30334", "type": "commune", "name": "Uzès"}],
            "period": {"start": "2023-04"},
        }
        assert experiments.counts_by_departement({}) == {"30": 1, "34": 1}


def test_a_bundle_with_a_wrong_sheet_is_refused_and_stores_nothing(writer, tmp_path):
    import json
    import zipfile

    from commons import bundles
    from commons.errors import ValidationError

    _put(writer, "origine", title="Origine", body="x", kind="experiment", fields=SHEET)
    path = tmp_path / "bundle.zip"
    with open(path, "wb") as handle:
        bundles.export_bundle(handle, bundles.Selection(everything=True), base_url=None)
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "manifest.json":
                manifest = json.loads(data)
                manifest["pages"][0]["revisions"][0]["fields"]["territory"] = ["99999"]
                manifest["pages"][0]["slug"] = "autre"
                data = json.dumps(manifest).encode()
            target.writestr(item, data)
    with open(broken, "rb") as handle, pytest.raises(ValidationError) as refused:
        bundles.import_bundle(handle)
    assert "99999" in refused.value.message
    assert page_queries.find("autre") is None
