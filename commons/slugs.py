"""Stable, readable page addresses derived from titles."""

from __future__ import annotations

import re

from .text import fold

_NON_WORD = re.compile(r"[^a-z0-9]+")
MAX_SLUG_LENGTH = 200


def slugify(title: str) -> str:
    """Turn a title into a slug: "Outils d'animation" -> "outils-d-animation".

    Returns an empty string when the title has no letter or digit.
    """
    slug = _NON_WORD.sub("-", fold(title)).strip("-")
    return slug[:MAX_SLUG_LENGTH].rstrip("-")


def is_slug(text: str) -> bool:
    """True when ``text`` is already in slug form."""
    return bool(text) and slugify(text) == text
