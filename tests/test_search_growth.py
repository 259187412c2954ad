"""Search's work on a page grows linearly with its text, whatever Markdown it holds.

Each test times the same work on a body of size n and of size 2n made of one repeated
pattern, in the same test, and requires the second under three times the first: a
quadratic pattern makes it four times (or far worse), a linear one twice. Times are
processor times (robust to a loaded machine), the best of a few runs.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from commons import pages, search

from .growth import assert_linear

#: Half the largest body a page may have: the doubled body is the largest.
N = 250_000

#: Patterns that made some regular expression re-scan the rest of the body from each
#: occurrence (unclosed brackets), or backtrack on each line (runs of blank lines,
#: fences, table rules), and ordinary text for comparison.
FAMILIES = {
    "unclosed wiki links": "[[a",
    "unclosed wiki links with a label": "[[a|b",
    "unclosed brackets": "[a",
    "unclosed images": "![a",
    "unclosed link targets": "[a](b",
    "unclosed tags": "<a",
    "backticks": "`a",
    "fences": "```\n",
    "emphasis runs": "*_a",
    "nested lists and quotes": "> - 1. ",
    "headings with one title": "# Same\n\n",
    "footnotes": "x[^1]\n\n[^1]: note\n",
    "a line without spaces": "abcdefgh",
    "blank lines": "\n",
    "blank lines with spaces": " \n",
    "table rules": "| --- ",
    "table rules with colons": "---:",
    "words": "l'économie des communs ",
}


def repeated(unit: str) -> Callable[[int], str]:
    """A maker of bodies of about ``n`` characters repeating ``unit``."""
    return lambda n: unit * (n // len(unit))


_TOKENIZERS = (
    search.WordTokenizer(),
    search.WordTokenizer(pairs=True),
    search.WordTokenizer(stem=False),
)


def index_one(body: str) -> None:
    """What indexing a page does with its body: plain text, then its words and pairs."""
    text = search.plain_text(body)
    for tokenizer in _TOKENIZERS:
        for _token in tokenizer(text):
            pass


@pytest.mark.parametrize("unit", FAMILIES.values(), ids=FAMILIES.keys())
def test_indexing_a_body_takes_time_linear_in_its_size(unit):
    assert_linear(repeated(unit), index_one, N, max_n=2 * N)


@pytest.mark.parametrize("unit", FAMILIES.values(), ids=FAMILIES.keys())
def test_a_snippet_takes_time_linear_in_the_body(unit):
    terms = {"same", "note", "economi", "absent"}
    assert_linear(repeated(unit), lambda body: search.snippet(body, terms), N, max_n=2 * N)


def test_a_saved_pathological_body_is_indexed_and_searchable(client, member):
    body = "[[a" * 20_000 + "\n\n" + "\n" * 20_000 + "| --- " * 5_000 + "x\nfin"
    pages.save(None, title="Piège", body=body, author=member)

    found = client.get("/search?q=fin")
    missing = client.get("/wiki/page-absente-fin")

    assert found.status_code == 200 and "/wiki/piege" in found.get_data(as_text=True)
    assert missing.status_code == 404


def test_saving_a_pathological_body_takes_time_linear_in_its_size(app, member):
    saved = iter(range(100))

    def save(body: str) -> None:
        pages.save(None, title=f"Piège {next(saved)}", body=body, author=member)

    assert_linear(repeated("[[a"), save, 40_000, max_n=80_000)
