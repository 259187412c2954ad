"""No body stalls a worker: rendering and link extraction grow linearly with the body.

Each family is a construct that some piece of the pipeline used to rescan to the end
of the text at each occurrence. The body is made of it repeated n times, then 2n.
"""

from __future__ import annotations

import pytest

from commons import render

from .growth import assert_linear

#: Never time bodies beyond the size a page may have.
MAX_BODY = 1_000_000

FAMILIES = {
    "unclosed wiki links": "[[a ",
    "unclosed media wiki links": "[[media:a ",
    "unclosed brackets": "[a ",
    "unclosed images": "![a",
    "links with unclosed parentheses": "[a](",
    "media with unclosed parentheses": "![a](media:",
    "links with unclosed titles": "[a]('b) ",
    "links with nested parentheses": "[a](() ",
    "unclosed tags": "<a ",
    "lone angle brackets": "<",
    "unclosed end tags": "</a ",
    "unclosed processing instructions": "<?a\n",
    "unclosed autolinks": "<http://a ",
    "backticks": "`a ",
    "backtick runs": "``a` ",
    "unclosed fences": "```a\n",
    "stars": "*a ",
    "underscores": "_a ",
    "emphasis runs": "**a*",
    "emphasis pairs": "*a* ",
    "escapes": "\\* ",
    "code spans": "`a` ",
    "inline html": "<b>a</b> ",
    "same heading": "## Same\n\n",
    "long line": "a",
}


def _repeat(unit: str):
    return lambda n: unit * n


def _footnotes(n: int) -> str:
    return "".join(f"a[^{i}]\n\n" for i in range(n)) + "".join(f"[^{i}]: n{i}\n" for i in range(n))


def _nested_lists(n: int) -> str:
    return "".join("  " * (i % 40) + "- a\n" for i in range(n))


def _nested_quotes(n: int) -> str:
    return "".join(">" * (i % 40) + " a\n" for i in range(n))


BUILDERS = {name: _repeat(unit) for name, unit in FAMILIES.items()} | {
    "footnotes": _footnotes,
    "same footnote": lambda n: "a[^1] " * n + "\n\n[^1]: x\n",
    "nested lists": _nested_lists,
    "nested quotes": _nested_quotes,
    "deep list": lambda n: "- " * n + "a",
    "deep ordered list": lambda n: "1. " * n + "a",
    "deep emphasis": lambda n: "_" * n + "a" + "_" * n,
    "deep quote": lambda n: ">" * n + " a",
}


#: Where the quadratic term of the old code already dominates the fixed costs. Inline
#: HTML and escapes in one paragraph cost little each: theirs shows from some 300 KB.
START = {
    "same footnote": 1024,
    "footnotes": 4096,
    "inline html": 400_000 // len(FAMILIES["inline html"]),
    "escapes": 400_000 // len(FAMILIES["escapes"]),
}


def _max_n(build) -> int:
    return MAX_BODY // (2 * len(build(1)))


@pytest.mark.parametrize("family", BUILDERS)
def test_rendering_grows_linearly(family: str) -> None:
    build = BUILDERS[family]
    n = START.get(family, 64)
    assert_linear(build, render.render_markdown, n=n, repeats=3, max_n=_max_n(build))


@pytest.mark.parametrize("family", ["unclosed wiki links", "unclosed fences", "backticks"])
def test_link_targets_grow_linearly(family: str) -> None:
    build = BUILDERS[family]
    assert_linear(build, render.link_targets, n=256, repeats=3, max_n=_max_n(build))


@pytest.mark.parametrize(
    "family", ["unclosed media wiki links", "unclosed fences", "media with unclosed parentheses"]
)
def test_media_references_grow_linearly(family: str) -> None:
    build = BUILDERS[family]
    assert_linear(build, render.media_references, n=256, repeats=3, max_n=_max_n(build))


def test_a_body_nested_beyond_the_stack_is_shown_as_text() -> None:
    result = render.render_markdown("_" * 3000 + "<b>a</b>" + "_" * 3000)
    assert result.html.startswith("<pre>___")
    assert "&lt;b&gt;a&lt;/b&gt;" in result.html


def test_normal_nesting_is_kept() -> None:
    html = render.render_markdown("- a\n    - b\n        - c\n\n> > quoted\n\n1. x").html
    assert html.count("<ul>") == 3
    assert html.count("<blockquote>") == 2
    assert "<ol>\n<li>x</li>" in html


def test_nesting_beyond_thirty_levels_is_cut() -> None:
    html = render.render_markdown("- " * 1000 + "a").html
    assert html.count("<ul>") == render.MAX_LINE_INDENT // 2


def test_preview_grows_linearly_on_unclosed_wiki_links(client, member, auth) -> None:
    auth.login(member)

    def preview(body: str) -> None:
        response = client.post("/preview", data={"body": body})
        assert response.status_code == 200

    assert_linear(_repeat("[[a "), preview, n=1024, repeats=3, max_n=MAX_BODY // 8)
