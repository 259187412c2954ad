"""The Markdown pipeline: features people write with, and what never gets through."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from commons import render


class _Elements(HTMLParser):
    """Every tag and attribute of a fragment, as a browser would read them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {name: value or "" for name, value in attrs}))


def test_headings_get_anchors_and_a_table_of_contents() -> None:
    result = render.render_markdown("## Contexte\n\ntexte\n\n### Étapes clés\n")
    assert '<h2 id="contexte">Contexte</h2>' in result.html
    assert '<h3 id="etapes-cles">Étapes clés</h3>' in result.html
    assert 'href="#etapes-cles"' in result.toc


def test_a_single_heading_needs_no_table_of_contents() -> None:
    assert render.render_markdown("## Seul\n\ntexte").toc == ""


def test_tables_code_footnotes_and_task_lists() -> None:
    body = (
        "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n```python\nprint('é')\n```\n\n"
        "Note[^1]\n\n- [x] fait\n- [ ] à faire\n\n[^1]: pied de page\n"
    )
    html = render.render_markdown(body).html
    assert '<th align="right">b</th>' in html
    assert '<code class="language-python">' in html
    assert 'href="#fn:1"' in html and "pied de page" in html
    assert 'type="checkbox"' in html and "checked" in html and "disabled" in html


def test_images_by_url_are_kept() -> None:
    html = render.render_markdown("![Affiche](https://example.org/a.png)").html
    assert '<img alt="Affiche" src="https://example.org/a.png">' in html


def test_wiki_links_by_title_and_by_slug_with_label() -> None:
    result = render.render_markdown("Voir [[Épicerie solidaire]] et [[outils|nos outils]].")
    assert '<a class="wikilink" href="/wiki/epicerie-solidaire">Épicerie solidaire</a>' in (
        result.html
    )
    assert '<a class="wikilink" href="/wiki/outils">nos outils</a>' in result.html
    assert result.links == ["epicerie-solidaire", "outils"]


def test_link_targets_agree_with_rendering_and_ignore_code() -> None:
    body = "[[A]] `[[B]]` [[c|label]]\n\n```\n[[D]]\n```\n\n    [[E]]\n\n[[A]]"
    assert render.link_targets(body) == render.render_markdown(body).links == ["a", "c"]


def test_missing_links_point_to_the_editor() -> None:
    html = render.render_markdown("[[Existe]] [[Manque]]").html
    marked = render.mark_missing_links(html, {"manque"})
    assert '<a class="wikilink" href="/wiki/existe">' in marked
    assert '<a class="wikilink missing" href="/wiki/manque/edit" rel="nofollow">' in marked


def test_wiki_link_labels_are_text_not_markup() -> None:
    html = render.render_markdown("[[page|<img src=x onerror=alert(1)>]]").html
    assert "<img" not in html
    assert "&lt;img" in html


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](java\tscript:alert(1))",
        '<a href="java&#x09;script:alert(1)">x</a>',
        "![x](data:image/svg+xml;base64,PHN2Zz4=)",
        '<svg onload="alert(1)"></svg>',
        "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
        '<div style="background:url(javascript:alert(1))">x</div>',
        '<base href="https://evil.example/">',
        '<meta http-equiv="refresh" content="0;url=https://evil.example">',
        "<iframe src=https://evil.example></iframe>",
        '<form action="https://evil.example"><input name=x></form>',
        "<!--<script>alert(1)//--><script>alert(1)</script>",
        '[x](https://ok.example "a\\" onmouseover=\\"alert(1)")',
        "[x][r]\n\n[r]: javascript:alert(1)",
    ],
)
def test_dangerous_markup_never_survives(payload: str) -> None:
    forbidden_tags = {"script", "svg", "math", "base", "meta", "iframe", "form", "style"}
    for tag, attrs in _Elements(render.render_markdown(payload).html).found:
        assert tag not in forbidden_tags
        assert not any(name.startswith("on") or name == "style" for name in attrs)
        for name in ("href", "src"):
            # Browsers ignore tabs, newlines and controls inside URLs: so must the check.
            url = re.sub(r"[\x00-\x20]", "", attrs.get(name, "")).lower()
            scheme = url.split(":", 1)[0]
            assert scheme not in {"javascript", "data", "vbscript"}


def test_classes_outside_the_allowlist_are_dropped() -> None:
    html = render.render_markdown('<p class="admin-only x">t</p><code class="x y">c</code>').html
    assert "class" not in html
