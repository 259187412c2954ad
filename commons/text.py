"""Texts folded to be compared; characters that have no place in short texts, and in XML."""

from __future__ import annotations

import re
import unicodedata

# Applied last, once compatibility forms are decomposed ("ǽ" → "æ") and capitals
# lowered ("Œ" → "œ"), so every spelling of a ligature meets the same entry.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "’": "'", "ʼ": "'", "‘": "'"})

#: C0 and C1 control characters other than tab, line feed and carriage return.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: What XML 1.0 forbids: C0 controls (but tab, LF, CR), lone surrogates, U+FFFE, U+FFFF.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def fold(text: str) -> str:
    """Lower-case ``text`` without accents or ligatures: "Cœur Été" → "coeur ete".

    What page slugs and search words are made of. Typographic apostrophes become "'".
    """
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return plain.lower().translate(_LIGATURES)


def tag_key(name: str) -> str:
    """What tags are matched by: "ESS", "ess" and " Éss " are the same tag."""
    return " ".join(fold(name).split())


def has_control_characters(text: str) -> bool:
    """True when ``text`` holds an invisible control character such as U+0001."""
    return CONTROL_CHARACTERS.search(text) is not None


def xml_safe(text: str) -> str:
    """``text`` without the characters that would make an XML document invalid."""
    return NOT_XML.sub("", text)
