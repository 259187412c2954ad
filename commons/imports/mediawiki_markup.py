"""MediaWiki's wikitext to the Markdown of this commons: the basics.

Read with mwparserfromhell, then written node by node: headings (``== x ==`` is a
level-2 heading), ``'''bold'''`` and ``''italic''``, bullet and numbered lists (``*``,
``#``, nested), internal links (``[[Page|label]]``, to the page's address here), links to
files (``[[File:x.png|…|caption]]``, to the file's description page), external links
(``[url label]``), categories (collected as tags), HTML tags (kept: the renderer
sanitises them). Templates and tables are kept as code and reported, as is anything
else the converter does not know: text is never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import mwparserfromhell
from mwparserfromhell import nodes

from .yeswiki_markup import escape

_LIST_MARKUP = re.compile(r"^[*#:;]+$")


@dataclass
class Conversion:
    """A converted text and what the conversion met on the way."""

    markdown: str
    #: Titles of the pages linked to.
    links: set[str] = field(default_factory=set)
    #: Category names, without their namespace.
    categories: list[str] = field(default_factory=list)
    #: Templates and tables kept as code.
    unconverted: list[str] = field(default_factory=list)


@dataclass
class Context:
    """How titles are resolved: ``page_slug(title)`` gives the address of a page here;
    ``namespace(title)`` splits ``File:x`` into (``file``, ``x``), ``category`` likewise,
    and gives (``""``, title) for a page of the main namespace."""

    page_slug: Callable[[str], str]
    namespace: Callable[[str], tuple[str, str]]


def convert(text: str, context: Context) -> Conversion:
    """Convert wikitext to Markdown."""
    converter = _Converter(context)
    code = mwparserfromhell.parse(text.replace("\r\n", "\n"))
    markdown = converter.nodes(code.nodes)
    markdown = _separate_lists(markdown)
    markdown = re.sub(r"\n{3,}", "\n\n", markdown).strip("\n") + "\n"
    return Conversion(markdown, converter.links, converter.categories, converter.unconverted)


class _Converter:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.links: set[str] = set()
        self.categories: list[str] = []
        self.unconverted: list[str] = []
        #: Just after a list marker: the item's text loses its leading spaces.
        self.item_starts = False

    def nodes(self, items: list[nodes.Node]) -> str:
        out: list[str] = []
        index = 0
        while index < len(items):
            markers = ""
            while index < len(items) and _is_list_marker(items[index]):
                markers += str(items[index].wiki_markup)
                index += 1
            if markers:
                # "**" is a bullet inside a bullet, "#" a numbered item.
                marker = "1." if markers.endswith("#") else "-"
                out.append("    " * (len(markers) - 1) + marker + " ")
                self.item_starts = True
                continue
            out.append(self.node(items[index]))
            index += 1
        return "".join(out)

    def node(self, item: nodes.Node) -> str:
        if isinstance(item, nodes.Text):
            return self._text(str(item.value))
        if isinstance(item, nodes.Heading):
            title = self.nodes(item.title.nodes).strip()
            return "#" * min(item.level, 6) + " " + title
        if isinstance(item, nodes.Wikilink):
            return self._wikilink(item)
        if isinstance(item, nodes.ExternalLink):
            url = str(item.url)
            if item.title is None:
                return url
            return f"[{self.nodes(item.title.nodes).strip() or url}](<{url}>)"
        if isinstance(item, nodes.Tag):
            return self._tag(item)
        if isinstance(item, nodes.Comment):
            return ""
        if isinstance(item, nodes.HTMLEntity):
            return str(item)
        # Templates, arguments and anything else: kept as written, and reported.
        original = str(item)
        self.unconverted.append(original)
        return _code(original)

    def _text(self, text: str) -> str:
        if self.item_starts:
            text, self.item_starts = text.lstrip(" "), False
        # Newlines stay (paragraphs and list items follow them); the rest is inert.
        return "\n".join(escape(line) for line in text.split("\n"))

    def _tag(self, item: nodes.Tag) -> str:
        markup = str(item.wiki_markup or "")
        tag = str(item.tag).lower()
        inner = self.nodes(item.contents.nodes) if item.contents is not None else ""
        if markup == "'''":
            return f"**{inner}**" if inner.strip() else inner
        if markup == "''":
            return f"*{inner}*" if inner.strip() else inner
        if markup.startswith("{|") or tag == "table":
            original = str(item)
            self.unconverted.append(original[:80])
            return "\n~~~\n" + original.replace("~~~", "~ ~ ~") + "\n~~~\n"
        if tag == "hr":
            return "\n---\n"
        if tag == "nowiki":
            return escape(str(item.contents) if item.contents is not None else "")
        if tag in ("pre", "syntaxhighlight", "source"):
            body = str(item.contents) if item.contents is not None else ""
            return "\n~~~\n" + body.strip("\n").replace("~~~", "~ ~ ~") + "\n~~~\n"
        if tag == "ref":
            return f" ({inner.strip()})" if inner.strip() else ""
        if tag == "br":
            return "  \n"
        if item.self_closing:
            return str(item)
        return f"<{tag}>{inner}</{tag}>"

    def _wikilink(self, item: nodes.Wikilink) -> str:
        title = str(item.title).strip()
        label = self.nodes(item.text.nodes).strip() if item.text is not None else ""
        namespace, name = self.context.namespace(title.lstrip(":"))
        if namespace == "category" and not title.startswith(":"):
            self.categories.append(name)
            return ""
        if namespace == "file":
            caption = label.rsplit("|", 1)[-1].strip() if label else name
            label = caption or name
        target = title.lstrip(":").split("#", 1)[0]
        slug = self.context.page_slug(target) if target else ""
        if not slug:
            return escape(str(item))
        self.links.add(target)
        shown = re.sub(r"[\[\]|]", " ", label or title).strip() or slug
        return f"[[{slug}|{shown}]]"


_ITEM = re.compile(r"^(?P<indent> *)(?P<marker>- |1\. )")


def _separate_lists(markdown: str) -> str:
    """A blank line before a list that follows text or a list of the other kind, and after
    a list followed by text: Markdown would otherwise read them as one paragraph or list."""
    out: list[str] = []
    previous_marker = None
    for line in markdown.split("\n"):
        item = _ITEM.match(line)
        if item and not item.group("indent"):
            if out and out[-1].strip() and previous_marker != item.group("marker"):
                out.append("")
            previous_marker = item.group("marker")
        elif not item and not line.startswith(" "):
            if previous_marker and line.strip():
                out.append("")  # text after a list ends it
            previous_marker = None
        out.append(line)
    return "\n".join(out)


def _is_list_marker(item: nodes.Node) -> bool:
    return (
        isinstance(item, nodes.Tag)
        and str(item.tag).lower() in ("li", "dd", "dt")
        and bool(_LIST_MARKUP.match(str(item.wiki_markup or "")))
    )


def _code(text: str) -> str:
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{ticks} {text.replace(chr(10), ' ')} {ticks}"
