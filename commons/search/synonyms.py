"""Groups of equivalent expressions (acronyms of the field and their expansions).

They are expanded in the query (see :mod:`commons.search.query`), so editing the list
never needs a reindex.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from .analysis import analyse

#: The built-in synonyms, in the ``commons`` folder beside the templates and static files.
SYNONYMS_FILE = os.path.join(os.path.dirname(os.path.dirname(__file__)), "synonyms.txt")


def read_synonym_groups(path: str) -> list[list[str]]:
    groups = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.split("#", 1)[0]
            terms = [" ".join(term.replace('"', " ").split()) for term in line.split(",")]
            terms = [term for term in terms if term]
            if len(terms) > 1:
                groups.append(terms)
    return groups


class Synonyms:
    """Groups of equivalent expressions, matched on analysed words.

    Groups sharing an expression are merged, so an admin's file can extend a built-in
    group by repeating one of its terms.
    """

    def __init__(self, groups: Iterable[Sequence[str]]) -> None:
        merged: list[dict[tuple[str, ...], str]] = []
        for group in groups:
            variants: dict[tuple[str, ...], str] = {}
            for term in group:
                key = tuple(analyse(term))
                if key:
                    variants.setdefault(key, term)
            overlapping = [m for m in merged if variants.keys() & m.keys()]
            for other in overlapping:
                merged.remove(other)
                for key, term in other.items():
                    variants.setdefault(key, term)
            merged.append(variants)
        #: first word → [(variant words, group)], longest first.
        self._starts: dict[str, list[tuple[tuple[str, ...], dict]]] = {}
        for variants in merged:
            if len(variants) < 2:
                continue
            for key in variants:
                self._starts.setdefault(key[0], []).append((key, variants))
        for candidates in self._starts.values():
            candidates.sort(key=lambda item: -len(item[0]))

    def match(self, words: Sequence[str], start: int) -> tuple[int, dict] | None:
        """The longest variant starting at ``words[start]``: (its length, its group)."""
        for key, variants in self._starts.get(words[start], ()):
            if tuple(words[start : start + len(key)]) == key:
                return len(key), variants
        return None
