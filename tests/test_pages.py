"""The page service: revisions, conflicts and merges, rename, delete, revert, links."""

from __future__ import annotations

import pytest

from commons import attribution, moderation, page_moves, page_queries, pages, search, transaction
from commons.errors import EditConflict, Forbidden, TooLarge, ValidationError
from commons.extensions import db
from commons.models import Page, Redirect, Revision


def make(member, title="Monnaie locale", body="Une monnaie.\n", **kw):
    return pages.save(None, title=title, body=body, author=member, **kw)


def test_create_makes_first_revision(member):
    result = make(member, kind="experiment", tags=["ESS", " monnaie ", "ess"], summary="début")
    page, rev = result.page, result.revision
    assert result.created
    assert page.slug == "monnaie-locale"
    assert page.tag_names == ["ESS", "monnaie"]  # the first spelling, matched without case
    assert rev.number == 1 and rev.parent_id is None and rev.action == "create"
    assert rev.author_name == "marie" and rev.summary == "début"
    assert rev.sha256 == attribution.content_hash("Une monnaie.\n")
    assert page.current_revision_id == rev.id


def test_slug_from_accented_title(member):
    page = make(member, title="Outils d'animation de la coopération").page
    assert page.slug == "outils-d-animation-de-la-cooperation"


def test_slug_folds_every_form_of_a_ligature(member):
    # The capital sharp s and the accented æ are folded as search folds them.
    page = make(member, title="GROẞE fête des Ǽlfes").page
    assert page.slug == "grosse-fete-des-aelfes"


def test_identical_save_makes_no_revision(member):
    page = make(member).page
    again = pages.save(
        page.slug, title=page.title, body="Une monnaie.\n", author=member, base_revision=1
    )
    assert again.noop
    assert db.session.query(Revision).count() == 1


def test_edit_appends_revision_with_parent(member):
    first = make(member)
    second = pages.save(
        "monnaie-locale", title="Monnaie locale", body="Deux.\n", author=member, base_revision=1
    )
    assert second.revision.number == 2
    assert second.revision.parent_id == first.revision.id
    assert page_queries.get_revision(second.page, 1).body == "Une monnaie.\n"


def test_non_overlapping_concurrent_edits_merge(member, editor):
    base = "intro\n\nun\ndeux\ntrois\nquatre\ncinq\nsix\n"
    make(member, body=base)
    pages.save(
        "monnaie-locale",
        title="Monnaie locale",
        author=editor,
        base_revision=1,
        body=base.replace("un\n", "UN\n"),
    )
    result = pages.save(
        "monnaie-locale",
        title="Monnaie locale",
        author=member,
        base_revision=1,
        body=base.replace("six\n", "SIX\n"),
    )
    assert result.merged
    assert result.revision.body == "intro\n\nUN\ndeux\ntrois\nquatre\ncinq\nSIX\n"


def test_overlapping_concurrent_edits_conflict_and_store_nothing(member, editor):
    make(member, body="ligne\n")
    pages.save(
        "monnaie-locale", title="Monnaie locale", author=editor, base_revision=1, body="ligne A\n"
    )
    transaction.commit()
    with pytest.raises(EditConflict) as caught:
        pages.save(
            "monnaie-locale",
            title="Monnaie locale",
            author=member,
            base_revision=1,
            body="ligne B\n",
        )
    assert caught.value.details["current_revision"] == 2
    transaction.rollback()
    assert db.session.query(Revision).count() == 2


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"title": ""}, "title_required"),
        ({"title": "x" * 201}, "title_too_long"),
        ({"title": "!!!"}, "title_invalid"),
        ({"kind": "poem"}, "kind_invalid"),
        ({"tags": ["x" * 65]}, "tags_invalid"),
        ({"summary": "s" * 501}, "summary_too_long"),
        ({"license": "CC-BY-NC-4.0"}, "license_refused"),
        ({"license_accepted": False}, "license_not_accepted"),
    ],
)
def test_bad_input_is_refused_and_nothing_stored(member, fields, code):
    values = {"title": "Titre", "body": "texte"} | fields
    with pytest.raises(ValidationError) as caught:
        pages.save(None, author=member, **values)
    assert caught.value.code == code
    db.session.rollback()
    assert db.session.query(Page).count() == 0


def test_body_over_limit_is_too_large(app, member):
    app.config["MAX_BODY_BYTES"] = 100
    with pytest.raises(TooLarge):
        make(member, body="é" * 60)


def test_stale_base_revision_that_does_not_exist(member):
    make(member)
    with pytest.raises(ValidationError) as caught:
        pages.save(
            "monnaie-locale", title="Monnaie locale", body="x", author=member, base_revision=7
        )
    assert caught.value.code == "base_revision_invalid"


def test_reader_and_anonymous_cannot_edit(member, reader):
    with pytest.raises(Forbidden):
        make(reader)
    with pytest.raises(Forbidden):
        make(None)


def test_protected_page_needs_editor(member, editor):
    page = make(member).page
    moderation.set_protected(page, True, author=editor)
    with pytest.raises(Forbidden):
        pages.save(page.slug, title=page.title, body="autre", author=member, base_revision=1)
    assert (
        pages.save(
            page.slug, title=page.title, body="autre", author=editor, base_revision=1
        ).revision.number
        == 2
    )


def test_rename_keeps_history_and_redirects(member, editor):
    page = make(member).page
    rev = page_moves.rename(page, "Monnaies locales complémentaires", author=editor)
    assert rev.action == "rename" and rev.number == 2
    assert page.slug == "monnaies-locales-complementaires"
    found, redirected = page_queries.resolve("monnaie-locale")
    assert found.id == page.id and redirected
    assert db.session.get(Redirect, "monnaie-locale").page_id == page.id


def test_rename_to_taken_slug_is_refused(member, editor):
    make(member, title="Un")
    other = make(member, title="Deux").page
    with pytest.raises(ValidationError):
        page_moves.rename(other, "Un", author=editor)


def test_delete_and_restore_are_revisions(member, editor):
    page = make(member).page
    page_moves.delete(page, author=editor, summary="doublon")
    assert page_queries.find(page.slug) is None
    assert page.current_revision.action == "delete"
    page_moves.restore(page, author=editor)
    assert page_queries.find(page.slug) is not None
    assert [r.action for r in page_queries.history(page)] == ["restore", "delete", "create"]
    assert page.current_revision.body == "Une monnaie.\n"


def test_member_cannot_delete(member):
    page = make(member).page
    with pytest.raises(Forbidden):
        page_moves.delete(page, author=member)


def test_revert_appends_old_content(member):
    page = make(member).page
    pages.save(page.slug, title="Monnaie locale", body="vandalisme", author=member, base_revision=1)
    rev = page_moves.revert(page, 1, author=member)
    assert rev.number == 3 and rev.action == "revert"
    assert page.current_revision.body == "Une monnaie.\n"


def test_links_and_backlinks(member):
    make(member, title="Monnaie locale", body="Voir [[Épicerie solidaire]].")
    target = make(member, title="Épicerie solidaire", body="Rien.").page
    assert [p.slug for p in page_queries.backlinks(target)] == ["monnaie-locale"]
    assert page_queries.existing_slugs(["epicerie-solidaire", "absente"]) == {"epicerie-solidaire"}


def test_listing_and_counts(member):
    make(member, title="A", kind="tool", tags=["x"])
    make(member, title="B", kind="tool", tags=["y"])
    make(member, title="C", kind="experiment", tags=["x"])
    assert page_queries.kind_counts()["tool"] == 2
    assert dict(page_queries.tag_counts()) == {"x": 2, "y": 1}
    found, total = page_queries.list_pages(tag="x")
    assert total == 2 and [p.title for p in found] == ["A", "C"]


def test_tags_keep_their_spelling_and_match_without_case_or_accents(client, member):
    pages.save(None, title="Réseau", body="x", author=member, tags=["ESS", "Gard", "ess"])
    second = pages.save(
        None, title="Autre", body="y", author=member, tags=["ess", "gard", "Évaluation"]
    )
    pages.save(None, title="Loin", body="z", author=member, tags=["evaluation"])

    listing = client.get("/tag/ess").get_data(as_text=True)
    accented = client.get("/tag/%C3%A9VALUATION").get_data(as_text=True)
    tags_page = client.get("/tags").get_data(as_text=True)

    assert page_queries.find("reseau").tag_names == ["ESS", "Gard"]
    assert second.page.tag_names == ["ESS", "Évaluation", "Gard"]
    assert second.revision.tags == ["ESS", "Évaluation", "Gard"]
    assert page_queries.find("loin").tag_names == ["Évaluation"]
    assert "Réseau" in listing and "Autre" in listing and "Loin" not in listing
    assert "Autre" in accented and "Loin" in accented
    assert 'href="/tag/ESS"' in tags_page and "/tag/ess" not in tags_page
    assert {hit.slug for hit in search.search("", tag="gärd").hits} == {"reseau", "autre"}


def test_retyping_a_tag_in_another_case_changes_nothing(member):
    page = pages.save(None, title="Réseau", body="x", author=member, tags=["ESS"]).page

    again = pages.save(page.slug, title="Réseau", body="x", author=member, tags=["ess"])

    assert again.revision is None
    assert page.tag_names == ["ESS"]
