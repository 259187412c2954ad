"""Experiment sheets: each kind's typed fields checked and normalised, facets, themes."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from commons import sheets, themes
from commons.errors import Forbidden, ValidationError


def test_an_experiment_sheet_is_normalised_and_places_get_their_names(app):
    fields = sheets.clean_fields(
        "experiment",
        {
            "territory": ["30334", {"code": "30"}, "30334"],
            "period": {"start": "2023-04", "end": ""},
            "status": "running",
            "organisations": "Le Mas des Semences,  La Coopé ",
            "themes": ["alimentation", "communs"],
            "contact": "  contact@example.org ",
        },
    )
    assert fields == {
        "territory": [
            {"code": "30334", "type": "commune", "name": "Uzès"},
            {"code": "30", "type": "departement", "name": "Gard"},
        ],
        "period": {"start": "2023-04"},
        "status": "running",
        "organisations": ["Le Mas des Semences", "La Coopé"],
        "themes": ["alimentation", "communs"],
        "contact": "contact@example.org",
    }


def test_empty_values_are_dropped_so_a_page_without_a_sheet_stores_nothing(app):
    assert sheets.clean_fields("experiment", {"territory": [], "status": "", "contact": " "}) == {}
    assert sheets.clean_fields("page", {}) == {}
    assert sheets.clean_fields("tool", None) == {}


def test_tool_and_synthesis_fields(app):
    assert sheets.clean_fields(
        "tool", {"duration_minutes": "90", "group_size": {"min": 4, "max": "12"}}
    ) == {"duration_minutes": 90, "group_size": {"min": 4, "max": 12}}
    assert sheets.clean_fields(
        "synthesis", {"date": "2026-03-14", "place": "region:76", "participants": 23}
    ) == {
        "date": "2026-03-14",
        "place": {"code": "76", "type": "region", "name": "Occitanie"},
        "participants": 23,
    }


@pytest.mark.parametrize(
    ("kind", "raw", "english", "french"),
    [
        ("experiment", {"territory": ["99999"]}, "Territory: “99999” is not", "Territoire"),
        ("experiment", {"status": "maybe"}, "Status: one of idea", "Statut"),
        ("experiment", {"period": {"end": "2024"}}, "Period: a period needs its start", "début"),
        ("experiment", {"period": {"start": "2024-13"}}, "Period: a year (2024)", "Période"),
        ("experiment", {"period": {"start": "2024", "end": "2023"}}, "the end comes before", "fin"),
        ("experiment", {"themes": ["astrologie"]}, "unknown theme “astrologie”", "astrologie"),
        ("experiment", {"duration_minutes": 30}, "no field “duration_minutes”", "champ"),
        ("tool", {"group_size": {"min": 9, "max": 3}}, "max is smaller than the min", "max"),
        ("tool", {"duration_minutes": -5}, "between 0 and", "entre 0"),
        ("tool", {"duration_minutes": True}, "a whole number", "nombre entier"),
        ("synthesis", {"date": "14/03/2026"}, "a date such as 2026-03-14", "date"),
        ("synthesis", {"place": ["30", "34"]}, "one place is expected", "un seul lieu"),
        ("page", {"status": "done"}, "no field “status”", "champ"),
        ("experiment", {"contact": "a\x01b"}, "Contact: an invisible control", "contrôle"),
        ("experiment", ["status"], "The fields of a page are an object", "objet"),
    ],
)
def test_a_wrong_field_is_refused_naming_the_field_in_the_readers_language(
    app, kind, raw, english, french
):
    for locale, expected in (("en", english), ("fr", french)):
        with force_locale(locale), pytest.raises(ValidationError) as refused:
            sheets.clean_fields(kind, raw)
        assert expected in refused.value.message


def test_a_commune_is_found_in_its_departement_and_region(app):
    fields = sheets.clean_fields(
        "experiment",
        {
            "territory": ["30334"],
            "status": "done",
            "themes": ["habitat"],
            "period": {"start": "2022-09", "end": "2024"},
        },
    )
    assert sheets.facets(fields) == {
        ("commune", "30334"),
        ("departement", "30"),
        ("region", "76"),
        ("status", "done"),
        ("theme", "habitat"),
        ("year", "2022"),
        ("year", "2023"),
        ("year", "2024"),
    }


def test_the_sheet_gives_search_the_place_names_the_text_may_never_say(app):
    fields = sheets.clean_fields(
        "experiment", {"territory": ["30334"], "organisations": ["La Coopé"]}
    )
    with force_locale("fr"):
        assert sheets.searchable_text(fields).split("\n") == ["Uzès", "La Coopé"]


def test_the_thesaurus_starts_with_translated_defaults(app):
    keys = [theme.key for theme in themes.all_themes()]
    assert {"alimentation", "energie", "finance-solidaire", "communs"} <= set(keys)
    assert themes.label("finance-solidaire", "fr") == "Finance solidaire"
    assert themes.label("finance-solidaire", "en") == "Solidarity finance"


def test_admins_add_relabel_and_retire_themes_and_others_may_not(app, admin, member):
    themes.save_theme("tiers-lieux", label_fr="Tiers-lieux", label_en="Third places", by=admin)
    assert themes.exists("tiers-lieux")
    themes.save_theme("tiers-lieux", label_fr="Tiers-lieux", label_en="Community hubs", by=admin)
    assert themes.label("tiers-lieux", "en") == "Community hubs"
    themes.set_retired("tiers-lieux", True, by=admin)
    assert not themes.exists("tiers-lieux")
    assert "tiers-lieux" not in [theme.key for theme in themes.all_themes()]
    with pytest.raises(Forbidden):
        themes.save_theme("autre", label_fr="Autre", label_en="Other", by=member)
    with pytest.raises(ValidationError):
        themes.save_theme("Pas Une Clé", label_fr="x", label_en="x", by=admin)
    with pytest.raises(ValidationError):
        themes.save_theme("vide", label_fr=" ", label_en="Empty", by=admin)
