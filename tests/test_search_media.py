"""Search finds media (uploaded files) by name, title, description, authors and the
captions pages give them, apart from the pages: page results never change because of them."""

from __future__ import annotations

import io
import shutil

import pytest
from markupsafe import Markup
from PIL import Image

from commons import media, moderation, page_moves, page_queries, pages, search
from commons.extensions import db
from commons.models import User

from .conftest import make_app
from .test_search import save

#: Each direct service call stands for a request: its end commits, and the index hears of it.
pytestmark = pytest.mark.usefixtures("commit_each_change")


def picture(color: str = "green") -> bytes:
    stream = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(stream, "PNG")
    return stream.getvalue()


def upload(author, filename: str = "affiche-atelier-2024.png", data: bytes | None = None, **fields):
    return media.upload(data or picture(), filename=filename, author=author, **fields).media


def names(query: str, **filters) -> list[str]:
    results = search.search(query, **filters)
    assert results.message is None, results.message
    return [hit.name for hit in results.media]


# --- what a media is found by -----------------------------------------------------------


def test_found_by_the_words_of_its_name(app, member):
    upload(member)

    assert names("affiche") == ["affiche-atelier-2024.png"]
    assert names("atelier") == ["affiche-atelier-2024.png"]
    assert names("affiche atelier 2024") == ["affiche-atelier-2024.png"]
    assert names("affiche-atelier-2024.png") == ["affiche-atelier-2024.png"]
    assert names("tomates") == []


def test_found_by_title_description_and_authors_with_or_without_accents(app, member):
    upload(
        member,
        "plan.png",
        title="Plan du quartier",
        description="Dessiné pour la coopérative d'habitants.",
        creators="Studio Graphique",
    )
    upload(member, "rapport.pdf", data=b"%PDF-1.4 rapport", description="Une cooperative")

    assert names("quartier") == ["plan.png"]
    assert set(names("cooperative")) == {"plan.png", "rapport.pdf"}
    assert set(names("coopératives")) == {"plan.png", "rapport.pdf"}
    assert names("habitant") == ["plan.png"]
    assert names("studio graphique") == ["plan.png"]
    assert set(names("marie")) == {"plan.png", "rapport.pdf"}  # who uploaded them

    found = {hit.name: hit for hit in search.search("cooperative").media}
    assert (found["plan.png"].kind, found["rapport.pdf"].kind) == ("image", "document")
    assert found["plan.png"].title == "Plan du quartier"
    assert isinstance(found["plan.png"].snippet, Markup)
    assert "<mark>coopérative</mark>" in found["plan.png"].snippet


def test_found_by_the_captions_pages_give_it(app, member, admin, editor):
    upload(member, "plan.png")
    save(member, "Visite", "Voici ![Le potager collectif](media:plan.png) du quartier.")
    save(member, "Carte", "[[media:plan.png|Itinéraire vers la fête]]")

    assert names("potager") == ["plan.png"]
    assert names("itineraire fete") == ["plan.png"]
    assert "<mark>potager</mark>" in search.search("potager").media[0].snippet

    # Neither a deleted page nor a hidden revision speaks for a media.
    carte = page_queries.get("carte")
    page_moves.delete(carte, author=editor)
    assert names("itineraire") == []
    visite = page_queries.get("visite")
    moderation.set_revision_hidden(visite.current_revision, True, author=admin)
    assert names("potager") == []
    moderation.set_revision_hidden(visite.current_revision, False, author=admin)
    assert names("potager") == ["plan.png"]


def test_captions_written_before_the_upload_count_once_it_comes(app, member):
    save(member, "Visite", "![Le potager collectif](media:plan.png)")
    assert names("potager") == []

    upload(member, "plan.png")

    assert names("potager") == ["plan.png"]


def test_captions_in_code_are_not_captions(app, member):
    upload(member, "plan.png")
    save(member, "Syntaxe", "Écrire `![Le potager collectif](media:plan.png)` pour l'afficher.")

    assert names("potager") == []


# --- the index follows the database ----------------------------------------------------


def test_a_new_version_is_found_by_its_new_words_only(app, member):
    item = upload(member, "plan.png", description="Le plan des tomates.")
    assert names("tomates") == ["plan.png"]

    media.upload(
        picture("red"), filename="plan.png", author=member, replace=item, description="Courges."
    )

    assert names("courges") == ["plan.png"]
    assert names("tomates") == []


def test_a_caption_removed_from_a_page_no_longer_finds_the_media(app, member):
    upload(member, "plan.png")
    page = save(member, "Visite", "![Le potager collectif](media:plan.png)")
    assert names("potager") == ["plan.png"]

    pages.save(page.slug, title=page.title, body="![Le verger](media:plan.png)", author=member)
    assert names("verger") == ["plan.png"]
    assert names("potager") == []

    pages.save(page.slug, title=page.title, body="Plus d'image.", author=member)
    assert names("verger") == []


def test_reindex_rebuilds_media(app, member, tmp_path):
    upload(member, "plan.png", description="Le plan des tomates.")
    save(member, "Visite", "![Le potager collectif](media:plan.png)")
    db.session.commit()
    # A new, empty index: once rebuilt, it is not behind, so queries catch nothing up.
    other = make_app(tmp_path, fresh=False, INDEX_DIR=str(tmp_path / "other-index"))
    with other.app_context():
        assert search.reindex() == 1
        assert not other.extensions["commons_search"].behind()

        assert names("tomates") == ["plan.png"]
        assert names("potager") == ["plan.png"]
        assert [hit.slug for hit in search.search("potager").hits] == ["visite"]
        db.session.remove()
        db.engine.dispose()


def test_a_lost_index_is_rebuilt_with_media(app, member):
    upload(member, "plan.png", description="Le plan des tomates.")
    assert names("tomates") == ["plan.png"]

    shutil.rmtree(app.config["INDEX_DIR"])

    assert names("tomates") == ["plan.png"]


def test_another_instance_finds_an_upload_after_catching_up(app, member, tmp_path):
    other = make_app(tmp_path, fresh=False, INDEX_DIR=str(tmp_path / "other-index"))
    save(member, "Visite", "Du pain au levain.")
    db.session.commit()
    with other.app_context():
        # The other instance's index is up to date with the pages before the upload.
        assert [hit.slug for hit in search.search("levain").hits] == ["visite"]
        db.session.remove()

    upload(member, "plan.png", description="Le plan du fournil.")
    db.session.commit()

    with other.app_context():
        assert names("fournil") == ["plan.png"]
        db.session.remove()
        db.engine.dispose()


def test_an_upload_by_another_instance_is_found_here(app, member, tmp_path):
    assert names("fournil") == []  # this instance's index exists and is up to date
    db.session.commit()
    other = make_app(tmp_path, fresh=False, INDEX_DIR=str(tmp_path / "other-index"))
    with other.app_context():
        upload(db.session.get(User, member.id), "plan.png", description="Le plan du fournil.")
        db.session.remove()
        db.engine.dispose()

    assert names("fournil") == ["plan.png"]


# --- pages are not affected --------------------------------------------------------------


def _page_results(query: str, **filters) -> tuple:
    results = search.search(query, **filters)
    return (
        [(hit.slug, round(hit.score, 9)) for hit in results.hits],
        results.total,
        [(f.value, f.count) for f in results.kinds],
        [(f.value, f.count) for f in results.tags],
        results.suggestion,
        results.message,
    )


def test_page_results_totals_facets_and_suggestions_ignore_media(app, member, editor):
    save(member, "Jardin partagé", "Des tomates et des courges.", kind="tool", tags=["jardin"])
    save(member, "Fournil", "Du pain, des tomates au four.", kind="experiment")
    queries = [
        ("tomates", {}),
        ("tomate -pain", {}),
        ('"des tomates"', {}),
        ("tomates OR verger", {}),
        ("", {"kind": "tool"}),
        ("verger", {}),
        ("tomatse", {}),
        ("tomates", {"sort": "recent"}),
    ]
    before = [_page_results(query, **filters) for query, filters in queries]

    upload(member, "verger-tomates.png", description="Des tomates au verger " * 30)
    save(member, "Visite", "![Tomates du verger](media:verger-tomates.png)", kind="tool")
    page_moves.delete(page_queries.get("visite"), author=editor)

    assert [_page_results(query, **filters) for query, filters in queries] == before
    assert names("tomates") == ["verger-tomates.png"]


def test_a_corrected_query_finds_media_too(app, member):
    save(member, "Affiches du forum", "Des affiches.")
    upload(member)

    results = search.search("afiche")

    assert results.corrected == "affiches"
    assert [hit.name for hit in results.media] == ["affiche-atelier-2024.png"]


def test_kind_or_tag_filters_leave_media_out(app, member):
    save(member, "Plan", "Un plan.", kind="tool", tags=["carte"])
    upload(member, "plan.png")

    assert names("plan") == ["plan.png"]
    assert names("plan", kind="tool") == []
    assert names("plan", tag="carte") == []
    assert search.search("plan", page=2, per_page=1).media == []


def test_exclusions_alone_list_no_media(app, member):
    upload(member, "plan.png")

    assert search.search("-tomates").media == []


# --- HTTP ----------------------------------------------------------------------------------


def test_search_page_shows_files(app, member, client):
    upload(member, title="Affiche de l'atelier", description="Pour la fête du quartier.")
    upload(member, "compte-rendu.txt", data=b"Compte rendu", description="La fete, en bref.")
    save(member, "Fête", "La fête du quartier.")

    html = client.get("/search", query_string={"q": "fete"}).get_data(as_text=True)

    assert 'href="/wiki/fete"' in html
    assert '<h2 id="media-results-title">' in html
    assert 'href="/media/affiche-atelier-2024.png"' in html
    assert 'src="/media/affiche-atelier-2024.png/thumbnail"' in html
    assert 'href="/media/compte-rendu.txt"' in html
    assert 'src="/media/compte-rendu.txt/thumbnail"' not in html
    assert "<mark>fête</mark>" in html
    assert "Affiche de l&#39;atelier" in html

    html = client.get("/search", query_string={"q": "quartier"}).get_data(as_text=True)
    html_without = client.get("/search", query_string={"q": "inconnu"}).get_data(as_text=True)
    assert "media-results-title" in html
    assert "media-results-title" not in html_without


def test_search_page_with_only_media_hits(app, member, client):
    upload(member)

    html = client.get("/search", query_string={"q": "affiche"}).get_data(as_text=True)

    assert 'href="/media/affiche-atelier-2024.png"' in html
    assert "media-results-title" in html


def test_search_api_adds_media_and_keeps_its_keys(app, member, client):
    save(member, "Affiches", "Les affiches du forum.", kind="tool", tags=["forum"])
    upload(member, description="L'affiche du forum.")

    data = client.get("/api/v1/search", query_string={"q": "affiche"}).get_json()

    assert {"results", "total", "suggestion", "media"} <= data.keys()
    assert data["total"] == 1
    assert [hit["slug"] for hit in data["results"]] == ["affiches"]
    assert set(data["results"][0]) == {"slug", "title", "snippet", "kind", "tags"}
    assert data["facets"]["kind"] == {"tool": 1}
    [found] = data["media"]
    assert set(found) == {"name", "title", "kind", "snippet", "url"}
    assert found["name"] == "affiche-atelier-2024.png"
    assert found["kind"] == "image"
    assert "<mark>affiche</mark>" in found["snippet"]
    assert found["url"].endswith("/media/affiche-atelier-2024.png")

    filtered = client.get("/api/v1/search", query_string={"q": "affiche", "kind": "tool"})
    assert filtered.get_json()["media"] == []
