"""The admins' page of the thesaurus: add, relabel, retire themes; nobody else may."""

from __future__ import annotations

from commons import themes
from tests.conftest import PASSWORD, english


def _login(client, name):
    english(client).post("/login", data={"name": name, "password": PASSWORD})
    return client


def test_an_admin_adds_relabels_and_retires_a_theme(client, admin):
    _login(client, admin.name)
    assert "Solidarity finance" in client.get("/admin/themes").get_data(as_text=True)
    answer = client.post(
        "/admin/themes",
        data={"key": "tiers-lieux", "label_fr": "Tiers-lieux", "label_en": "Third places"},
    )
    assert answer.status_code == 302
    assert themes.label("tiers-lieux", "en") == "Third places"
    client.post("/admin/themes/retire", data={"key": "tiers-lieux", "retired": "y"})
    assert not themes.exists("tiers-lieux")
    client.post("/admin/themes/retire", data={"key": "tiers-lieux"})
    assert themes.exists("tiers-lieux")


def test_a_wrong_theme_is_refused_with_a_message_and_nothing_changes(client, admin):
    _login(client, admin.name)
    answer = client.post(
        "/admin/themes", data={"key": "Pas Une Clé", "label_fr": "x", "label_en": "x"}
    )
    assert answer.status_code == 400
    assert "lower-case letters, digits and hyphens" in answer.get_data(as_text=True)
    missing = client.post("/admin/themes", data={"key": "vide", "label_fr": "", "label_en": "x"})
    assert missing.status_code == 400
    assert "needs a label in French and in English" in missing.get_data(as_text=True)
    assert not themes.exists("vide")


def test_members_may_not_change_the_themes(client, member):
    _login(client, member.name)
    assert client.get("/admin/themes").status_code == 403
    answer = client.post("/admin/themes", data={"key": "x", "label_fr": "x", "label_en": "x"})
    assert answer.status_code == 403
    assert not themes.exists("x")
