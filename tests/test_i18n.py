"""French and English complete: every string of the code is translated, and compiled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "commons" / "translations"
LOCALES = ["fr", "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _catalog(locale: str):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as stream:
        return read_po(stream)


def _key(value: str | tuple | list) -> str | tuple:
    return value if isinstance(value, str) else tuple(value)


def _source_messages() -> set[str]:
    method_map = [
        ("commons/**.py", "python"),
        ("commons/templates/**.html", "jinja2"),
        ("commons/templates/**.atom", "jinja2"),
    ]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords={**KEYWORDS}
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("locale", LOCALES)
def test_every_string_of_the_code_is_in_the_catalogue(locale: str) -> None:
    catalog = _catalog(locale)
    known = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalog if m.id}
    missing = sorted(_source_messages() - known)
    assert missing == [], "run ./dev i18n, then translate: " + "; ".join(missing[:10])


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_is_complete_and_placeholders_match(locale: str) -> None:
    catalog = _catalog(locale)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings) or "fuzzy" in message.flags:
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        expected = set(PLACEHOLDER.findall(ids[-1])) - {"num"}
        for string in strings:
            if set(PLACEHOLDER.findall(string)) - {"num"} != expected:
                problems.append(f"placeholders differ: {ids[0]!r}")
    assert problems == []


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogue_is_up_to_date(locale: str) -> None:
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo", "rb") as stream:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(stream) if m.id}
    source = {_key(m.id): _key(m.string) for m in _catalog(locale) if m.id}
    assert compiled == source, "run ./dev i18n to compile the catalogues"


def test_interface_follows_the_reader_language(client) -> None:
    french = client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="fr">' in french.get_data(as_text=True)
    assert "Modifications récentes" in french.get_data(as_text=True)
    assert "Recent changes" in english.get_data(as_text=True)


def test_language_choice_is_remembered(client) -> None:
    client.post("/language", data={"locale": "en", "next": "/"})
    page = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Recent changes" in page
