"""Hidden and deleted text: what each role gets of it, on every route.

A page whose current revision an admin hid (it holds a phone number) is read, edited,
renamed, deleted, restored, reverted, searched, followed and exported by an anonymous
visitor, a reader, a member, an editor and an admin: the hidden text reaches admins
only, and never comes back into a visible revision. Deleted pages are for editors.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile

import pytest

from commons import auth, moderation, page_moves, page_queries, pages, search, transaction
from commons.errors import Forbidden, ValidationError
from commons.extensions import db
from commons.models import Page, Revision

from .conftest import AuthActions, make_app
from .test_search_media import upload

SECRET = "0612345678"
#: A word found in the hidden text only.
WORD = "zorglub"
#: A file the hidden text shows: its credit would betray the hidden text too.
PLAN = "plan-du-local.png"
FIRST = "Le local ouvre le mardi.\n"
VISIBLE = "Le local ouvre le mercredi.\n"
HIDDEN = f"{VISIBLE}\nTrésorière : Jeanne {WORD}, {SECRET}.\n\n![Plan](media:{PLAN})\n"
HIDDEN_HASH = hashlib.sha256(HIDDEN.encode()).hexdigest()

ROLES = [None, "reader", "member", "editor", "admin"]
EDITORS = {"editor", "admin"}
MEMBERS = {"member", *EDITORS}


@pytest.fixture(params=ROLES, ids=lambda role: role or "anonymous")
def role(request, client) -> str | None:
    """Each role in turn, logged in on ``client``."""
    if request.param is not None:
        AuthActions(client).login(request.getfixturevalue(request.param))
    return request.param


@pytest.fixture
def bearer(request, role) -> dict[str, str]:
    """Headers for the API as ``role`` (a logged-in browser would need a CSRF token)."""
    if role is None:
        return {}
    return {"Authorization": "Bearer " + auth.create_token(request.getfixturevalue(role))}


@pytest.fixture
def page(app, member, admin):
    """Revisions 1 and 2 visible; revision 3, the current one, hidden."""
    upload(member, PLAN, title="Plan du local")
    pages.save(None, title="Contacts", body=FIRST, author=member)
    pages.save("contacts", title="Contacts", body=VISIBLE, author=member)
    hidden = pages.save("contacts", title="Contacts", body=HIDDEN, author=member).revision
    moderation.set_revision_hidden(hidden, True, author=admin)
    return page_queries.get("contacts")


def text(response) -> str:
    return response.get_data(as_text=True)


def visible_revisions_hold_no_secret(slug: str = "contacts") -> None:
    page = page_queries.get(slug, include_deleted=True)
    for revision in page_queries.history(page):
        assert revision.hidden or SECRET not in revision.body, revision.number


# --- reading -----------------------------------------------------------------------------


def pages_read(client, *urls: str) -> dict[str, str]:
    """What each of ``urls`` shows, all of them answering 200."""
    shown = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        shown[url] = text(response)
    return shown


def test_hidden_text_is_shown_to_admins_only(client, page, role) -> None:
    shown = pages_read(
        client,
        "/wiki/contacts",
        "/wiki/contacts?rev=3",
        "/wiki/contacts/diff",
        "/wiki/contacts/diff?from=2&to=3",
        "/wiki/contacts/diff?from=3&to=1",
        "/api/v1/pages/contacts",
        "/api/v1/pages/contacts?rev=3",
    )
    for url, body in shown.items():
        assert (SECRET in body) == (role == "admin"), url


def test_hidden_text_and_what_it_shows_are_shown_to_no_one(client, page, role) -> None:
    shown = pages_read(
        client,
        "/wiki/contacts/history",
        "/wiki/contacts/credits",
        "/api/v1/pages/contacts/credits",
        "/recent",
        "/recent.atom",
        "/search?q=contacts",
        "/api/v1/search?q=contacts",
    )
    for url, body in shown.items():
        for derived in (SECRET, HIDDEN_HASH, PLAN):
            assert derived not in body, (url, derived)


def test_hidden_words_are_found_by_no_one(client, page, role) -> None:
    for query in (WORD, SECRET):
        found = client.get(f"/api/v1/search?q={query}").json
        assert found["total"] == 0 and found["results"] == []
        assert found["facets"]["kind"] == {}


def test_revisions_list_gives_a_hidden_revisions_size_and_hash_to_admins_only(
    client, page, role
) -> None:
    response = client.get("/api/v1/pages/contacts/revisions")
    listed = {entry["revision"]: entry for entry in response.json["revisions"]}
    assert listed[3]["hidden"] is True
    if role == "admin":
        assert listed[3]["sha256"] == HIDDEN_HASH and listed[3]["size"] == len(HIDDEN.encode())
    else:
        assert {"sha256", "size"}.isdisjoint(listed[3])
    assert listed[2]["sha256"] == hashlib.sha256(VISIBLE.encode()).hexdigest()


def size_cells(html: str) -> str:
    return " ".join(re.findall(r'<td class="size">(.*?)</td>', html, re.S))


def test_history_and_recent_changes_show_no_size_of_a_hidden_revision(
    client, member, admin, role
) -> None:
    # 17 bytes, then 731 hidden, then 45: neither 731 nor a difference with it may show.
    pages.save(None, title="Liste", body="a" * 16 + "\n", author=member)
    hidden = pages.save("liste", title="Liste", body="b" * 730 + "\n", author=member).revision
    pages.save("liste", title="Liste", body="c" * 44 + "\n", author=member)
    moderation.set_revision_hidden(hidden, True, author=admin)
    differences = (str(731 - 17), str(731 - 45))
    history = size_cells(text(client.get("/wiki/liste/history")))
    recent = size_cells(text(client.get("/recent")))  # differences only
    for cells, betraying in ((history, ("731", *differences)), (recent, differences)):
        if role == "admin":
            assert all(number in cells for number in betraying)
        else:
            assert not any(number in cells for number in betraying)
            assert "17" in cells


def test_exports_carry_no_hidden_text_whoever_asks(client, page, role) -> None:
    for response in (
        client.post("/export", data={"scope": "page", "slug": "contacts", "history": "on"}),
        client.post("/api/v1/export", json={"slug": "contacts", "history": True}),
    ):
        assert response.status_code == 200
        with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
            everything = b"".join(archive.read(name) for name in archive.namelist())
        for derived in (SECRET, HIDDEN_HASH, PLAN):
            assert derived.encode() not in everything, derived


# --- editing on top of a hidden revision ---------------------------------------------------


def test_the_editor_starts_from_the_last_visible_text(client, page, role) -> None:
    response = client.get("/wiki/contacts/edit")
    if role not in MEMBERS:
        assert response.status_code in (302, 403)
        return
    form = text(response)
    assert response.status_code == 200
    assert SECRET not in form
    assert "Le local ouvre le mercredi." in form
    assert 'name="base_revision" value="3"' in form


def test_saving_the_editor_as_it_came_publishes_no_hidden_text(client, page, role) -> None:
    form = {
        "title": "Contacts",
        "body": VISIBLE,
        "base_revision": "3",
        "license": "CC-BY-SA-4.0",
        "accept_license": "on",
    }
    response = client.post("/wiki/contacts/edit", data=form)
    current = page_queries.get("contacts").current_revision
    if role in MEMBERS:
        assert response.status_code == 302
        assert current.number == 4 and not current.hidden and current.body == VISIBLE
    else:
        assert current.number == 3
    visible_revisions_hold_no_secret()


def test_the_conflict_screen_shows_the_last_visible_text(client, page, role) -> None:
    form = {
        "title": "Contacts",
        "body": "Le local ouvre le jeudi.\n",
        "base_revision": "1",
        "accept_license": "on",
    }
    response = client.post("/wiki/contacts/edit", data=form)
    assert SECRET not in text(response)
    if role in MEMBERS:
        assert response.status_code == 409
        assert "Le local ouvre le mercredi." in text(response)
    visible_revisions_hold_no_secret()


def test_an_edit_merged_over_a_hidden_revision_leaves_its_text_out(member, admin) -> None:
    lines = ["Ouvert le mardi.\n", "\n", "Venez nombreux.\n", "\n", "Apportez des chaises.\n"]
    pages.save(None, title="Contacts", body="".join(lines), author=member)
    with_secret = [f"Ouvert le mardi, appeler le {SECRET}.\n", *lines[1:]]
    hidden = pages.save("contacts", title="Contacts", body="".join(with_secret), author=member)
    moderation.set_revision_hidden(hidden.revision, True, author=admin)
    mine = "".join([*lines[:4], "Apportez des tables.\n"])
    merged = pages.save("contacts", title="Contacts", body=mine, base_revision=1, author=member)
    assert merged.revision.number == 3 and merged.revision.body == mine
    visible_revisions_hold_no_secret()


def test_an_api_conflict_over_a_hidden_revision_gives_no_hidden_text(
    client, page, role, bearer
) -> None:
    payload = {"body": "Le local ouvre le jeudi.\n", "base_revision": 1}
    response = client.put("/api/v1/pages/contacts", json=payload, headers=bearer)
    assert (SECRET in text(response)) == (role == "admin")
    if role in MEMBERS:
        assert response.status_code == 409
        assert response.json["current"]["body"] == (HIDDEN if role == "admin" else None)


@pytest.mark.parametrize(
    ("action", "allowed"),
    [
        ("rename", EDITORS),
        ("delete", EDITORS),
        ("revert/2", MEMBERS),
    ],
)
def test_rename_delete_and_revert_of_a_hidden_revision_keep_its_text_hidden(
    client, page, role, action, allowed
) -> None:
    response = client.post(f"/wiki/contacts/{action}", data={"title": "Contacts utiles"})
    assert SECRET not in text(response)
    page = db.session.get(Page, page.id)
    made = page.revision_count > 3
    assert made == (role in allowed)
    if made:
        assert page.current_revision.body == VISIBLE and not page.current_revision.hidden
    visible_revisions_hold_no_secret(page.slug)


def test_restoring_a_page_whose_deletion_is_hidden_keeps_its_text_hidden(
    client, member, editor, admin, role
) -> None:
    page = pages.save(None, title="Contacts", body=FIRST, author=member).page
    pages.save("contacts", title="Contacts", body=HIDDEN, author=member)
    deletion = page_moves.delete(page, author=editor)
    assert SECRET in deletion.body
    for number in (2, 3):
        moderation.set_revision_hidden(page_queries.get_revision(page, number), True, author=admin)
    response = client.post("/wiki/contacts/restore")
    assert SECRET not in text(response)
    page = page_queries.get("contacts", include_deleted=True)
    assert page.deleted == (role not in EDITORS)
    if role in EDITORS:
        assert page.current_revision.body == FIRST
    visible_revisions_hold_no_secret()


def test_hiding_the_current_revision_takes_its_links_away(client, member, admin) -> None:
    pages.save(None, title="Cible", body="Une page.\n", author=member)
    source = pages.save(None, title="Source", body="Voir [[Cible]].\n", author=member).page
    assert page_queries.backlinks(page_queries.get("cible")) == [source]
    moderation.set_revision_hidden(source.current_revision, True, author=admin)
    assert page_queries.backlinks(page_queries.get("cible")) == []
    assert "/wiki/source" not in text(client.get("/wiki/cible"))
    moderation.set_revision_hidden(source.current_revision, False, author=admin)
    assert page_queries.backlinks(page_queries.get("cible")) == [source]


# --- the search index of every process ------------------------------------------------------


def test_hiding_in_one_process_is_seen_by_another_without_any_save(app, member, admin, tmp_path):
    other = make_app(tmp_path, fresh=False, INDEX_DIR=str(tmp_path / "other-index"))
    page = pages.save(None, title="Annuaire", body=f"Jeanne {WORD}\n", author=member).page
    transaction.commit()

    def found_by_the_other() -> list[str]:
        with other.app_context():
            slugs = [hit.slug for hit in search.search(WORD).hits]
            db.session.remove()
        return slugs

    assert found_by_the_other() == ["annuaire"]
    moderation.set_revision_hidden(page.current_revision, True, author=admin)
    transaction.commit()
    assert found_by_the_other() == []
    moderation.set_revision_hidden(page.current_revision, False, author=admin)
    transaction.commit()
    assert found_by_the_other() == ["annuaire"]
    with other.app_context():
        db.engine.dispose()


# --- deleted pages -------------------------------------------------------------------------


@pytest.fixture
def deleted(app, member, editor):
    page = pages.save(None, title="Ancienne", body=f"Texte retiré {WORD}.\n", author=member).page
    pages.save("ancienne", title="Ancienne", body=f"Texte retiré {WORD}, suite.\n", author=member)
    page_moves.delete(page, author=editor)
    return page


def test_deleted_pages_are_for_editors_only(client, deleted, role) -> None:
    for url in (
        "/wiki/ancienne",
        "/wiki/ancienne?rev=1",
        "/wiki/ancienne/history",
        "/wiki/ancienne/diff",
        "/wiki/ancienne/diff?from=1&to=2",
        "/wiki/ancienne/edit",
        "/wiki/ancienne/credits",
    ):
        response = client.get(url)
        if role in EDITORS:
            assert response.status_code == 200, url
        else:
            assert response.status_code == 404, url
            assert WORD not in text(response), url


def test_a_member_cannot_restore_a_deleted_page_from_the_editor(client, deleted, role):
    form = {"title": "Ancienne", "body": "Revenue.\n", "accept_license": "on"}
    response = client.post("/wiki/ancienne/edit", data=form)
    page = page_queries.get("ancienne", include_deleted=True)
    assert page.deleted == (role not in EDITORS)
    if role not in EDITORS:
        assert response.status_code == 404


def test_saving_restores_a_deleted_page_for_editors_only(deleted, member, editor) -> None:
    with pytest.raises(Forbidden):
        pages.save("ancienne", title="Ancienne", body="Revenue.\n", author=member)
    assert page_queries.get("ancienne", include_deleted=True).deleted
    restored = pages.save("ancienne", title="Ancienne", body="Revenue.\n", author=editor)
    assert restored.revision.action == "restore" and not restored.page.deleted


def test_saving_through_the_api_restores_a_deleted_page_for_editors_only(
    client, deleted, role, bearer
):
    payload = {"body": "Revenue.\n", "base_revision": 3}
    response = client.put("/api/v1/pages/ancienne", json=payload, headers=bearer)
    restored = not page_queries.get("ancienne", include_deleted=True).deleted
    assert restored == (role in EDITORS)
    if role == "member":
        assert response.status_code == 403


# --- revert --------------------------------------------------------------------------------


def test_a_hidden_revision_cannot_be_reverted_to(client, auth, member, admin) -> None:
    page = pages.save(None, title="Contacts", body=HIDDEN, author=member).page
    pages.save("contacts", title="Contacts", body=VISIBLE, author=member)
    moderation.set_revision_hidden(page_queries.get_revision(page, 1), True, author=admin)
    with pytest.raises(ValidationError) as refused:
        page_moves.revert(page, 1, author=admin)
    assert refused.value.code == "hidden"
    auth.login(member)
    response = client.post("/wiki/contacts/revert/1")
    assert response.status_code == 400
    assert SECRET not in text(response)
    assert page_queries.get("contacts").revision_count == 2
    visible_revisions_hold_no_secret()


def test_reverting_to_a_looser_licence_is_refused_like_a_save(client, auth, member) -> None:
    page = pages.save(
        None, title="Guide", body="Version libre.\n", license="CC-BY-4.0", author=member
    ).page
    pages.save(
        "guide", title="Guide", body="Version partagée.\n", license="CC-BY-SA-4.0", author=member
    )
    with pytest.raises(ValidationError) as refused:
        pages.save("guide", title="Guide", body="x\n", license="CC-BY-4.0", author=member)
    assert refused.value.code == "license_refused"
    with pytest.raises(ValidationError) as refused:
        page_moves.revert(page, 1, author=member)
    assert refused.value.code == "license_refused"
    auth.login(member)
    assert client.post("/wiki/guide/revert/1").status_code == 400
    current = page_queries.get("guide")
    assert (current.license, current.revision_count) == ("CC-BY-SA-4.0", 2)


def test_revert_brings_back_text_and_metadata_for_whoever_may_edit(client, page, role) -> None:
    response = client.post("/wiki/contacts/revert/1")
    current = page_queries.get("contacts").current_revision
    if role in MEMBERS:
        assert response.status_code == 302
        assert (current.number, current.action, current.body) == (4, "revert", FIRST)
    else:
        assert response.status_code in (302, 403) and current.number == 3


def test_revert_of_a_protected_page_needs_an_editor(client, page, editor, role) -> None:
    moderation.set_protected(page, True, author=editor)
    client.post("/wiki/contacts/revert/1")
    reverted = page_queries.get("contacts").revision_count == 4
    assert reverted == (role in EDITORS)


def test_revert_to_the_current_revision_is_refused(page, member) -> None:
    with pytest.raises(ValidationError) as refused:
        page_moves.revert(page, 3, author=member)
    assert refused.value.code in {"hidden", "revert_same"}
    visible = pages.save("contacts", title="Contacts", body=VISIBLE, author=member).page
    with pytest.raises(ValidationError) as refused:
        page_moves.revert(visible, 4, author=member)
    assert refused.value.code == "revert_same"
    assert db.session.scalar(db.select(db.func.count(Revision.id))) == 4
