"""Property-based: whatever text people type, the renderer's output stays on the allowlist."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from commons import render

#: The policy, written independently of the implementation.
ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "input",
    "ins",
    "kbd",
    "label",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "u",
    "ul",
    "var",
    "wbr",
}
SAFE_SCHEMES = {"http", "https", "mailto"}

FRAGMENTS = [
    "<script>", "</script>", "<img src=x onerror=alert(1)>", "<a href=\"", "javascript:",
    "java\tscript:", "&#106;", "data:", "<svg", "<math", "onload=", "\" ", "'", ">", "<",
    "[", "]", "(", ")", "[[", "]]", "|", "![", "](", "`", "```\n", "\n", "\n\n", "# ",
    "- [ ] ", "| a | b |\n|---|---|\n", "[^1]", "[^1]: ", "<!--", "-->", "<style>",
    "<iframe ", "style=\"", "<base href=", "<", "&lt;", "&", "#", "*", "_", "~",
    "http://example.org/", "mailto:a@b.org", "vbscript:", "<div class=\"x\">", "</div>",
]  # fmt: skip


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))


def _check(html: str) -> None:
    collector = _Collector()
    collector.feed(html)
    for tag, attrs in collector.elements:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs:
            assert not name.startswith("on"), name
            assert name != "style"
            if name in ("href", "src") and value:
                url = re.sub(r"[\x00-\x20]", "", value).lower()
                scheme = re.match(r"^([a-z][a-z0-9+.-]*):", url)
                assert scheme is None or scheme.group(1) in SAFE_SCHEMES, value


texts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=40).map(
    "".join
)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_rendered_output_stays_on_the_allowlist(body: str) -> None:
    result = render.render_markdown(body)
    _check(result.html)
    _check(result.toc)
    assert render.sanitize(result.html) == result.html


@settings(max_examples=200, deadline=None)
@given(texts, st.sets(st.from_regex(r"[a-z0-9-]{1,20}", fullmatch=True), max_size=3))
def test_marking_missing_links_keeps_output_safe(body: str, missing: set[str]) -> None:
    html = render.render_markdown(body).html
    _check(render.mark_missing_links(html, missing))


@settings(max_examples=200, deadline=None)
@given(texts)
def test_link_targets_are_what_the_rendering_links_to(body: str) -> None:
    assert set(render.render_markdown(body).links) <= set(render.link_targets(body))
    for slug in render.link_targets(body):
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug)
