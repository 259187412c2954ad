"""The commons' thesaurus: the themes pages are classified by.

A theme has a stable key (what revisions store) and a label in each interface
language. The thesaurus starts with a default list of the social and solidarity
economy's usual themes; admins add, rename and retire themes. A retired theme stays
on the pages that have it but is no longer offered.
"""

from __future__ import annotations

import re

from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from . import permissions
from .errors import Forbidden, ValidationError
from .extensions import db
from .models import Theme, User

#: The default thesaurus, in the order it is offered.
DEFAULT_THEMES = (
    ("alimentation", _l("Food")),
    ("agriculture", _l("Farming")),
    ("energie", _l("Energy")),
    ("mobilite", _l("Mobility")),
    ("habitat", _l("Housing")),
    ("environnement", _l("Environment and biodiversity")),
    ("economie-circulaire", _l("Circular economy and reuse")),
    ("finance-solidaire", _l("Solidarity finance")),
    ("emploi", _l("Employment")),
    ("insertion", _l("Work integration")),
    ("culture", _l("Culture")),
    ("education-populaire", _l("Popular education")),
    ("sante", _l("Health and care")),
    ("numerique", _l("Digital")),
    ("cooperation", _l("Cooperation between organisations")),
    ("communs", _l("Commons")),
    ("gouvernance", _l("Shared governance")),
    ("territoire", _l("Local development")),
)
LANGUAGES = ("fr", "en")
MAX_KEY_LENGTH = 64
MAX_LABEL_LENGTH = 100
_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def ensure_defaults() -> None:
    """Give an empty thesaurus the default themes, labelled in every language."""
    if db.session.scalar(select(func.count()).select_from(Theme)):
        return
    for position, (key, label) in enumerate(DEFAULT_THEMES):
        labels = {}
        for language in LANGUAGES:
            with force_locale(language):
                labels[language] = str(label)
        db.session.add(
            Theme(key=key, label_fr=labels["fr"], label_en=labels["en"], position=position)
        )
    db.session.flush()


def all_themes(*, include_retired: bool = False) -> list[Theme]:
    """The thesaurus in its order; retired themes only when asked."""
    ensure_defaults()
    query = select(Theme).order_by(Theme.position, Theme.key)
    if not include_retired:
        query = query.where(Theme.retired.is_(False))
    return list(db.session.scalars(query))


def exists(key: str) -> bool:
    """True when ``key`` is a theme of the thesaurus that is offered (not retired)."""
    ensure_defaults()
    theme = db.session.get(Theme, key)
    return theme is not None and not theme.retired


def label(key: str, language: str | None = None) -> str:
    """The theme's label in ``language`` (default: the reader's); the key if unknown."""
    theme = db.session.get(Theme, key)
    if theme is None:
        return key
    language = language or str(get_locale() or "fr")
    return theme.label_en if language == "en" else theme.label_fr


def _clean_label(value: str | None) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise ValidationError(str(_l("A theme needs a label in French and in English.")))
    if len(value) > MAX_LABEL_LENGTH:
        raise ValidationError(
            str(_l("A theme's label has %(num)s characters at most.", num=MAX_LABEL_LENGTH))
        )
    return value


def save_theme(key: str, *, label_fr: str, label_en: str, by: User | None) -> Theme:
    """Add a theme, or relabel an existing one (its key, stored by pages, never changes)."""
    if not permissions.can_manage_themes(by):
        raise Forbidden(str(_l("Only admins may change the themes.")))
    key = (key or "").strip().lower()
    if not _KEY.match(key) or len(key) > MAX_KEY_LENGTH:
        raise ValidationError(
            str(
                _l(
                    "A theme's key is made of lower-case letters, digits and hyphens "
                    "(%(num)s characters at most), for example “finance-solidaire”.",
                    num=MAX_KEY_LENGTH,
                )
            )
        )
    labels = (_clean_label(label_fr), _clean_label(label_en))
    ensure_defaults()
    theme = db.session.get(Theme, key)
    if theme is None:
        last = db.session.scalar(select(func.max(Theme.position))) or 0
        theme = Theme(key=key, position=last + 1)
        db.session.add(theme)
    theme.label_fr, theme.label_en = labels
    db.session.flush()
    return theme


def set_retired(key: str, retired: bool, *, by: User | None) -> Theme:
    """Stop offering a theme (pages keep it), or offer it again."""
    if not permissions.can_manage_themes(by):
        raise Forbidden(str(_l("Only admins may change the themes.")))
    ensure_defaults()
    theme = db.session.get(Theme, key)
    if theme is None:
        raise ValidationError(str(_l("There is no theme “%(key)s”.", key=key)))
    theme.retired = retired
    db.session.flush()
    return theme
