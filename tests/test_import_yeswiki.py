"""Importing a YesWiki site (``commons import-yeswiki``): history, authors, dates,
comments, ACLs, Bazar, files, dry run, second run, bad input. The fixture is a real
mysqldump made by ``tests/fixtures/yeswiki/make_fixture.sh`` with invented content."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from commons.extensions import db
from commons.imports.yeswiki import author_name
from commons.models import Media, MediaVersion, Page, Revision

FIXTURE = Path(__file__).parent / "fixtures" / "yeswiki"
DUMP = FIXTURE / "content.sql"
FILES = FIXTURE / "files"
NBSP = "\u00a0"


def backup_zip(tmp_path: Path, dump: Path = DUMP) -> Path:
    """A backup zip shaped like the one YesWiki's administration page makes."""
    path = tmp_path / "sauvegarde.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(dump, "private/backups/content.sql")
        for file in FILES.iterdir():
            archive.write(file, f"files/{file.name}")
    return path


def run(runner, *args: str):
    return runner.invoke(args=["import-yeswiki", *map(str, args)])


def page(slug: str) -> Page:
    found = db.session.scalar(select(Page).where(Page.slug == slug))
    assert found is not None, slug
    return found


def revisions(slug: str) -> list[Revision]:
    return list(
        db.session.scalars(
            select(Revision).where(Revision.page_id == page(slug).id).order_by(Revision.number)
        )
    )


def counts() -> tuple[int, int, int]:
    return (
        db.session.scalar(select(func.count(Page.id))),
        db.session.scalar(select(func.count(Revision.id))),
        db.session.scalar(select(func.count(Media.id))),
    )


def test_a_backup_zip_is_imported_with_every_revision_author_and_date(app, runner, tmp_path):
    result = run(runner, backup_zip(tmp_path))
    assert result.exit_code == 0, result.output
    history = revisions("page-principale")
    assert [revision.author_name for revision in history] == [
        "CamilleMartin",
        author_name("203.0.113.7"),  # "anonymous", in the commons' language
        "LeaDurand",
    ]
    # YesWiki stores Paris time: 23:30 in July is 21:30 UTC, 10:15 in March 09:15 UTC.
    assert history[-1].created_at.replace(tzinfo=UTC) == datetime(2024, 7, 14, 21, 30, tzinfo=UTC)
    assert history[0].created_at.replace(tzinfo=UTC) == datetime(2024, 3, 1, 9, 15, tzinfo=UTC)
    current = page("page-principale")
    assert current.title == "Bienvenue au réseau"
    body = history[-1].body
    # The heading the page is titled by is not repeated under the title.
    assert body.startswith("Notre réseau relie")
    assert "*cafés associatifs*" in body
    assert "[[atelier-compost|l'atelier compost]]" in body
    assert "(media:page-principale-affiche.png)" in body
    assert "(media:page-principale-programme.pdf)" in body


def test_credits_name_every_imported_author(app, runner, client, tmp_path):
    run(runner, backup_zip(tmp_path))
    credits = client.get("/api/v1/pages/page-principale/credits").get_json()
    names = json.dumps(credits)
    assert "CamilleMartin" in names and "LeaDurand" in names
    assert author_name("203.0.113.7") in names
    history = client.get("/wiki/page-principale/history")
    assert history.status_code == 200
    assert "LeaDurand" in history.get_data(as_text=True)


def test_system_and_restricted_pages_are_skipped_and_reported(app, runner, tmp_path):
    result = run(runner, backup_zip(tmp_path))
    assert result.exit_code == 0, result.output
    slugs = set(db.session.scalars(select(Page.slug)))
    assert not slugs & {"page-header", "page-menu-haut", "gerer-site", "reunion-du-bureau"}
    # The command speaks the commons' language: French by default.
    assert f"ignoré{NBSP}: ReunionDuBureau" in result.output and "@admins" in result.output
    assert f"ignoré{NBSP}: PageHeader" in result.output
    assert f"ignoré{NBSP}: ListeStatut" in result.output


def test_yeswiki_tags_become_tags(app, runner, tmp_path):
    run(runner, backup_zip(tmp_path))
    assert page("atelier-compost").tag_names == ["compost", "Jardinage"]


def test_comments_become_a_discussion_page_by_their_authors(app, runner, tmp_path):
    run(runner, backup_zip(tmp_path))
    history = revisions("atelier-compost-discussion")
    assert [revision.author_name for revision in history] == ["CamilleMartin"]
    assert "Merci pour cet atelier" in history[-1].body
    assert "Atelier compost" in page("atelier-compost-discussion").title


def test_a_bazar_entry_becomes_a_page_with_its_fields_as_a_table(app, runner, tmp_path):
    result = run(runner, backup_zip(tmp_path))
    entry = page("jardin-partage-de-montreuil")
    assert entry.title == "Jardin partagé de Montreuil"
    assert entry.tag_names == ["Expérience"]  # the form's name
    body = revisions("jardin-partage-de-montreuil")[-1].body
    assert "| Champ | Valeur |" in body
    assert "Nom de l" not in body  # the title field is the page's title
    assert "| Statut | En cours |" in body  # list in the object format
    assert "| Thèmes | Alimentation, Énergie |" in body  # list in the array format
    assert "Un jardin cultivé par les habitants du quartier." in body
    assert "(media:jardin-partage-de-montreuil-bilan.pdf)" in body
    record = Path(result.output.rsplit(": ", 1)[1].strip())
    raw = json.loads(record.read_text(encoding="utf-8"))["raw"]["bazar_entries"]
    assert raw["jardin-partage-de-montreuil"]["bf_titre"] == "Jardin partagé de Montreuil"


def test_files_become_media_and_thumbnails_and_trash_are_skipped(app, runner, tmp_path):
    result = run(runner, backup_zip(tmp_path))
    names = set(db.session.scalars(select(Media.name)))
    assert names == {
        "page-principale-affiche.png",
        "page-principale-programme.pdf",  # stored as .pdf_ by YesWiki
        "jardin-partage-de-montreuil-bilan.pdf",
    }
    poster = db.session.scalar(select(Media).where(Media.name == "page-principale-affiche.png"))
    assert poster.license == "CC-BY-SA-4.0"
    version = db.session.get(MediaVersion, poster.current_version_id)
    # The later of two uploads, by the author of the page revision it was attached to.
    later = FILES / "PagePrincipale_affiche_20240301101500_20240301101600.png"
    assert version.sha256 == hashlib.sha256(later.read_bytes()).hexdigest()
    assert version.author_name == "CamilleMartin"
    assert version.created_at.replace(tzinfo=UTC) == datetime(2024, 3, 1, 9, 16, tzinfo=UTC)
    assert "remplacé par un envoi plus récent" in result.output
    assert "vignette" in result.output and "corbeille" in result.output


def test_bazar_listings_and_unknown_actions_are_reported(app, runner, tmp_path):
    result = run(runner, backup_zip(tmp_path), "--dry-run")
    assert f'non converti dans PagePrincipale{NBSP}: {{{{bazarliste id="1"}}}}' in result.output
    assert f"non converti dans PagePrincipale{NBSP}: {{{{calendrier}}}}" in result.output


def test_a_dry_run_reports_and_writes_nothing(app, runner, tmp_path):
    result = run(runner, backup_zip(tmp_path), "--dry-run")
    assert result.exit_code == 0, result.output
    assert counts() == (0, 0, 0)
    assert "4 pages" in result.output and "6 révisions" in result.output
    assert "3 fichiers" in result.output
    assert "CamilleMartin (4)" in result.output  # 3 revisions, 1 file


def test_a_second_run_changes_nothing(app, runner, tmp_path):
    archive = backup_zip(tmp_path)
    assert run(runner, archive).exit_code == 0
    before = counts()
    again = run(runner, archive)
    assert again.exit_code == 0, again.output
    assert counts() == before
    assert "0 pages créées" in again.output
    dry_run = run(runner, archive, "--dry-run")
    assert "page-principale" in dry_run.output and "laissée telle quelle" in dry_run.output


def test_with_the_site_address_each_revision_names_its_origin(app, runner, tmp_path):
    result = run(runner, backup_zip(tmp_path), "--site-url", "https://reseau.exemple.org/?")
    assert result.exit_code == 0, result.output
    assert {revision.origin for revision in revisions("atelier-compost")} == {
        "https://reseau.exemple.org/?AtelierCompost"
    }


def test_a_plain_dump_with_its_files_folder(app, runner, tmp_path):
    result = run(runner, DUMP, "--files", FILES, "--timezone", "UTC", "--license", "CC-BY-4.0")
    assert result.exit_code == 0, result.output
    assert revisions("page-principale")[-1].created_at.replace(tzinfo=UTC) == datetime(
        2024, 7, 14, 23, 30, tzinfo=UTC
    )
    assert page("page-principale").license == "CC-BY-4.0"
    assert len(db.session.scalars(select(Media.name)).all()) == 3


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--prefix", "wakka_"], "wakka_pages"),
        (["--timezone", "Mars/Olympus"], "Mars/Olympus"),
        (["--license", "CC-BY-NC-4.0"], "CC-BY-NC-4.0"),
        (["--site-url", "ftp://exemple.org/"], "ftp://exemple.org/"),
    ],
)
def test_bad_options_are_refused_clearly_and_store_nothing(
    app, runner, tmp_path, arguments, message
):
    result = run(runner, backup_zip(tmp_path), *arguments)
    assert result.exit_code == 1
    assert message in result.output
    assert counts() == (0, 0, 0)


def test_a_zip_that_is_not_a_yeswiki_backup_is_refused(app, runner, tmp_path):
    other = tmp_path / "autre.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("notes.txt", "rien")
    result = run(runner, other)
    assert result.exit_code == 1
    assert "private/backups/content.sql" in result.output
    assert counts() == (0, 0, 0)


def test_a_damaged_dump_is_refused_with_its_line(app, runner, tmp_path):
    damaged = tmp_path / "content.sql"
    text = DUMP.read_text(encoding="utf-8")
    damaged.write_text(
        text.replace("(1,'PagePrincipale',", "('PagePrincipale',"),
        encoding="utf-8",
    )
    result = run(runner, damaged, "--files", FILES)
    assert result.exit_code == 1
    assert "yeswiki_pages" in result.output and "104" in result.output
    assert counts() == (0, 0, 0)


def test_a_dump_cut_in_the_middle_of_a_statement_is_refused(app, runner, tmp_path):
    cut = tmp_path / "content.sql"
    text = DUMP.read_text(encoding="utf-8")
    cut.write_text(text[: text.index("'PagePrincipale','2024-03-02") + 20], encoding="utf-8")
    result = run(runner, cut, "--files", FILES)
    assert result.exit_code == 1
    assert "104" in result.output
    assert counts() == (0, 0, 0)


def test_the_search_finds_imported_pages(app, runner, tmp_path):
    from commons import search

    run(runner, backup_zip(tmp_path))
    app.extensions["commons_search"].wait_for_background(30)
    results = search.search("epluchures")
    assert [hit.slug for hit in results.hits] == ["atelier-compost"]


def test_imported_pages_render(app, runner, client, tmp_path):
    run(runner, backup_zip(tmp_path))
    response = client.get("/wiki/page-principale")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "/media/page-principale-affiche.png" in html
    assert "<h1" in html and html.count("Bienvenue au réseau</h1>") == 1


def test_a_page_too_large_to_save_is_left_out_and_reported(app, runner, tmp_path):
    app.config["MAX_BODY_BYTES"] = 300
    result = run(runner, backup_zip(tmp_path))
    assert result.exit_code == 0, result.output
    assert f"ignoré{NBSP}: PagePrincipale" in result.output
    slugs = set(db.session.scalars(select(Page.slug)))
    assert "page-principale" not in slugs and "atelier-compost" in slugs
