"""Full-text search: French and English analysis, ranking, query syntax, facets, and an
index that follows the database (saves, renames, deletions, other processes, damage)."""

from __future__ import annotations

import multiprocessing
import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from markupsafe import Markup

from commons import attribution, create_app, moderation, page_moves, pages, search, transaction
from commons.extensions import db
from commons.models import Page, Revision, User

from .conftest import make_app

#: Each direct service call stands for a request: its end commits, and the index hears of it.
pytestmark = pytest.mark.usefixtures("commit_each_change")


def save(author, title: str, body: str = "", **fields):
    return pages.save(None, title=title, body=body, author=author, **fields).page


def slugs(query: str, **filters) -> list[str]:
    results = search.search(query, **filters)
    assert results.message is None, results.message
    return [hit.slug for hit in results.hits]


# --- analysis ----------------------------------------------------------------------------


def test_accents_ligatures_plurals_and_elisions_do_not_matter(app, member):
    save(member, "Outils de la coopération", "Un guide de l'économie des ateliers.")
    save(member, "Le cœur du réseau", "D'atelier en atelier, on apprend.")

    assert slugs("cooperation") == ["outils-de-la-cooperation"]
    assert slugs("COOPÉRATION outil") == ["outils-de-la-cooperation"]
    assert slugs("économie") == ["outils-de-la-cooperation"]
    assert slugs("economy") == ["outils-de-la-cooperation"]
    assert slugs("coeur") == ["le-coeur-du-reseau"]
    assert set(slugs("atelier")) == {"outils-de-la-cooperation", "le-coeur-du-reseau"}
    assert set(slugs("l'atelier")) == {"outils-de-la-cooperation", "le-coeur-du-reseau"}
    assert slugs("guides") == ["outils-de-la-cooperation"]


def test_styled_letters_are_found_by_their_plain_spelling(app, member):
    # Bold mathematical letters, as "fancy text" generators write them, and an "ǽ".
    save(member, "Un 𝐂𝐚𝐟é associatif", "Chez les 𝐕𝐎𝐈𝐒𝐈𝐍𝐒, en Dǽnemark.")

    assert slugs("café") == ["un-cafe-associatif"]
    assert slugs("voisin") == ["un-cafe-associatif"]
    assert slugs("daenemark") == ["un-cafe-associatif"]


def test_french_plurals_in_aux_find_their_singular_in_al(app, member):
    save(member, "Un local associatif", "Ouvert le samedi.")
    save(member, "Le canal", "Une péniche.")

    assert slugs("locaux") == ["un-local-associatif"]
    assert slugs("canaux") == ["le-canal"]


def test_english_pages_are_analysed_too(app, member):
    save(member, "Community tools", "How communities share their workshops.")

    assert slugs("community workshop") == ["community-tools"]
    assert slugs("tool") == ["community-tools"]


def test_stop_words_alone_give_a_friendly_message(app, member):
    save(member, "Les communs", "Le texte.")

    results = search.search("le la les the of")

    assert results.total == 0
    assert results.message


def test_authors_and_tags_are_searchable(app, member):
    save(member, "Fiche pratique", "Texte.", tags=["Gouvernance partagée"])

    assert slugs("marie") == ["fiche-pratique"]
    assert slugs("gouvernance") == ["fiche-pratique"]


# --- ranking and syntax ------------------------------------------------------------------


def test_title_matches_rank_above_body_matches(app, member):
    save(member, "Notes diverses", "compostage " * 20)
    save(member, "Compostage collectif", "Un projet de quartier.")

    assert slugs("compostage") == ["compostage-collectif", "notes-diverses"]


def test_phrases_and_exclusions(app, member):
    save(member, "Vente directe", "Les circuits courts du territoire.")
    save(member, "Sport", "Des courts de tennis et des circuits de vélo.")

    assert set(slugs("circuits courts")) == {"vente-directe", "sport"}
    assert slugs('"circuits courts"') == ["vente-directe"]
    assert slugs("« circuits courts »") == ["vente-directe"]
    assert slugs("circuits -tennis") == ["vente-directe"]
    assert slugs("circuits NOT tennis") == ["vente-directe"]
    assert slugs("circuits SAUF tennis") == ["vente-directe"]
    assert set(slugs("tennis OR territoire")) == {"vente-directe", "sport"}


ODD_QUERIES = [
    '"circuits courts',
    '"',
    "AND",
    "circuits AND",
    "OR OR NOT",
    "((circuits",
    "circuits)",
    "-",
    "NOT",
    "title:circuits",
    "circ*",
    "[a TO z]",
    "circuits^5",
    "\x00\x1f",
    "💡 circuits",
    "x" * 5000,
    "circuits " * 1000,
]


def test_odd_queries_never_fail(app, member, client):
    save(member, "Vente directe", "Les circuits courts du territoire.")

    for query in ODD_QUERIES:
        results = search.search(query)
        assert results.total == len(results.hits), query
        assert client.get("/search", query_string={"q": query}).status_code == 200
        assert client.get("/api/v1/search", query_string={"q": query}).status_code == 200


def test_long_queries_are_shortened_with_a_message(app, member):
    save(member, "Vente directe", "Les circuits courts.")

    results = search.search("circuits " + "x" * 5000)

    assert results.message
    assert results.total == 1


def test_synonyms_find_acronyms_and_their_expansions(app, member):
    save(member, "Guide ESS", "Pour les structures de l'ESS.")
    save(member, "Économie sociale et solidaire", "Une définition.")
    save(member, "Nos tiers-lieux", "Des lieux partagés.")
    save(member, "Une SCOP", "Coopérative de salariés.")

    both = {"guide-ess", "economie-sociale-et-solidaire"}
    assert set(slugs("ess")) == both
    assert set(slugs("économie sociale et solidaire")) == both
    assert set(slugs("economie sociale solidaire")) == both
    assert slugs("tiers-lieu") == ["nos-tiers-lieux"]
    assert slugs("tiers lieu") == ["nos-tiers-lieux"]
    assert slugs("société coopérative et participative") == ["une-scop"]
    assert slugs("ess -guide") == ["economie-sociale-et-solidaire"]


def test_an_admin_can_add_synonyms(tmp_path):
    extra = tmp_path / "synonyms.txt"
    extra.write_text("# local words\nvélo, bicyclette, biclou\n", encoding="utf-8")
    app = make_app(tmp_path, SEARCH_SYNONYMS=str(extra))
    with app.app_context():
        from commons import auth

        user = auth.create_user("marie", "correct horse battery")
        save(user, "Atelier vélo", "Réparations.")

        assert slugs("biclou") == ["atelier-velo"]
        assert slugs("ess") == []
        db.session.remove()
        db.engine.dispose()


def test_did_you_mean(app, member):
    save(member, "Monnaie locale", "Une monnaie locale complémentaire circule ici.")

    results = search.search("monaie locale")

    assert results.suggestion == "monnaie locale"
    assert [hit.slug for hit in results.hits] == ["monnaie-locale"]
    assert results.message
    assert search.search("monnaie locale").suggestion is None


# --- results -----------------------------------------------------------------------------


def test_snippets_mark_matches_and_escape_the_rest(app, member):
    body = (
        "Intro. " * 40
        + "Le <script>alert(1)</script> **compost** partagé & tamisé. "
        + "Fin. " * 40
    )
    save(member, "Page", body)

    hit = search.search("compost").hits[0]

    assert isinstance(hit.snippet, Markup)
    assert "<mark>compost</mark>" in hit.snippet
    assert "<script>" not in hit.snippet
    assert "&amp;" in hit.snippet
    assert "**" not in hit.snippet
    assert len(hit.snippet) < 400


def test_facets_filters_and_sorting(app, member):
    save(member, "Atelier un", "atelier", kind="tool", tags=["vélo", "réparation"])
    save(member, "Atelier deux", "atelier", kind="experiment", tags=["vélo"])
    save(member, "Atelier trois", "atelier", kind="experiment", tags=["cuisine"])
    save(member, "Autre", "rien", kind="experiment", tags=["vélo"])

    results = search.search("atelier")
    assert results.total == 3
    assert [(f.value, f.count) for f in results.kinds] == [("experiment", 2), ("tool", 1)]
    assert [(f.value, f.count) for f in results.tags] == [
        ("vélo", 2),
        ("cuisine", 1),
        ("réparation", 1),
    ]

    filtered = search.search("atelier", kind="experiment")
    assert {hit.slug for hit in filtered.hits} == {"atelier-deux", "atelier-trois"}
    # The kind facet still offers the other kinds; the tag facet follows the filter.
    assert [(f.value, f.count) for f in filtered.kinds] == [("experiment", 2), ("tool", 1)]
    assert [(f.value, f.count) for f in filtered.tags] == [("cuisine", 1), ("vélo", 1)]

    assert slugs("atelier", kind="experiment", tag="vélo") == ["atelier-deux"]
    assert set(slugs("", tag="vélo")) == {"atelier-un", "atelier-deux", "autre"}
    assert slugs("atelier", sort="recent") == ["atelier-trois", "atelier-deux", "atelier-un"]


def test_pagination(app, member):
    for number in range(5):
        save(member, f"Fiche {number}", "commun")

    first = search.search("commun", per_page=2)
    third = search.search("commun", page=3, per_page=2)

    assert (first.total, len(first.hits)) == (5, 2)
    assert (third.total, len(third.hits), third.page) == (5, 1, 3)
    assert search.search("commun", page=9, per_page=2).hits == []


def test_empty_query_returns_nothing(app, member):
    save(member, "Fiche", "commun")

    assert search.search("").total == 0
    assert search.search("   ").hits == []


# --- the index follows the database ------------------------------------------------------


def test_edits_renames_and_deletions_show_at_once(app, member, editor):
    page = save(member, "Jardin partagé", "On y cultive des tomates.")
    assert slugs("tomates") == ["jardin-partage"]

    pages.save(page.slug, title=page.title, body="On y cultive des courges.", author=member)
    assert slugs("courges") == ["jardin-partage"]
    assert slugs("tomates") == []

    page_moves.rename(page, "Potager collectif", author=editor)
    assert slugs("potager") == ["potager-collectif"]
    assert slugs("jardin") == []

    page_moves.delete(page, author=editor)
    assert slugs("courges") == []
    assert search.search("", kind="page").total == 0

    page_moves.restore(page, author=editor)
    assert slugs("courges") == ["potager-collectif"]


def test_hidden_revisions_leave_the_index(app, member, admin):
    page = save(member, "Annuaire", "Téléphone de Jeanne Martin.")
    assert slugs("jeanne") == ["annuaire"]

    moderation.set_revision_hidden(page.current_revision, True, author=admin)

    assert slugs("jeanne") == []
    assert slugs("annuaire") == ["annuaire"]
    assert "Jeanne" not in search.search("annuaire").hits[0].snippet


def test_changes_made_by_another_process_are_found(app, member, tmp_path):
    other = make_app(tmp_path, fresh=False, INDEX_DIR=str(tmp_path / "other-index"))
    with other.app_context():
        writer = db.session.get(User, member.id)
        save(writer, "Fournil", "Du pain au levain.")
        db.session.remove()

    assert slugs("levain") == ["fournil"]


def test_a_lost_index_is_rebuilt(app, member):
    save(member, "Fournil", "Du pain au levain.")
    assert slugs("levain") == ["fournil"]

    shutil.rmtree(app.config["INDEX_DIR"])

    assert slugs("levain") == ["fournil"]


def test_a_long_backlog_is_indexed_in_the_background(app, member, monkeypatch):
    for number in range(6):
        save(member, f"Fournée {number}", "Du pain au levain.")
    shutil.rmtree(app.config["INDEX_DIR"])
    monkeypatch.setattr("commons.search.results.QUERY_CATCH_UP_PAGES", 2)

    first = search.search("levain")
    app.extensions["commons_search"].wait_for_background(30)

    assert first.message  # some pages may be missing meanwhile
    assert slugs("levain", per_page=10) == [f"fournee-{number}" for number in range(6)]


def test_a_corrupted_index_is_rebuilt(app, member, tmp_path):
    save(member, "Fournil", "Du pain au levain.")
    assert slugs("levain") == ["fournil"]
    directory = app.config["INDEX_DIR"]
    for name in os.listdir(directory):
        with open(os.path.join(directory, name), "wb") as handle:
            handle.write(b"\x00garbage" * 10)

    # As a worker (re)starting finds it: this process's open files are left alone.
    restarted = make_app(tmp_path, fresh=False)
    with restarted.app_context():
        assert slugs("levain") == ["fournil"]
        db.session.remove()
        db.engine.dispose()


def test_revisions_committed_out_of_order_are_not_missed(app, member):
    """On PostgreSQL a transaction can commit revision 2 after another committed 3."""
    first = save(member, "Premier", "Texte un.")
    # Revision ids 2 (late) and 3 (early): 3 commits and is indexed first.
    late_page = Page(slug="tardive", title="Tardive", kind="page", license=first.license)
    db.session.add(late_page)
    db.session.flush()
    early = _revision(first, 3, 2, "Texte deux.")
    first.current_revision = early
    db.session.commit()
    assert slugs("deux") == ["premier"]

    late = _revision(late_page, 2, 1, "Une page tardive.")
    late_page.current_revision = late
    late_page.revision_count = 1
    db.session.commit()

    assert slugs("tardive") == ["tardive"]


def _revision(page: Page, revision_id: int, number: int, body: str) -> Revision:
    revision = Revision(
        id=revision_id,
        page_id=page.id,
        number=number,
        action="edit",
        slug=page.slug,
        title=page.title,
        kind=page.kind,
        tags=[],
        license=page.license,
        body=body,
        sha256=attribution.content_hash(body),
        size=len(body),
        author_name="marie",
    )
    db.session.add(revision)
    db.session.flush()
    return revision


def _save_pages(settings: dict, user_id: int, prefix: str, count: int, start) -> None:
    """Run in another process: save pages, each save indexing as a worker would."""
    app = create_app(settings)
    with app.app_context():
        user = db.session.get(User, user_id)
        start.wait(60)
        for number in range(count):
            save(user, f"{prefix} {number}", f"Texte partagé par {prefix}.")
            transaction.commit()
        # A worker keeps running: what a save handed to its thread gets done.
        app.extensions["commons_search"].wait_for_background(60)
        db.session.remove()
        db.engine.dispose()


@pytest.mark.slow
def test_two_processes_indexing_at_once_keep_the_index_whole(app, member):
    settings = {
        key: app.config[key]
        for key in ("DATABASE_URL", "INDEX_DIR", "MEDIA_DIR", "SECRET_KEY", "TESTING")
    }
    assert search.search("texte").total == 0  # the index exists before the workers start
    db.session.commit()
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    workers = [
        context.Process(target=_save_pages, args=(settings, member.id, prefix, 10, start))
        for prefix in ("alpha", "beta")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0

    engine = app.extensions["commons_search"]
    assert not engine.behind()  # the workers indexed everything themselves
    assert search.search("partagé").total == 20
    assert search.search("alpha").total == 10
    assert search.search("", kind="page", per_page=100).total == 20
    assert search.reindex() == 20
    assert search.search("beta").total == 10


def test_reindex_command(app, member, runner):
    save(member, "Fournil", "Du pain au levain.")
    save(member, "Jardin", "Des tomates.")

    result = runner.invoke(args=["search", "reindex"])

    assert result.exit_code == 0, result.output
    assert "2 pages index" in result.output  # "indexed" or "indexées"
    assert slugs("levain") == ["fournil"]


def test_search_on_an_empty_wiki(app):
    results = search.search("levain")

    assert (results.total, results.message) == (0, None)
    assert search.search("", kind="tool").total == 0


def test_search_before_the_tables_exist(tmp_path):
    # An empty database of its own: on PostgreSQL the test schema already has tables.
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    app = make_app(tmp_path, fresh=False, DATABASE_URL=empty)
    with app.app_context():
        results = search.search("levain")
        assert (results.total, results.message) == (0, None)
        db.engine.dispose()


# --- HTTP ----------------------------------------------------------------------------------


def test_search_page(app, member, client):
    save(
        member, "Monnaie locale", "Une monnaie locale complémentaire.", kind="tool", tags=["argent"]
    )

    html = client.get("/search", query_string={"q": "monnaie"}).get_data(as_text=True)
    assert "<mark>monnaie</mark>" in html
    assert 'href="/wiki/monnaie-locale"' in html
    assert "argent" in html

    html = client.get("/search", query_string={"q": "monaie"}).get_data(as_text=True)
    assert "monnaie" in html


def test_search_api(app, member, client):
    save(member, "Monnaie locale", "Une monnaie locale.", kind="tool", tags=["argent"])

    data = client.get("/api/v1/search", query_string={"q": "monnaie"}).get_json()

    assert data["total"] == 1
    assert data["results"][0]["slug"] == "monnaie-locale"
    assert data["results"][0]["kind"] == "tool"
    assert data["results"][0]["tags"] == ["argent"]
    assert "<mark>" in data["results"][0]["snippet"]
    assert data["facets"]["kind"] == {"tool": 1}
    assert client.get("/api/v1/search?q=monaie+locale").get_json()["suggestion"] == (
        "monnaie locale"
    )


# --- segments and merges ---------------------------------------------------------------------


def _segment_sizes(app) -> list[int]:
    with app.extensions["commons_search"].index().reader() as reader:
        return sorted(leaf.doc_count_all() for leaf, _offset in reader.leaf_readers())


def test_saves_leave_merging_to_a_thread_and_segments_stay_few(app, member):
    engine = app.extensions["commons_search"]
    for number in range(3 * search.MERGE_FACTOR):
        save(member, f"Atelier {number}", f"Compte rendu numéro {number} du levain.")
        engine.wait_for_background(30)

    sizes = _segment_sizes(app)
    # Merged tier by tier: fewer than MERGE_FACTOR segments of each size remain.
    assert len(sizes) < 2 * search.MERGE_FACTOR and max(sizes) >= search.MERGE_FACTOR
    found = search.search("levain", per_page=100)
    assert found.total == 3 * search.MERGE_FACTOR


def test_a_save_does_not_wait_for_a_busy_index_writer(app, member, monkeypatch):
    # A save that waited for the writer as long as a query may would now wait an hour.
    monkeypatch.setattr("commons.search.sync.SAVE_LOCK_TIMEOUT", 3600.0)
    engine = app.extensions["commons_search"]
    author_id = member.id
    db.session.commit()

    def save_in_a_request() -> None:
        with app.app_context():
            save(db.session.get(User, author_id), "Fournée du matin", "Du pain au levain.")

    busy = engine.writer(1.0)  # as a merge in another process would hold it
    executor = ThreadPoolExecutor(1)
    try:
        # The save ends while the writer is still held: it handed its indexing over.
        # (The minute is a safety net for a broken save, not a speed limit.)
        executor.submit(save_in_a_request).result(timeout=60)
    finally:
        busy.cancel()
        executor.shutdown()
    engine.wait_for_background(30)
    assert slugs("levain") == ["fournee-du-matin"]


def test_a_query_survives_a_merge_that_removes_the_segments_it_reads(app, member, monkeypatch):
    """Whoosh opens a segment's files lazily, and a merge deletes the files of the
    segments it replaced: a query that opened its searcher just before such a merge is
    answered from the merged index, never with "search is not available"."""
    for n in range(3):
        save(member, f"Épicerie solidaire {n}", "Une épicerie gérée par ses membres.")
    engine = app.extensions["commons_search"]
    engine.wait_for_background(30)
    suggest = search.results.suggest
    merged = []

    def merge_then_suggest(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - a pass-through
        # The race, made certain: the merge lands between the searcher's opening and
        # the first read of its stored fields.
        if not merged:
            save(member, "Atelier vélo", "Réparer ensemble.")
            engine.wait_for_background(30)
            engine.writer(10).commit(optimize=True)
            merged.append(True)
        return suggest(*args, **kwargs)

    monkeypatch.setattr(search.results, "suggest", merge_then_suggest)
    results = search.search("épicerie")

    assert merged and results.total == 3, results.message
