"""The HTML surface: reading, editing, history, diff, rename, delete, feeds."""

from __future__ import annotations

import re

from commons import page_queries, pages


def create(member, title="Épicerie solidaire", body="Du **pain**.\n", **kw):
    return pages.save(None, title=title, body=body, author=member, **kw).page


def test_home_and_page_view(client, member):
    create(member, body="Voir [[Page absente]] et [[Épicerie solidaire|ici]].")
    assert client.get("/").status_code == 200
    response = client.get("/wiki/epicerie-solidaire")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Épicerie solidaire" in html
    assert 'href="/wiki/page-absente/edit"' in html


def test_missing_page_is_404_with_create_link(client, member, auth):
    auth.login(member)
    response = client.get("/wiki/jardin-partage")
    assert response.status_code == 404
    assert "/wiki/jardin-partage/edit" in response.get_data(as_text=True)


def test_edit_form_saves_a_revision(client, member, auth):
    auth.login(member)
    form = client.get("/wiki/jardin-partage/edit?kind=experiment")
    assert form.status_code == 200
    assert "Contexte" in form.get_data(as_text=True) or "Context" in form.get_data(as_text=True)
    response = client.post(
        "/wiki/jardin-partage/edit",
        data={
            "title": "Jardin partagé",
            "body": "Texte",
            "kind": "experiment",
            "tags": "jardin",
            "license": "CC-BY-SA-4.0",
            "summary": "premier jet",
            "accept_license": "on",
        },
    )
    assert response.status_code == 302
    page = page_queries.get("jardin-partage")
    assert page.current_revision.summary == "premier jet"


def test_edit_preview_does_not_save(client, member, auth):
    auth.login(member)
    response = client.post(
        "/wiki/jardin/edit", data={"title": "Jardin", "body": "**gras**", "preview": "1"}
    )
    assert response.status_code == 200
    assert "<strong>gras</strong>" in response.get_data(as_text=True)
    assert page_queries.find("jardin") is None


def test_edit_errors_keep_the_text(client, member, auth):
    auth.login(member)
    response = client.post(
        "/wiki/jardin/edit",
        data={"title": "", "body": "mon long texte précieux", "accept_license": "on"},
    )
    assert response.status_code == 400
    assert "mon long texte précieux" in response.get_data(as_text=True)
    assert page_queries.find("jardin") is None


def test_edit_conflict_shows_both_versions(client, member, editor, auth):
    create(member, body="ligne\n")
    pages.save(
        "epicerie-solidaire",
        title="Épicerie solidaire",
        body="ligne A\n",
        author=editor,
        base_revision=1,
    )
    auth.login(member)
    response = client.post(
        "/wiki/epicerie-solidaire/edit",
        data={
            "title": "Épicerie solidaire",
            "body": "ligne B\n",
            "base_revision": "1",
            "accept_license": "on",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "ligne A" in html and "ligne B" in html
    assert page_queries.get("epicerie-solidaire").revision_count == 2


def _hidden_inputs(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))


def test_creation_race_shows_the_first_text_and_keeps_it(client, member, editor, auth):
    """Two people create the same page: the second save gets the conflict screen with the
    first one's text, and the first text stays the page's."""
    auth.login(member)
    form = _hidden_inputs(client.get("/wiki/jardin-partage/edit").get_data(as_text=True))
    create(editor, title="Jardin partagé", body="Le texte de la première personne.\n")
    response = client.post(
        "/wiki/jardin-partage/edit",
        data={
            **form,
            "title": "Jardin partagé",
            "body": "Le texte de la seconde personne.\n",
            "accept_license": "on",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    theirs = re.search(r'<textarea id="current-body"[^>]*>(.*?)</textarea>', html, re.S)
    assert theirs is not None and "Le texte de la première personne." in theirs.group(1)
    assert "Le texte de la seconde personne." in html
    assert _hidden_inputs(html).get("base_revision") == "1"
    page = page_queries.get("jardin-partage")
    assert page.revision_count == 1
    assert page.current_revision.body == "Le texte de la première personne.\n"


def test_anonymous_edit_redirects_to_login(client):
    response = client.get("/wiki/x/edit")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_history_old_revision_and_diff(client, member):
    page = create(member, body="un\ndeux\n")
    pages.save(
        page.slug,
        title=page.title,
        body="un\ntrois\n",
        author=member,
        base_revision=1,
        summary="correction",
    )
    history = client.get(f"/wiki/{page.slug}/history").get_data(as_text=True)
    assert "correction" in history and "marie" in history
    old = client.get(f"/wiki/{page.slug}?rev=1").get_data(as_text=True)
    assert "deux" in old
    diff = client.get(f"/wiki/{page.slug}/diff?from=1&to=2").get_data(as_text=True)
    assert "deux" in diff and "trois" in diff
    assert client.get(f"/wiki/{page.slug}?rev=9").status_code == 404


def test_rename_redirects_old_address(client, member, editor, auth):
    page = create(member)
    auth.login(editor)
    response = client.post(f"/wiki/{page.slug}/rename", data={"title": "Épicerie coopérative"})
    assert response.status_code == 302
    old = client.get("/wiki/epicerie-solidaire")
    assert old.status_code == 301
    assert old.headers["Location"].endswith("/wiki/epicerie-cooperative")


def test_delete_then_restore(client, member, editor, auth):
    page = create(member)
    auth.login(editor)
    client.post(f"/wiki/{page.slug}/delete")
    auth.logout()
    assert client.get(f"/wiki/{page.slug}").status_code == 404
    auth.login(editor)
    client.post(f"/wiki/{page.slug}/restore")
    auth.logout()
    assert client.get(f"/wiki/{page.slug}").status_code == 200


def test_revert_from_history(client, member, auth):
    page = create(member, body="bon\n")
    pages.save(page.slug, title=page.title, body="mauvais\n", author=member, base_revision=1)
    auth.login(member)
    client.post(f"/wiki/{page.slug}/revert/1")
    assert page_queries.get(page.slug).current_revision.body == "bon\n"


def test_listings_recent_and_feed(client, member):
    create(member, kind="tool", tags=["animation"])
    for url in ("/pages", "/kind/tool", "/tags", "/tag/animation", "/recent"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Épicerie solidaire" in response.get_data(as_text=True) or url == "/tags"
    feed = client.get("/recent.atom")
    assert feed.mimetype == "application/atom+xml"
    assert "Épicerie solidaire" in feed.get_data(as_text=True)
    assert client.get("/kind/poem").status_code == 404


def test_register_login_logout(client):
    response = client.post(
        "/register",
        data={"name": "Nadia", "password": "long enough pw", "password_confirm": "long enough pw"},
    )
    assert response.status_code == 302
    client.post("/logout")
    bad = client.post("/login", data={"name": "Nadia", "password": "wrong password"})
    assert bad.status_code == 400
    good = client.post("/login", data={"name": "nadia", "password": "long enough pw"})
    assert good.status_code == 302


def test_language_switch_and_default_french(client):
    html = client.get("/").get_data(as_text=True)
    assert 'lang="fr"' in html
    client.post("/language", data={"locale": "en", "next": "/"})
    assert 'lang="en"' in client.get("/").get_data(as_text=True)


def test_security_headers(client):
    response = client.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def _pager_links(html: str) -> list[int]:
    pager = re.search(r'<nav class="pagination".*?</nav>', html, re.S).group(0)
    return sorted({int(n or 1) for n in re.findall(r'href="/recent(?:\?page=(\d+))?"', pager)})


def test_long_lists_link_the_ends_and_the_pages_around(app, client, member):
    app.config["PAGE_SIZE"] = 2
    page = pages.save(None, title="Journal", body="0\n", author=member).page
    for number in range(1, 14):  # 14 revisions: 7 pages of recent changes
        pages.save(page.slug, title="Journal", body=f"{number}\n", author=member)

    middle = client.get("/recent?page=4").get_data(as_text=True)
    assert _pager_links(middle) == [1, 2, 3, 4, 5, 6, 7]
    assert 'aria-current="page"><span class="visually-hidden">Page </span>4<' in middle

    first = client.get("/recent").get_data(as_text=True)
    assert _pager_links(first) == [1, 2, 3, 7]
    assert first.count('class="gap"') == 1


def test_edit_is_offered_at_the_top_and_the_bottom_and_anonymous_readers_may_log_in(
    client, auth, member
):
    create(member)
    login_link = 'href="/login?next=/wiki/epicerie-solidaire/edit"'

    anonymous = client.get("/wiki/epicerie-solidaire").get_data(as_text=True)
    auth.login(member)
    logged_in = client.get("/wiki/epicerie-solidaire").get_data(as_text=True)

    assert anonymous.count(login_link) == 2
    assert anonymous.index(login_link) < anonymous.index('class="page-body"')
    assert logged_in.count('href="/wiki/epicerie-solidaire/edit"') == 2
    assert login_link not in logged_in


def test_the_licence_agreement_is_remembered_until_the_licence_or_the_terms_change(
    app, client, auth, member
):
    create(member)
    auth.login(member)

    def save(body, license="CC-BY-SA-4.0", **agreement):
        return client.post(
            "/wiki/epicerie-solidaire/edit",
            data={"title": "Épicerie solidaire", "body": body, "license": license, **agreement},
        )

    def asked() -> bool:
        return 'name="accept_license"' in client.get("/wiki/epicerie-solidaire/edit").get_data(
            as_text=True
        )

    assert asked()
    assert save("Un.\n").status_code == 400  # not agreed yet
    assert save("Deux.\n", accept_license="on").status_code == 302
    assert not asked()
    assert save("Trois.\n").status_code == 302
    other_licence = save("Quatre.\n", license="CC-BY-4.0")
    assert other_licence.status_code == 400
    assert 'name="accept_license"' in other_licence.get_data(as_text=True)
    app.config["TERMS_VERSION"] = "2"
    assert asked()
    assert save("Cinq.\n").status_code == 400
    assert page_queries.get("epicerie-solidaire").current_revision.body == "Trois.\n"


def test_import_is_in_the_menu_of_those_allowed_to_import(client, auth, member, editor):
    auth.login(member)
    as_member = client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login(editor)
    as_editor = client.get("/").get_data(as_text=True)

    assert 'href="/import"' not in as_member
    assert 'href="/import"' in as_editor
