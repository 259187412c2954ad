"""Stable, readable page addresses derived from titles."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})
MAX_SLUG_LENGTH = 200


def fold(text: str) -> str:
    """Lower-case ASCII text without accents or ligatures ("Cœur été" -> "coeur ete")."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def slugify(title: str) -> str:
    """Turn a title into a slug: "Outils d'animation" -> "outils-d-animation".

    Returns an empty string when the title has no letter or digit.
    """
    slug = _NON_WORD.sub("-", fold(title)).strip("-")
    return slug[:MAX_SLUG_LENGTH].rstrip("-")


def is_slug(text: str) -> bool:
    """True when ``text`` is already in slug form."""
    return bool(text) and slugify(text) == text
