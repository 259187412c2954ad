"""The sheet in the HTML editor, and replicating an experiment ("essaimer") from its page."""

from __future__ import annotations

import re

from commons import page_queries, pages
from tests.conftest import PASSWORD, english


def _login(client, name):
    english(client).post("/login", data={"name": name, "password": PASSWORD})
    return client


def _form(html: str) -> dict[str, object]:
    """The values an unchanged submission of the editor would send (enough for these tests)."""
    values: dict[str, object] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html):
        values[name] = value
    for name, value in re.findall(
        r'<input type="text" id="[^"]+" name="([^"]+)" value="([^"]*)"', html
    ):
        values[name] = value
    values["body"] = re.search(
        r'<textarea id="body" name="body"[^>]*>\n?(.*?)</textarea>', html, re.S
    ).group(1)
    for name, options in re.findall(
        r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', html, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        values[name] = chosen.group(1) if chosen else ""
    values["sheet_themes"] = re.findall(r'name="sheet_themes" value="([^"]+)" checked', html)
    values["accept_license"] = "1"
    return values


SHEET = {
    "kind": "experiment",
    "sheet_kind": "experiment",
    "sheet_territory": "Uzès (Gard), Hérault",
    "sheet_period_start": "2023-04",
    "sheet_status": "running",
    "sheet_organisations": "Le Mas des Semences, La Coopé",
    "sheet_themes": ["alimentation", "communs"],
}


def test_the_editor_saves_the_sheet_and_shows_it_again(client, member):
    _login(client, member.name)
    answer = client.post(
        "/wiki/grainotheque/edit",
        data={"title": "Grainothèque", "body": "Des semences.", "accept_license": "1", **SHEET},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    fields = page_queries.get("grainotheque").current_revision.fields
    assert [place["name"] for place in fields["territory"]] == ["Uzès", "Hérault"]
    assert fields["themes"] == ["alimentation", "communs"]
    editor = client.get("/wiki/grainotheque/edit").get_data(as_text=True)
    assert 'value="Uzès (Gard), Hérault"' in editor
    assert 'value="alimentation" checked' in editor


def test_a_wrong_place_in_the_editor_is_refused_and_keeps_what_was_typed(client, member):
    _login(client, member.name)
    answer = client.post(
        "/wiki/grainotheque/edit",
        data={
            "title": "Grainothèque",
            "body": "Un texte long à ne pas perdre.",
            "accept_license": "1",
            **dict(SHEET, sheet_territory="Atlantide"),
        },
    )
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "No French territory is called “Atlantide”" in page
    assert "Un texte long à ne pas perdre." in page and 'value="Atlantide"' in page
    assert page_queries.find("grainotheque") is None


def test_changing_the_kind_keeps_the_fields_both_kinds_have(client, member):
    _login(client, member.name)
    client.post(
        "/wiki/grainotheque/edit",
        data={"title": "Grainothèque", "body": "x", "accept_license": "1", **SHEET},
    )
    client.post(
        "/wiki/grainotheque/edit",
        data={
            "title": "Grainothèque",
            "body": "x",
            "accept_license": "1",
            "base_revision": "1",
            "kind": "tool",
            "sheet_kind": "experiment",
        },
    )
    assert page_queries.get("grainotheque").current_revision.fields == {
        "themes": ["alimentation", "communs"]
    }


def test_replicating_opens_the_editor_on_the_original_and_credits_it(client, member, editor):
    pages.save(
        None,
        title="Cantine bio",
        body="Comment faire.",
        kind="experiment",
        author=editor,
        fields={"territory": ["30334"], "status": "done", "themes": ["alimentation"]},
    )
    _login(client, member.name)
    asked = client.get("/wiki/cantine-bio/replicate").get_data(as_text=True)
    assert "Title of your experiment" in asked
    opened = client.get("/wiki/cantine-bio/replicate?title=Cantine bio à Ajaccio")
    html = opened.get_data(as_text=True)
    assert 'action="/wiki/cantine-bio-a-ajaccio/edit"' in html
    assert 'name="replicates" value="cantine-bio"' in html
    assert 'name="source_title" value="Cantine bio"' in html
    assert 'name="sheet_territory" value=""' in html
    form = _form(html)
    form["sheet_territory"] = "2A004"
    answer = client.post("/wiki/cantine-bio-a-ajaccio/edit", data=form)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    copy = page_queries.get("cantine-bio-a-ajaccio")
    assert copy.replicates_id == page_queries.get("cantine-bio").id
    assert copy.source["title"] == "Cantine bio"
    assert copy.current_revision.fields["territory"][0]["name"] == "Ajaccio"
    assert copy.current_revision.fields["themes"] == ["alimentation"]
    original = english(client).get("/wiki/cantine-bio").get_data(as_text=True)
    assert 'Ajaccio — <a href="/wiki/cantine-bio-a-ajaccio">' in original


def test_only_experiments_are_replicated(client, member):
    pages.save(None, title="Note", body="x", author=member)
    _login(client, member.name)
    assert client.get("/wiki/note/replicate").status_code == 404
