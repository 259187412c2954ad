"""YesWiki's markup to Markdown: one case per construct, and a property test (the
converter never crashes and never drops a word)."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commons.imports.yeswiki import page_slug
from commons.imports.yeswiki_markup import Context, convert
from commons.render import render_markdown
from commons.text import fold

MEDIA = {
    "affiche.png": ("page-affiche.png", "image"),
    "programme.pdf": ("page-programme.pdf", "document"),
}
CONTEXT = Context(page_slug=page_slug, media=MEDIA.get)

CASES = [
    ("======Titre======", "# Titre"),
    ("=====Partie=====", "## Partie"),
    ("====Section====", "### Section"),
    ("===Sous-section===", "#### Sous-section"),
    ("==Détail==", "##### Détail"),
    ("du **gras**", "du **gras**"),
    ("de l'//italique//", "de l'*italique*"),
    ("un lien https://exemple.org/a//b reste", "un lien https://exemple.org/a//b reste"),
    ("__souligné__", "<u>souligné</u>"),
    ("@@barré@@", "<del>barré</del>"),
    ("##chasse fixe##", "`chasse fixe`"),
    ("%%du **code**%%", "`du **code**`"),
    ("%%\nligne 1\nligne 2\n%%", "~~~\nligne 1\nligne 2\n~~~"),
    ("ligne 1\nligne 2", "ligne 1  \nligne 2"),
    (" - un\n - deux", "- un\n- deux"),
    (" - un\n  - sous-point", "- un\n    - sous-point"),
    (" 1) un\n 1) deux", "1. un\n1. deux"),
    (" a) un\n b) deux", "1. un\n1. deux"),
    (" i) un\n ii) deux", "1. un\n1. deux"),
    ("- pas une liste", "\\- pas une liste"),
    ("1. pas une liste", "1\\. pas une liste"),
    ("[[https://exemple.org le site]]", "[le site](<https://exemple.org>)"),
    ("[[www.exemple.org le site]]", "[le site](<https://www.exemple.org>)"),
    ("[[AtelierCompost l'atelier]]", "[[atelier-compost|l'atelier]]"),
    ("[[AtelierCompost]]", "[[atelier-compost|AtelierCompost]]"),
    ("voir AtelierCompost", "voir [[atelier-compost|AtelierCompost]]"),
    ("Voir Paris", "Voir Paris"),
    ('""<span>brut</span>""', "<span>brut</span>"),
    ("[|\n|a|b|\n|c|d|\n|]", "| a | b |\n| --- | --- |\n| c | d |"),
    ('{{attach file="affiche.png" desc="Affiche"}}', "![Affiche](media:page-affiche.png)"),
    ('{{attach file="programme.pdf" desc="Programme"}}', "[Programme](media:page-programme.pdf)"),
    ('{{attach file="absent.png" desc="x"}}', '`{{attach file="absent.png" desc="x"}}`'),
    ('{{include page="PageAutre"}}', "[[page-autre|PageAutre]]"),
    ('{{button link="AtelierCompost" text="Venir"}}', "[[atelier-compost|Venir]]"),
    ('{{button link="https://exemple.org" text="Site"}}', "[Site](<https://exemple.org>)"),
    ('{{section class="well"}}\ndedans\n{{end elem="section"}}', "dedans"),
    ("----", "---"),
    ("un *astérisque* seul", "un \\*astérisque\\* seul"),
    ("{{inconnue x=1}}", "`{{inconnue x=1}}`"),
]


@pytest.mark.parametrize(("wakka", "markdown"), CASES)
def test_each_construct(app, wakka, markdown):
    assert convert(wakka, CONTEXT).markdown.strip() == markdown


def test_bazar_listings_leave_a_visible_placeholder_and_a_report_line(app):
    conversion = convert('avant\n{{bazarliste id="1"}}\n{{calendrier}}', CONTEXT)
    assert conversion.unconverted == ['{{bazarliste id="1"}}', "{{calendrier}}"]
    html = render_markdown(conversion.markdown).html
    assert "bazarliste" in html and "calendrier" in html


def test_links_and_attachments_are_collected(app):
    conversion = convert(
        'AtelierCompost [[PageAutre x]] {{attach file="affiche.png" desc="a"}}', CONTEXT
    )
    assert conversion.links == {"AtelierCompost", "PageAutre"}
    assert conversion.attachments == ["affiche.png"]


def test_raw_html_is_sanitised_when_rendered(app):
    conversion = convert('""<script>alert(1)</script><b>ok</b>""', CONTEXT)
    html = render_markdown(conversion.markdown).html
    assert "<script" not in html and "<b>ok</b>" in html


_PIECES = [
    *"abcé AZ\n\t*/_@#%\"[]|={}-1)().:",
    *["**", "//", "__", "@@", "##", "%%", '""', "[[", "]]", "{{", "}}", "[|", "|]", "======",
      " - ", " 1) ", "http://", "AtelierCompost"],
]  # fmt: skip
_WAKKA = st.lists(st.sampled_from(_PIECES), max_size=80).map("".join)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_WAKKA)
def test_the_converter_never_crashes_and_never_drops_a_word(app, wakka):
    markdown = convert(wakka, CONTEXT).markdown
    kept = fold(markdown)
    for word in re.findall(r"[a-zA-Zé0-9]+", wakka):
        assert fold(word) in kept, (word, markdown)
    render_markdown(markdown)
