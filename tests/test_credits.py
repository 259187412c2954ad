"""Attribution: credits, TASL line, reuse texts, page sources and licences."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest

from commons import credits, licenses, page_moves, page_queries, pages
from commons.errors import ValidationError

SOURCE = {
    "title": "Rapport sur les tiers-lieux",
    "authors": "France Tiers-Lieux, Réseau X",
    "url": "https://example.org/rapport",
    "license": "CC BY 4.0",
}


@pytest.fixture
def shared_page(member, editor):
    pages.save(
        None,
        title="Financer les tiers-lieux",
        body="Première version.\n",
        author=member,
        summary="création",
        source=SOURCE,
        attribution_parties="Collectif des ateliers",
    )
    pages.save(
        "financer-les-tiers-lieux",
        title="Financer les tiers-lieux",
        body="Première version.\n\nAjout.\n",
        author=editor,
        coauthors="Participants de l'atelier de Rennes\nAssociation Y",
    )
    return pages.save(
        "financer-les-tiers-lieux",
        title="Financer les tiers-lieux",
        body="Première version.\n\nAjout.\n\nEncore.\n",
        author=member,
    ).page


def test_contributors_count_edits_and_include_coauthors(shared_page) -> None:
    people = {c.name: c for c in credits.contributors(shared_page)}
    assert people["marie"].edits == 2
    assert people["marie"].user_id is not None
    assert people["eddy"].edits == 1
    assert people["Association Y"].role == "coauthor"
    assert people["marie"].first < people["marie"].last
    assert list(people)[0] == "marie"


def test_credits_page_lists_contributors_sources_and_chart(client, shared_page) -> None:
    html = client.get("/wiki/financer-les-tiers-lieux/credits").get_data(as_text=True)
    for expected in ("marie", "eddy", "Association Y", "Rapport sur les tiers-lieux"):
        assert expected in html
    assert "https://example.org/rapport" in html
    assert "Collectif des ateliers" in html
    assert '<svg viewBox="0 0 640' in html and 'class="chart-bar"' in html


def test_credits_api_matches_the_page(client, shared_page) -> None:
    data = client.get("/api/v1/pages/financer-les-tiers-lieux/credits").json
    names = {c["name"]: c for c in data["contributors"]}
    assert names["marie"]["edits"] == 2 and names["marie"]["account"] is True
    assert names["Association Y"]["role"] == "coauthor"
    assert data["source"]["title"] == SOURCE["title"]
    assert data["source"]["license"] == "CC-BY-4.0"
    assert data["license"]["spdx"] == "CC-BY-SA-4.0"


def test_page_view_carries_tasl_and_reuse_texts(client, shared_page) -> None:
    response = client.get("/wiki/financer-les-tiers-lieux", headers={"Accept-Language": "en"})
    html = response.get_data(as_text=True)
    assert 'rel="license"' in html and "CC BY-SA 4.0" in html
    assert "/wiki/financer-les-tiers-lieux?rev=3" in html
    assert "Rapport sur les tiers-lieux" in html
    assert "modified version" in html
    assert "[“Financer les tiers-lieux”](http://localhost/wiki/financer-les-tiers-lieux?rev=3)" in (
        html.replace("&#34;", '"')
    )


def test_reuse_texts_follow_the_readers_language(app, shared_page) -> None:
    attribution = credits.attribution(shared_page, shared_page.current_revision)
    url = "https://commons.example/wiki/financer-les-tiers-lieux?rev=3"
    when = shared_page.current_revision.created_at
    # Each language in its own application context, as in two separate requests.
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        english = credits.reuse_texts(attribution, url, when)
    assert english.markdown.startswith(f"[“Financer les tiers-lieux”]({url}) by marie, eddy")
    assert "licensed under [CC BY-SA 4.0](https://creativecommons.org/licenses/by-sa/4.0/)" in (
        english.markdown
    )
    assert url in english.text and url in english.citation
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "fr"}):
        french = credits.reuse_texts(attribution, url, when)
    assert "CC BY-SA 4.0" in french.text
    assert french.text != english.text


def test_reuse_html_links_the_work_and_its_licence_and_escapes_names(client, member) -> None:
    page = pages.save(None, title="<b>T</b>", body="x", author=member).page
    html = client.get(f"/wiki/{page.slug}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    preview = html[html.index('<p class="citation">') :]
    preview = preview[: preview.index("</p>")]
    assert (
        f'<a href="http://localhost/wiki/{page.slug}?rev=1">“&lt;b&gt;T&lt;/b&gt;”</a>' in preview
    )
    assert '<a href="https://creativecommons.org/licenses/by-sa/4.0/">CC BY-SA 4.0</a>' in preview
    assert "<b>" not in preview and " by marie, licensed under " in preview
    # The same credit, as text to copy.
    assert "&lt;a href=&#34;https://creativecommons.org/licenses/by-sa/4.0/&#34;&gt;" in html


@pytest.mark.parametrize(
    ("written", "spdx"),
    [
        (None, "CC-BY-SA-4.0"),
        ("", "CC-BY-SA-4.0"),
        ("CC BY-SA 4.0", "CC-BY-SA-4.0"),
        ("cc-by-4.0", "CC-BY-4.0"),
        ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0"),
        ("Creative Commons Attribution-ShareAlike 4.0 International", "CC-BY-SA-4.0"),
        ("Licence Ouverte 2.0", "etalab-2.0"),
        ("Licence Ouverte / Open Licence version 2.0", "etalab-2.0"),
        ("etalab-2.0", "etalab-2.0"),
        ("https://www.etalab.gouv.fr/licence-ouverte-open-licence/", "etalab-2.0"),
    ],
)
def test_licences_written_in_usual_ways_are_recognised(written, spdx) -> None:
    assert licenses.normalize(written) == spdx


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("CC BY-NC-SA 4.0", "commercial"),
        ("CC BY-ND 4.0", "adaptations"),
        ("Tous droits réservés", "rights"),
        ("CC BY-SA 3.0", "version 4.0"),
        ("WTFPL-ish", "not a licence we know"),
    ],
)
def test_other_licences_are_refused_with_the_reason(app, written, reason) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(ValidationError) as refused:
            licenses.normalize(written)
        assert refused.value.code == "license_refused"
        assert reason in str(refused.value.message)


def test_licences_move_only_towards_share_alike(member) -> None:
    page = pages.save(None, title="Domaine public", body="x", author=member, license="CC0").page
    assert page.license == "CC0-1.0"
    pages.save(page.slug, title=page.title, body="y", author=member, license="CC-BY-4.0")
    assert page.license == "CC-BY-4.0"
    pages.save(page.slug, title=page.title, body="z", author=member, license="CC-BY-SA-4.0")
    with pytest.raises(ValidationError):
        pages.save(page.slug, title=page.title, body="w", author=member, license="CC0-1.0")
    assert page.license == "CC-BY-SA-4.0"
    assert page.current_revision.body == "z"


def test_refused_licence_in_the_form_keeps_the_text(client, auth, member) -> None:
    auth.login(member)
    response = client.post(
        "/wiki/essai/edit",
        data={
            "title": "Essai",
            "body": "mon texte",
            "license": "CC BY-NC 4.0",
            "accept_license": "on",
        },
        headers={"Accept-Language": "fr"},
    )
    assert response.status_code == 400
    assert "mon texte" in response.get_data(as_text=True)
    assert page_queries.find("essai") is None


def test_saving_records_the_licence_agreement(member) -> None:
    revision = pages.save(None, title="Accord", body="x", author=member).revision
    assert revision.license_accepted is True and revision.license == "CC-BY-SA-4.0"


def test_licence_texts_are_served(client) -> None:
    listing = client.get("/licenses").get_data(as_text=True)
    assert "CC0 1.0" in listing and "CC BY 4.0" in listing
    text = client.get("/licenses/CC-BY-SA-4.0")
    assert text.mimetype == "text/plain"
    assert "Attribution-ShareAlike 4.0 International" in text.get_data(as_text=True)
    assert client.get("/licenses/CC-BY-NC-4.0").status_code == 404


ALLOWED_MOVES = {
    ("CC0-1.0", "CC0-1.0"): True,
    ("CC0-1.0", "CC-BY-4.0"): True,
    ("CC0-1.0", "CC-BY-SA-4.0"): True,
    ("CC-BY-4.0", "CC0-1.0"): False,
    ("CC-BY-4.0", "CC-BY-4.0"): True,
    ("CC-BY-4.0", "CC-BY-SA-4.0"): True,
    ("CC-BY-SA-4.0", "CC0-1.0"): False,
    ("CC-BY-SA-4.0", "CC-BY-4.0"): False,
    ("CC-BY-SA-4.0", "CC-BY-SA-4.0"): True,
    # The Licence Ouverte asks for attribution only, like CC BY 4.0, with which it is
    # compatible: its content may become CC BY or CC BY-SA, not the other way round.
    ("CC0-1.0", "etalab-2.0"): True,
    ("etalab-2.0", "etalab-2.0"): True,
    ("etalab-2.0", "CC-BY-4.0"): True,
    ("etalab-2.0", "CC-BY-SA-4.0"): True,
    ("etalab-2.0", "CC0-1.0"): False,
    ("CC-BY-4.0", "etalab-2.0"): False,
    ("CC-BY-SA-4.0", "etalab-2.0"): False,
}


@pytest.mark.parametrize(("current", "new"), sorted(ALLOWED_MOVES))
def test_every_pair_of_licences(app, current: str, new: str) -> None:
    assert {(a.spdx, b.spdx) for a in licenses.all_licenses() for b in licenses.all_licenses()} == (
        set(ALLOWED_MOVES)
    )
    assert licenses.can_change(current, new) is ALLOWED_MOVES[(current, new)]
    if ALLOWED_MOVES[(current, new)]:
        licenses.check_change(current, new)
    else:
        with pytest.raises(ValidationError):
            licenses.check_change(current, new)


def test_chain_of_modification_notices(client, app, editor, member) -> None:
    from commons import bundles

    pages.save(None, title="Chaîne", body="a\n", author=editor, source=SOURCE)
    stream = io.BytesIO()
    bundles.export_bundle(
        stream, bundles.Selection(slug="chaine", history=True), base_url="https://a.example/"
    )
    page_moves.delete(page_queries.get("chaine"), author=editor)
    stream.seek(0)
    bundles.import_bundle(stream, on_conflict="rename")
    imported = page_queries.get("chaine-2")
    pages.save("chaine-2", title="Chaîne", body="a\nb\n", author=member)
    notices = credits.modification_notices(imported)
    assert [n.origin for n in notices] == ["https://a.example/wiki/chaine", None]
    assert notices[0].authors == ["eddy"] and notices[1].authors == ["marie"]
    html = client.get("/wiki/chaine-2", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Written at" in html and "Modified here by marie since" in html
    assert "Adapted from" in html


def test_wiki_wide_credits(client, shared_page) -> None:
    html = client.get("/credits", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "marie" in html and "eddy" in html
    people, total = credits.all_contributors()
    assert total == 2 and people[0].name == "marie" and people[0].edits == 2


def test_feed_entries_carry_author_licence_and_origin(client, editor) -> None:
    pages.save(None, title="Flux", body="x\n", author=editor)
    feed = client.get("/recent.atom").get_data(as_text=True)
    assert "<name>eddy</name>" in feed and 'rel="license"' in feed and "<rights>" in feed


ELSEWHERE = "https://ailleurs.example/wiki/outil"


@pytest.fixture
def crowded_page(member, editor, admin):
    """Five people on one page: this commons' marie (three edits), eddy (two), a co-author,
    ada, and another marie whose text came from another commons."""
    from commons import bundles
    from tests.test_bundles import bundle_of, minimal_manifest

    edits = [member, editor, member, editor, member, admin]
    for number, author in enumerate(edits, start=1):
        pages.save(
            None if number == 1 else "outil",
            title="Outil",
            body=f"Version {number}.\n",
            author=author,
            coauthors=["Atelier de Lyon"] if number == 5 else [],
        )
    manifest = minimal_manifest()
    manifest["pages"][0]["revisions"][0]["author"] = "marie"
    report = bundles.import_bundle(io.BytesIO(bundle_of(manifest)), on_conflict="merge")
    assert [item.slug for item in report.merged] == ["outil"]
    return page_queries.get("outil")


def _credits_page_rows(html: str) -> list[tuple[str, str]]:
    """(name, "credited as" cell) of each row of the credits page's contributors table."""
    rows = re.findall(r'<th scope="row">(.*?)</th>(.*?)</tr>', html, re.S)
    return [(name, re.sub(r"<[^>]+>", "", cells.split("<td>")[-1]).strip()) for name, cells in rows]


def test_namesakes_are_credited_apart_with_their_origin(client, crowded_page) -> None:
    from commons import bundles

    listed = client.get("/api/v1/pages/outil/credits").json["contributors"]
    marie = [(c["edits"], c["account"], c["origin"]) for c in listed if c["name"] == "marie"]
    assert marie == [(3, True, None), (1, False, ELSEWHERE)]
    assert len(listed) == 5

    html = client.get("/wiki/outil/credits", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    rows = _credits_page_rows(html)
    assert [name for name, _credited in rows] == [c["name"] for c in listed]
    assert [credited for name, credited in rows if name == "marie"] == [
        "member of this commons",
        f"external author, imported from {ELSEWHERE}",
    ]

    stream = io.BytesIO()
    bundles.export_bundle(stream, bundles.Selection(slug="outil"), base_url=None)
    with zipfile.ZipFile(stream) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        credits_md = archive.read("CREDITS.md").decode()
    (entry,) = manifest["pages"]
    assert [c["name"] for c in entry["contributors"]] == [c["name"] for c in listed]
    # The page's section: its file and licence lines, then one line per contributor.
    section = credits_md.split("## Outil", 1)[1]
    people = [line for line in section.splitlines() if line.startswith("- ")][2:]
    assert [line[2:].split(",")[0] for line in people] == [c["name"] for c in listed]
    local, imported = (line for line in people if line.startswith("- marie,"))
    assert local.startswith("- marie, 3 ") and ELSEWHERE not in local
    assert imported.startswith("- marie, 1 ") and ELSEWHERE in imported


def test_the_tasl_line_names_three_authors_and_counts_the_others(client, crowded_page) -> None:
    attribution = credits.attribution(crowded_page, crowded_page.current_revision)
    assert (len(attribution.authors), attribution.more_authors) == (3, 2)
    names = ", ".join(attribution.authors)

    html = client.get("/wiki/outil", headers={"Accept-Language": "en"}).get_data(as_text=True)
    tasl = html[html.index('class="tasl-line"') : html.index("all credits")]
    assert names in tasl and re.search(r">\s*2 others</a>", tasl)
    with client.application.test_request_context(headers={"Accept-Language": "en"}):
        texts = credits.reuse_texts(attribution, "https://e.org/", crowded_page.updated_at)
    assert f"by {names} and others (modified), licensed" in texts.text
    assert texts.citation.startswith(f"{names} and others, “Outil”")
