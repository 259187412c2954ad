"""French territories: codes resolved to named places, completion, and the refresh command."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
from flask_babel import force_locale

from commons import territories
from commons.errors import ValidationError


def _package(regions, departements, communes) -> bytes:
    """A tarball laid out like Etalab's npm package, holding the given lists."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as package:
        for name, rows in (
            ("regions", regions),
            ("departements", departements),
            ("communes", communes),
        ):
            data = json.dumps(rows).encode()
            member = tarfile.TarInfo(f"package/data/{name}.json")
            member.size = len(data)
            package.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


SMALL_PACKAGE = _package(
    [{"code": "76", "nom": "Occitanie"}],
    [{"code": "30", "nom": "Gard", "region": "76"}],
    [
        {"code": "30334", "nom": "Uzès", "departement": "30", "type": "commune-actuelle"},
        {"code": "30189", "nom": "Nîmes", "departement": "30", "type": "commune-actuelle"},
        {"code": "30999", "nom": "Ancienne", "departement": "30", "type": "commune-deleguee"},
    ],
)


def test_a_commune_code_gives_its_name_and_the_territories_it_lies_in(app):
    uzes = territories.resolve("30334")
    assert uzes.as_dict() == {"code": "30334", "type": "commune", "name": "Uzès"}
    assert uzes.within() == [("commune", "30334"), ("departement", "30"), ("region", "76")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30", ("departement", "Gard")),
        ("76", ("departement", "Seine-Maritime")),
        ("region:76", ("region", "Occitanie")),
        ({"code": "76", "type": "region"}, ("region", "Occitanie")),
        ({"code": "2a"}, ("departement", "Corse-du-Sud")),
        ("75056", ("commune", "Paris")),
    ],
)
def test_a_code_names_one_place_and_a_type_chooses_between_namesakes(app, value, expected):
    place = territories.resolve(value)
    assert (place.type, place.name) == expected


@pytest.mark.parametrize(
    ("value", "english", "french"),
    [
        ("99999", "“99999” is not a known French territory code.", "« 99999 » n’est pas le code"),
        ({"name": "Uzès"}, "A place needs its INSEE code", "code INSEE"),
        ("canton:30", "“canton” is not a kind of place", "n’est pas un type de lieu"),
        (30334, "A place is an INSEE code", "Un lieu est un code INSEE"),
    ],
)
def test_a_wrong_place_is_refused_with_a_message_in_the_readers_language(
    app, value, english, french
):
    for locale, expected in (("en", english), ("fr", french)):
        with force_locale(locale), pytest.raises(ValidationError) as refused:
            territories.resolve(value)
        assert expected in refused.value.message


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Uzès", ("commune", "30334")),
        ("uzes", ("commune", "30334")),
        ("Gard", ("departement", "30")),
        ("Occitanie", ("region", "76")),
        ("Saint-Étienne (Loire)", ("commune", "42218")),
    ],
)
def test_a_place_may_be_named_as_people_write_it(app, name, expected):
    place = territories.resolve(name)
    assert (place.type, place.code) == expected


def test_a_name_several_communes_share_asks_for_the_departement(app):
    with force_locale("en"), pytest.raises(ValidationError) as refused:
        territories.resolve("Marsac")
    assert "Several communes are called “Marsac”" in refused.value.message
    assert "Marsac (Creuse)" in refused.value.message
    assert territories.resolve("Marsac (Creuse)").code == "23124"
    with force_locale("en"), pytest.raises(ValidationError) as unknown:
        territories.resolve("Atlantide")
    assert "No French territory is called “Atlantide”" in unknown.value.message


def test_a_list_of_places_drops_repeats_and_stops_at_the_first_unknown_code(app):
    assert [p.code for p in territories.resolve_all(["30334", {"code": "30334"}, "30"])] == [
        "30334",
        "30",
    ]
    with pytest.raises(ValidationError):
        territories.resolve_all(["30334", "00000"])


def test_completion_ignores_accents_and_offers_larger_places_first(app):
    loaded = territories.territories()
    assert [place.name for place in loaded.complete("uzes", limit=1)] == ["Uzès"]
    assert loaded.complete("mars")[0].describe(loaded) == "Marseille (Bouches-du-Rhône)"
    assert loaded.complete("OCCIT")[0].as_dict() == {
        "code": "76",
        "type": "region",
        "name": "Occitanie",
    }
    assert loaded.complete("   ") == []


def test_the_refresh_command_writes_a_list_that_takes_the_place_of_the_shipped_one(
    app, runner, tmp_path
):
    package = tmp_path / "package.tgz"
    package.write_bytes(SMALL_PACKAGE)
    result = runner.invoke(args=["territories", "refresh", "--package", str(package)])
    assert result.exit_code == 0, result.output
    assert "1 régions, 1 départements et 2 communes" in result.output
    assert territories.resolve("30189").name == "Nîmes"
    with pytest.raises(ValidationError):
        territories.resolve("75056")
    with pytest.raises(ValidationError):
        territories.resolve("30999")


@pytest.mark.parametrize(
    "content",
    [
        b"not a tarball",
        _package([{"code": "76", "nom": "Occitanie"}], [], []),
        _package(
            [{"code": "76", "nom": "Occitanie"}],
            [{"code": "30", "nom": "Gard", "region": "76"}],
            [
                {
                    "code": "13055",
                    "nom": "Marseille",
                    "departement": "13",
                    "type": "commune-actuelle",
                }
            ],
        ),
    ],
    ids=["not-a-tarball", "empty-lists", "commune-in-unknown-departement"],
)
def test_a_wrong_package_is_refused_and_changes_nothing(app, runner, tmp_path, content):
    package = tmp_path / "package.tgz"
    package.write_bytes(content)
    result = runner.invoke(args=["territories", "refresh", "--package", str(package)])
    assert result.exit_code == 1
    assert result.output.strip()
    assert not territories.refreshed_path().exists()
    assert territories.resolve("30334").name == "Uzès"
