"""Markdown to safe HTML: one pipeline for page views, previews, history and exports.

Markdown runs first, then nh3 cleans the whole output on one allowlist, so raw HTML
written in a page and HTML produced by extensions are judged by the same rules.
"""

from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as etree
from dataclasses import dataclass, field
from html import escape

import markdown
import nh3
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from .markdown_linear import LinearExtension, LinearFootnotes
from .slugs import slugify

#: Bump when the output of the pipeline changes, so cached HTML is rendered again.
RENDERER_VERSION = 3

WIKILINK_RE = r"\[\[([^\[\]|\n]+?)(?:\|([^\[\]\n]+?))?\]\]"
_WIKILINK = re.compile(WIKILINK_RE)
_FENCE_OPENING = re.compile(r"^(```|~~~)", re.MULTILINE)
_FENCE_CLOSING = {
    fence: re.compile(rf"^{re.escape(fence)}[ \t]*$", re.MULTILINE) for fence in ("```", "~~~")
}
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
_INDENTED_CODE = re.compile(r"(?:^(?: {4}|\t).*\n?)+", re.MULTILINE)

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup",
    "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "input", "ins", "kbd", "label", "li",
    "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul", "var",
    "wbr",
}  # fmt: skip
_ATTRIBUTES = {
    "*": {"id", "title", "lang", "dir"},
    "a": {"href"},
    "abbr": {"title"},
    "img": {"src", "alt", "width", "height"},
    "ol": {"start", "reversed"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "time": {"datetime"},
    "input": {"checked"},
    "code": {"class"},
}
_CLASSES = {
    "a": {"wikilink", "footnote-ref", "footnote-backref", "toclink", "media-link"},
    "div": {"footnote", "toc"},
    "figure": {"media"},
    "li": {"task-list-item"},
    "ul": {"task-list"},
    "label": {"task-list-control"},
    "span": {"task-list-indicator"},
    "sup": {"footnote-ref"},
}
_CODE_LANGUAGE = re.compile(r"^language-[A-Za-z0-9_+-]{1,30}$")


_URL_ATTRIBUTES = {"href", "src"}
_ALLOWED_SCHEMES = {"http", "https", "mailto"}
#: Browsers drop tabs and newlines inside URLs and trim controls and spaces around them.
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


def _filter_attribute(tag: str, name: str, value: str) -> str | None:
    if name == "class" and tag == "code":
        kept = [part for part in value.split() if _CODE_LANGUAGE.match(part)]
        return " ".join(kept) or None
    if name in _URL_ATTRIBUTES:
        # Judge the URL as the browser will read it, not as it is written.
        scheme = _SCHEME.match(_URL_NOISE.sub("", value))
        if scheme and scheme.group(1).lower() not in _ALLOWED_SCHEMES:
            return None
    return value


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags={"script", "style"},
    attributes=_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    allowed_classes=_CLASSES,
    url_schemes=_ALLOWED_SCHEMES,
    link_rel=None,
    set_tag_attribute_values={"input": {"type": "checkbox", "disabled": "disabled"}},
)


@dataclass(frozen=True)
class Rendered:
    """The output of the pipeline for one body."""

    html: str
    toc: str
    #: Slugs of the pages this body links to, in order of first appearance.
    links: list[str] = field(default_factory=list)
    #: Names of the media this body shows.
    media: list[str] = field(default_factory=list)


def sanitize(html: str) -> str:
    """Keep only allowlisted tags, attributes, classes and URL schemes."""
    return _CLEANER.clean(html)


class _WikiLinkProcessor(InlineProcessor):
    """``[[Title]]`` and ``[[slug|label]]`` become links to ``/wiki/<slug>``."""

    def handleMatch(self, m: re.Match[str], data: str):  # noqa: ANN201, N802 - Markdown API
        target, label = m.group(1).strip(), (m.group(2) or "").strip()
        if target.lower().startswith(MEDIA_SCHEME):
            # Drawn by _MediaProcessor like ![label](media:name).
            image = etree.Element("img", {"src": target, "alt": label})
            return image, m.start(0), m.end(0)
        slug = slugify(target)
        if not slug:
            return None, None, None
        self.md.wikilinks.append(slug)
        element = etree.Element("a", {"class": "wikilink", "href": f"/wiki/{slug}"})
        element.text = AtomicString(label or target)
        return element, m.start(0), m.end(0)


MEDIA_SCHEME = "media:"
_MEDIA_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\.[a-z0-9]{1,5}$")


def media_name(reference: str) -> str:
    """The normalised media name in ``media:Affiche.PNG`` ("affiche.png"), or ""."""
    name = reference[len(MEDIA_SCHEME) :].strip() if reference else ""
    stem, _, extension = name.rpartition(".")
    normalised = f"{slugify(stem)}.{extension.lower()}"
    return normalised if _MEDIA_NAME.match(normalised) else ""


class _MediaProcessor(Treeprocessor):
    """``![caption](media:name)`` becomes a figure linking to the media page.

    Alone in its paragraph it is a figure with its caption; inside text, a small link.
    The credit line is added at view time, since a media's credits can change.
    """

    def run(self, root: etree.Element) -> None:
        for parent in list(root.iter()):
            for index, child in enumerate(list(parent)):
                if child.tag == "img" and child.get("src", "").lower().startswith(MEDIA_SCHEME):
                    self._replace(parent, index, child)

    def _replace(self, parent: etree.Element, index: int, image: etree.Element) -> None:
        name = media_name(image.get("src", ""))
        if not name:
            shown = etree.Element("code")
            shown.text = AtomicString(image.get("src", ""))
            shown.tail = image.tail
            parent[index] = shown
            return
        caption = image.get("alt", "") or name
        self.md.media.append(name)
        link = etree.Element("a", {"href": f"/media/{name}"})
        etree.SubElement(link, "img", {"src": f"/media/{name}/thumbnail", "alt": caption})
        link.tail = image.tail
        alone = parent.tag == "p" and len(parent) == 1 and not (parent.text or "").strip()
        if alone and not (image.tail or "").strip():
            figure = etree.Element("figure", {"class": "media"})
            figure.append(link)
            link.tail = None
            etree.SubElement(figure, "figcaption").text = caption
            parent.clear()
            parent.tag = "figure"
            parent.attrib.update(figure.attrib)
            parent.extend(list(figure))
        else:
            link.set("class", "media-link")
            parent[index] = link


class _WikiLinkExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown API
        self.md = md
        md.wikilinks = []
        md.media = []
        md.registerExtension(self)
        # Above the link pattern (160) so "[[x]]" is not read as a reference link.
        md.inlinePatterns.register(_WikiLinkProcessor(WIKILINK_RE, md), "wikilink", 175)
        # After inline patterns (20), which turn ![...](...) into <img>.
        md.treeprocessors.register(_MediaProcessor(md), "media", 15)

    def reset(self) -> None:
        self.md.wikilinks = []
        self.md.media = []


def _toc_slug(value: str, separator: str) -> str:
    return slugify(value) or "section"


def _new_markdown() -> markdown.Markdown:
    wikilinks = _WikiLinkExtension()
    md = markdown.Markdown(
        extensions=[
            "toc",
            "tables",
            "fenced_code",
            LinearFootnotes(BACKLINK_TITLE=""),
            "sane_lists",
            "pymdownx.tasklist",
            "pymdownx.magiclink",
            wikilinks,
            LinearExtension(),
        ],
        extension_configs={
            "toc": {"slugify": _toc_slug, "toc_depth": "2-4"},
            "tables": {"use_align_attribute": True},
            "pymdownx.tasklist": {"custom_checkbox": False},
            "pymdownx.magiclink": {"hide_protocol": False},
        },
        output_format="html",
    )
    return md


_local = threading.local()


def _markdown() -> markdown.Markdown:
    md = getattr(_local, "md", None)
    if md is None:
        md = _local.md = _new_markdown()
    return md.reset()


#: Python-Markdown parses each level of a nested list or quote again, so their cost is
#: the text's size times their depth. Beyond this many characters of spaces, tabs, ">"
#: and list markers at the start of a line (some thirty levels), the rest of that run
#: is dropped.
MAX_LINE_INDENT = 128
_NESTING = r"[ \t>*+\-0-9.)]"
_DEEP_INDENT = re.compile(rf"^({_NESTING}{{{MAX_LINE_INDENT}}}){_NESTING}+", re.MULTILINE)


def render_markdown(body: str) -> Rendered:
    """Render a page body to sanitised HTML, its table of contents and its link targets."""
    md = _markdown()
    try:
        converted = md.convert(_DEEP_INDENT.sub(r"\1", body))
    except RecursionError:
        # Python-Markdown parses nested elements by recursion: thousands of levels (of
        # "_" around a word, say) exhaust the stack. Such a body is shown as its text.
        _local.md = None
        return Rendered(html=f"<pre>{escape(body)}</pre>", toc="")
    html = sanitize(converted)
    toc = sanitize(md.toc) if len(_flatten(md.toc_tokens)) >= 2 else ""
    return Rendered(
        html=html,
        toc=toc,
        links=list(dict.fromkeys(md.wikilinks)),
        media=list(dict.fromkeys(name for name in md.media if name)),
    )


def _flatten(tokens: list[dict]) -> list[dict]:
    flat = []
    for token in tokens:
        flat.append(token)
        flat.extend(_flatten(token.get("children", [])))
    return flat


def _without_code(body: str) -> str:
    """The body less its fenced and indented blocks and code spans."""
    return _CODE_SPAN.sub("", _INDENTED_CODE.sub("", _without_fenced_code(body)))


def _without_fenced_code(body: str) -> str:
    """The body less its fenced blocks: from a fence to the next line that closes it.

    A fence that nothing closes is left as text. Once no closing fence of a kind is left,
    later fences of that kind are not searched again, so the cost stays linear.
    """
    pieces: list[str] = []
    copied = position = 0
    unclosed: set[str] = set()
    while (opening := _FENCE_OPENING.search(body, position)) is not None:
        fence = opening.group(1)
        closing = None if fence in unclosed else _FENCE_CLOSING[fence].search(body, opening.end())
        if closing is None:
            unclosed.add(fence)
            position = opening.end()
            continue
        pieces.append(body[copied : opening.start()])
        copied = position = closing.end()
    pieces.append(body[copied:])
    return "".join(pieces)


def link_targets(body: str) -> list[str]:
    """The slugs a body links to, without rendering it (code is not a link)."""
    text = _without_code(body)
    targets = (m.group(1).strip() for m in _WIKILINK.finditer(text))
    slugs = (slugify(t) for t in targets if not t.lower().startswith(MEDIA_SCHEME))
    return list(dict.fromkeys(slug for slug in slugs if slug))


# ![caption](media:name), [text](media:name) and [[media:name|caption]]. Each part
# stops at a bracket or line end, as the renderer's do, so no match reads far.
_MEDIA_REFERENCE = re.compile(
    r"(?:(!)?\[([^\[\]]*))?\]\(\s*(media:[^)\s]+)|\[\[\s*(media:[^\[\]|\n]+)(?:\|([^\[\]\n]+))?\]\]"
)


def media_references(body: str) -> list[tuple[str, str]]:
    """The media a body shows, without rendering it: (name, caption), in order.

    The caption is what a picture (``![caption](media:…)``) or a wiki reference
    (``[[media:…|caption]]``) says; "" for a link or no text. Code shows nothing.
    """
    if MEDIA_SCHEME not in body:
        return []
    found = []
    for match in _MEDIA_REFERENCE.finditer(_without_code(body)):
        picture, label, target, wiki_target, wiki_caption = match.groups()
        name = media_name(target or wiki_target)
        if name:
            found.append((name, (label if picture else wiki_caption) or ""))
    return found


def media_targets(body: str) -> list[str]:
    """The media a body shows, without rendering it."""
    return list(dict.fromkeys(name for name, _caption in media_references(body)))


_WIKILINK_ANCHOR = re.compile(r'<a class="wikilink" href="/wiki/([a-z0-9-]+)">')


def mark_missing_links(html: str, missing: set[str]) -> str:
    """Show links to pages that do not exist yet differently, pointing at their editor."""
    if not missing:
        return html

    def replace(m: re.Match[str]) -> str:
        slug = m.group(1)
        if slug not in missing:
            return m.group(0)
        return f'<a class="wikilink missing" href="/wiki/{escape(slug)}/edit" rel="nofollow">'

    return _WIKILINK_ANCHOR.sub(replace, html)


_MEDIA_FIGURE = re.compile(
    r'<figure class="media"><a href="/media/([a-z0-9.-]+)">(.*?)</figcaption>\s*</figure>',
    re.DOTALL,
)


_IMAGE = re.compile(r"<img [^>]*>")


def decorate_media(html: str, credit_lines: dict[str, str], missing_label: str) -> str:
    """Add each figure's credit line (HTML, already escaped); mark media that do not exist."""

    def replace(m: re.Match[str]) -> str:
        name, inner = m.group(1), m.group(2)
        credit = credit_lines.get(name)
        if credit is None:
            inner = _IMAGE.sub(escape(name), inner, count=1)
            return (
                f'<figure class="media missing"><a href="/media/upload?name={escape(name)}" '
                f'rel="nofollow">{inner} <span class="media-credit">{escape(missing_label)}</span>'
                "</figcaption></figure>"
            )
        return (
            f'<figure class="media"><a href="/media/{name}">{inner}'
            f' <span class="media-credit">{credit}</span></figcaption></figure>'
        )

    return _MEDIA_FIGURE.sub(replace, html)
