"""Importing a MediaWiki XML dump (``commons import-mediawiki``): history, authors,
summaries, minor flags, redirects, templates, file pages, other namespaces, bad input.
The fixture is a small export written by hand with invented content."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from commons.extensions import db
from commons.imports.mediawiki_markup import Context, convert
from commons.imports.yeswiki import author_name
from commons.models import Media, MediaVersion, Page, Redirect, Revision
from commons.slugs import slugify
from commons.text import fold

DUMP = Path(__file__).parent / "fixtures" / "mediawiki" / "export.xml"
NBSP = "\u00a0"


def run(runner, *args: str):
    return runner.invoke(args=["import-mediawiki", *map(str, args)])


def history(slug: str) -> list[Revision]:
    page = db.session.scalar(select(Page).where(Page.slug == slug))
    assert page is not None, slug
    return list(
        db.session.scalars(
            select(Revision).where(Revision.page_id == page.id).order_by(Revision.number)
        )
    )


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(Page.id))),
        db.session.scalar(select(func.count(Revision.id))),
    )


def test_a_dump_is_imported_with_its_history_authors_summaries_and_minor_flags(app, runner):
    result = run(runner, DUMP)
    assert result.exit_code == 0, result.output
    revisions = history("atelier-de-reparation")
    assert [revision.author_name for revision in revisions] == [
        "Sophie Martin",
        author_name("198.51.100.4"),
        "Karim Benali",
    ]
    assert [revision.summary for revision in revisions] == [
        "Première version",
        "orthographe",
        "Déroulé et liens",
    ]
    assert [revision.minor for revision in revisions] == [False, True, False]
    # Each revision names where it comes from: the page on the wiki (from <base>).
    assert {revision.origin for revision in revisions} == {
        "https://wiki.exemple.org/wiki/Atelier_de_r%C3%A9paration"
    }
    assert revisions[-1].created_at.replace(tzinfo=UTC) == datetime(2023, 6, 10, 14, tzinfo=UTC)
    body = revisions[-1].body
    assert "## Principe" in body and "### Déroulé" in body
    assert "**ensemble**" in body and "*quotidien*" in body
    assert "[[ressourcerie-de-lille|la ressourcerie]]" in body
    assert "[le réseau](<https://exemple.org>)" in body
    assert "- accueil" in body and "    - inscription" in body and "1. diagnostic" in body


def test_a_redirect_stays_a_redirect(app, runner, client):
    run(runner, DUMP)
    assert db.session.get(Redirect, "repair-cafe") is not None
    response = client.get("/wiki/repair-cafe")
    assert response.status_code in (301, 302, 308)
    assert "/wiki/atelier-de-reparation" in response.headers["Location"]


def test_templates_are_kept_as_code_and_reported(app, runner):
    result = run(runner, DUMP, "--dry-run")
    assert "Infobox atelier" in result.output
    assert (
        f"non converti dans Atelier de réparation{NBSP}: {{{{Infobox atelier|lieu=Lille"
        in result.output
    )


def test_file_pages_are_imported_and_other_namespaces_skipped(app, runner):
    result = run(runner, DUMP)
    slugs = set(db.session.scalars(select(Page.slug)))
    file_page = slugify("fichier Affiche atelier.png")
    assert file_page in slugs
    assert not any("discussion" in slug or "modele" in slug for slug in slugs)
    assert f"ignoré{NBSP}: Discussion:Atelier de réparation" in result.output
    assert f"ignoré{NBSP}: Modèle:Infobox atelier" in result.output
    body = history("atelier-de-reparation")[-1].body
    assert f"[[{file_page}|L'affiche]]" in body


def test_files_carried_by_the_dump_become_media_by_their_uploader(app, runner, tmp_path):
    result = run(runner, DUMP)
    assert result.exit_code == 0, result.output
    poster = db.session.scalar(select(Media).where(Media.name == "affiche-atelier.png"))
    assert poster is not None and poster.license == "CC-BY-SA-4.0"
    version = db.session.get(MediaVersion, poster.current_version_id)
    assert version.author_name == "Karim Benali"
    assert version.created_at.replace(tzinfo=UTC) == datetime(2023, 6, 10, 13, 55, tzinfo=UTC)


def test_a_file_given_only_by_its_address_is_reported(app, runner, tmp_path):
    text = DUMP.read_text(encoding="utf-8")
    start, end = text.index('<contents encoding="base64">'), text.index("</contents>")
    without = tmp_path / "export.xml"
    without.write_text(text[:start] + text[end + len("</contents>") :], encoding="utf-8")
    result = run(runner, without, "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"ignoré{NBSP}: Affiche_atelier.png (le fichier lui-même" in result.output


def test_categories_become_tags(app, runner):
    run(runner, DUMP)
    page = db.session.scalar(select(Page).where(Page.slug == "atelier-de-reparation"))
    assert page.tag_names == ["Ateliers"]


def test_a_dry_run_writes_nothing_and_a_second_run_changes_nothing(app, runner):
    assert run(runner, DUMP, "--dry-run").exit_code == 0
    assert counts() == (0, 0)
    assert run(runner, DUMP).exit_code == 0
    before = counts()
    again = run(runner, DUMP)
    assert again.exit_code == 0, again.output
    assert counts() == before


@pytest.mark.parametrize(
    "content", ["<mediawiki><page><title>x</title>", "ceci n'est pas du XML", ""]
)
def test_a_file_that_is_not_a_dump_is_refused_clearly(app, runner, tmp_path, content):
    bad = tmp_path / "export.xml"
    bad.write_text(content, encoding="utf-8")
    result = run(runner, bad)
    assert result.exit_code == 1
    assert "MediaWiki" in result.output
    assert counts() == (0, 0)


def test_wikitext_conversion_never_drops_text(app):
    context = Context(page_slug=slugify, namespace=lambda title: ("", title))
    text = "{{Modèle|a=1}} ''a'' '''b''' [[Lien|vers]] {| class=x\n| cellule\n|}\n<span>c</span>"
    markdown = convert(text, context).markdown
    for word in ("Modèle", "a", "b", "vers", "cellule", "c"):
        assert word in markdown


_PIECES = [
    *"abcé AZ\n*#:;|=-!'[]{}<>/",
    *["''", "'''", "[[", "]]", "{{", "}}", "{|", "|}", "==", "<ref>", "</ref>", "<b>",
      "http://x.org", "[http://x.org lien]", "Fichier:", "Catégorie:"],
]  # fmt: skip


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(_PIECES), max_size=60).map("".join))
def test_the_wikitext_converter_never_crashes_and_never_drops_a_word(app, text):
    context = Context(page_slug=slugify, namespace=lambda title: ("", title))
    markdown = convert(text, context).markdown
    kept = fold(markdown)
    # Words of the text, not the names of its HTML-like tags (markup, not text).
    for word in re.findall(r"[a-zA-Zé]+", re.sub(r"</?[a-zA-Zé]+[^<>]*>", " ", text)):
        assert fold(word) in kept, (word, markdown)
