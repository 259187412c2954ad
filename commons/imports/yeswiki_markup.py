"""YesWiki's markup (the "Wakka" syntax) to the Markdown of this commons.

What each construct becomes (``tests/test_yeswiki_markup.py`` has a case for each):

- headings are inverted: ``======`` is a level-1 heading, ``==`` a level-5 one;
- ``**bold**``, ``//italic//``, ``__underline__`` (``<u>``), ``@@deleted@@`` (``<del>``),
  ``##monospace##`` (inline code), ``%%code%%`` (code, a block when it spans lines);
- every newline is a hard break, as YesWiki shows it;
- lists need leading whitespace: ``-`` or ``*`` (bullets), ``1)``, ``a)``, ``i)``
  (numbered), nested by indentation;
- ``[[url label]]`` and ``[[PageTag label]]`` links, CamelCase words (page links);
- ``""raw html""`` is kept as HTML, which the renderer sanitises like any body;
- tables ``[| |a|b| |]``, the first row as the header;
- actions: ``{{attach}}`` shows the imported media, ``{{include}}`` and ``{{button}}``
  become links, layout actions (``section``, ``grid``, ``col``…) are unwrapped, Bazar
  listings and calendars leave a visible placeholder, and any other action is kept as
  code; each of the last two is reported.

Text is never dropped: what is not understood is kept, escaped, as it was written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import gettext

from ..slugs import slugify

#: The levels of ``======`` … ``==``.
_HEADING = re.compile(r"^\s*(={2,6})(.+?)={2,6}\s*$")
_LIST_ITEM = re.compile(r"^([ \t]+)(?:([-*])|([0-9]+|[a-zA-Z]|[ivxIVX]+)\))\s+(.*)$")
_RULE = re.compile(r"^\s*-{4,}\s*$")
_ACTION_NAME = re.compile(r"^\s*([A-Za-z][\w-]*)\s*(.*?)\s*/?\s*$", re.S)
_PARAMETER = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
_URL = re.compile(r"^(?:https?|ftp|mailto):|^www\.|^[\w.+-]+@[\w-]+\.[\w.]+$", re.I)
_CAMEL_CASE = re.compile(r"^[A-ZÀ-Þ][a-zß-ÿ0-9]+(?:[A-ZÀ-Þ][a-zß-ÿ0-9]*)+$")
_ESCAPED = re.compile(r"([\\`*_\[\]<>#|!~])")

#: Actions that only lay out what they wrap: their content is kept, the action dropped.
LAYOUT_ACTIONS = frozenset(
    {"section", "grid", "col", "end", "accordion", "panel", "tabs", "tab", "label",
     "nav", "lang", "center", "div", "carousel", "changestyle"}
)  # fmt: skip
#: Actions that list or show Bazar entries: a placeholder and a report line.
BAZAR_ACTIONS = frozenset(
    {"bazar", "bazarliste", "bazarcarto", "bazarcalendrier", "bazaragenda", "bazarrecherche",
     "bazartableau", "calendrier", "calendar", "bazarlist", "bazarmap", "bazarcarte"}
)  # fmt: skip

# One alternation for every inline construct, longest delimiters first.
_INLINE = re.compile(
    r'(?P<raw>""(?P<raw_text>.*?)"")'
    r"|(?P<code>%%(?P<code_text>.*?)%%)"
    r"|(?P<action>\{\{(?P<action_text>.*?)\}\})"
    r"|(?P<link>\[\[(?P<link_text>[^\[\]\n]+?)\]\])"
    r"|(?P<bold>\*\*(?P<bold_text>.+?)\*\*)"
    r"|(?P<italic>(?<![:\w])//(?P<italic_text>.+?)(?<!:)//)"
    r"|(?P<underline>__(?P<underline_text>.+?)__)"
    r"|(?P<deleted>@@(?P<deleted_text>.+?)@@)"
    r"|(?P<mono>\#\#(?P<mono_text>.+?)\#\#)"
    r"|(?P<url>\b(?:https?|ftp)://[^\s<>\"\]\[]+)"
    # CamelCase words (page links); other words are plain text.
    r"|(?P<word>\b[A-ZÀ-Þ][a-zß-ÿ0-9]+(?:[A-ZÀ-Þ][a-zß-ÿ0-9]*)+\b)",
    re.S,
)


@dataclass
class Conversion:
    """A converted text and what the conversion met on the way."""

    markdown: str
    #: Page tags the text links to (links, CamelCase words, includes, buttons).
    links: set[str] = field(default_factory=set)
    #: File names shown with ``{{attach}}``.
    attachments: list[str] = field(default_factory=list)
    #: Actions that were not converted: Bazar listings and calendars, unknown actions.
    unconverted: list[str] = field(default_factory=list)


@dataclass
class Context:
    """How a page's links and attachments are resolved.

    ``page_slug(tag)`` gives the address of a page; ``media(file)`` the name and kind
    (``image`` or ``document``) of an attached file imported as a media, or None.
    """

    page_slug: Callable[[str], str] = slugify
    media: Callable[[str], tuple[str, str] | None] = lambda _file: None


def convert(body: str, context: Context | None = None) -> Conversion:
    """Convert a YesWiki body to Markdown."""
    converter = _Converter(context or Context())
    text = converter.blocks(body.replace("\r\n", "\n").replace("\r", "\n"))
    return Conversion(text, converter.links, converter.attachments, converter.unconverted)


def escape(text: str) -> str:
    """Plain text made inert in Markdown."""
    return _ESCAPED.sub(r"\\\1", text)


class _Converter:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.links: set[str] = set()
        self.attachments: list[str] = []
        self.unconverted: list[str] = []

    # Blocks -------------------------------------------------------------------------

    def blocks(self, body: str) -> str:
        out: list[str] = []
        lines = _join_multiline(body.split("\n"))
        index = 0
        list_indents: list[int] = []
        while index < len(lines):
            line = lines[index]
            if line.strip() == "[|":
                index = self._table(lines, index + 1, out)
                list_indents = []
                continue
            item = _LIST_ITEM.match(line)
            if item:
                out.append(self._list_item(item, list_indents))
                index += 1
                continue
            list_indents = []
            out.append(self._line(line))
            index += 1
        return _hard_breaks(out)

    def _line(self, line: str) -> str:
        if not line.strip():
            return ""
        heading = _HEADING.match(line)
        if heading:
            level = 7 - len(heading.group(1))
            return "\n" + "#" * level + " " + self.inline(heading.group(2).strip()) + "\n"
        if _RULE.match(line):
            return "\n---\n"
        if line.lstrip().startswith("%%") and "\n" in line:
            return self._code_block(line.strip())
        converted = self.inline(line.strip())
        # A line starting like a Markdown block ("1. ", "+ ", "- ") is text in YesWiki.
        return re.sub(r"^(\d+)\.(\s)", r"\1\\.\2", re.sub(r"^([+-])(\s)", r"\\\1\2", converted))

    def _code_block(self, text: str) -> str:
        inner = text[2:-2] if text.endswith("%%") else text[2:]
        inner = re.sub(r"^\((\w+)\)\n", "", inner)  # %%(php) … %% names a language
        fence = "~~~~" if "~~~" in inner else "~~~"
        return f"\n{fence}\n{inner.strip(chr(10))}\n{fence}\n"

    def _list_item(self, item: re.Match[str], indents: list[int]) -> str:
        width = len(item.group(1).expandtabs(2))
        while indents and indents[-1] > width:
            indents.pop()
        if not indents or indents[-1] < width:
            indents.append(width)
        marker = "-" if item.group(2) else "1."
        depth = len(indents) - 1
        return "    " * depth + f"{marker} {self.inline(item.group(4).strip())}"

    def _table(self, lines: list[str], index: int, out: list[str]) -> int:
        rows: list[list[str]] = []
        while index < len(lines) and lines[index].strip() != "|]":
            cells = lines[index].strip().strip("|").split("|")
            if lines[index].strip():
                rows.append([self.inline(cell.strip()) or " " for cell in cells])
            index += 1
        if rows:
            width = max(len(row) for row in rows)
            table = ["", _row(rows[0], width), _row(["---"] * width, width)]
            table += [_row(row, width) for row in rows[1:]]
            out.append("\n".join(table) + "\n")
        return index + 1

    # Inline -------------------------------------------------------------------------

    def inline(self, text: str) -> str:
        parts: list[str] = []
        position = 0
        for match in _INLINE.finditer(text):
            parts.append(escape(text[position : match.start()]))
            parts.append(self._construct(match))
            position = match.end()
        parts.append(escape(text[position:]))
        return "".join(parts)

    def _construct(self, match: re.Match[str]) -> str:
        kind = match.lastgroup
        if kind == "word":
            return self._word(match.group("word"))
        if kind == "url":
            return match.group("url")
        if kind == "raw":
            return match.group("raw_text")
        if kind == "code":
            return _inline_code(match.group("code_text"))
        if kind == "mono":
            return _inline_code(match.group("mono_text"))
        if kind == "action":
            return self._action(match.group("action_text"), match.group(0))
        if kind == "link":
            return self._link(match.group("link_text"))
        wrappers = {
            "bold": ("**", "**"),
            "italic": ("*", "*"),
            "underline": ("<u>", "</u>"),
            "deleted": ("<del>", "</del>"),
        }
        assert kind is not None
        opening, closing = wrappers[kind]
        inner = self.inline(match.group(f"{kind}_text"))
        return f"{opening}{inner}{closing}" if inner.strip() else escape(match.group(0))

    def _word(self, word: str) -> str:
        if _CAMEL_CASE.match(word):
            slug = self.context.page_slug(word)
            if slug:
                self.links.add(word)
                return f"[[{slug}|{word}]]"
        return escape(word)

    def _link(self, text: str) -> str:
        target, _, label = text.strip().partition(" ")
        label = label.strip() or target
        if _URL.match(target):
            url = target if "://" in target or target.startswith("mailto:") else _absolute(target)
            return f"[{self.inline(label)}](<{url}>)"
        slug = self.context.page_slug(target)
        if not slug:
            return escape(f"[[{text}]]")
        self.links.add(target)
        return f"[[{slug}|{_label(label)}]]"

    def _action(self, text: str, original: str) -> str:
        match = _ACTION_NAME.match(text)
        if not match:
            return escape(original)
        name = match.group(1).lower()
        parameters = {
            key.lower(): next(value for value in values if value is not None)
            for key, *values in _PARAMETER.findall(match.group(2))
        }
        if name == "attach":
            return self._attach(parameters, original)
        if name in ("include", "button"):
            return self._action_link(name, parameters, original)
        if name in LAYOUT_ACTIONS:
            return ""
        if name in BAZAR_ACTIONS:
            self.unconverted.append(original)
            note = gettext("Bazar listing not imported: %(action)s", action=original)
            return f"*{escape(note)}*"
        self.unconverted.append(original)
        return _inline_code(original)

    def _attach(self, parameters: dict[str, str], original: str) -> str:
        file_name = parameters.get("file") or parameters.get("attachfile") or ""
        description = parameters.get("desc") or parameters.get("attachdesc") or file_name
        found = self.context.media(file_name) if file_name else None
        if found is None:
            self.unconverted.append(original)
            return _inline_code(original)
        self.attachments.append(file_name)
        name, kind = found
        caption = _label(description)
        return f"![{caption}](media:{name})" if kind == "image" else f"[{caption}](media:{name})"

    def _action_link(self, name: str, parameters: dict[str, str], original: str) -> str:
        target = parameters.get("page") or parameters.get("link") or ""
        label = parameters.get("text") or parameters.get("title") or target
        if not target:
            self.unconverted.append(original)
            return _inline_code(original)
        if _URL.match(target):
            return f"[{escape(label)}](<{target}>)"
        slug = self.context.page_slug(target)
        if not slug:
            return _inline_code(original)
        self.links.add(target)
        return f"[[{slug}|{_label(label)}]]"


def _join_multiline(lines: list[str]) -> list[str]:
    """Lines, with ``%%code%%`` and ``""raw""`` spans that run over several lines joined."""
    joined: list[str] = []
    open_span: str | None = None
    for line in lines:
        if open_span is not None:
            joined[-1] += "\n" + line
            if line.count(open_span) % 2 == 1:
                open_span = None
            continue
        joined.append(line)
        for delimiter in ("%%", '""'):
            if line.count(delimiter) % 2 == 1:
                open_span = delimiter
                break
    return joined


def _hard_breaks(lines: list[str]) -> str:
    """Join lines so that each newline of a paragraph stays a line break."""
    out: list[str] = []
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        paragraph_goes_on = (
            line.strip()
            and following.strip()
            and not line.endswith("\n")
            and not following.startswith("\n")
            and not _is_list(line)
            and not _is_list(following)
        )
        out.append(line + ("  " if paragraph_goes_on else ""))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n") + "\n"


def _is_list(line: str) -> bool:
    return bool(re.match(r"^\s*(?:- |1\. )", line))


def _row(cells: list[str], width: int) -> str:
    cells = cells + [" "] * (width - len(cells))
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _inline_code(text: str) -> str:
    if not text:
        return "``"
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{padding}{text.replace(chr(10), ' ')}{padding}{ticks}"


def _label(text: str) -> str:
    """A link label that cannot end the wiki link early."""
    return re.sub(r"[\[\]|]", " ", text).strip() or "…"


def _absolute(target: str) -> str:
    """``www.…`` as an https address, ``name@host`` as a mailto one."""
    return f"https://{target}" if target.lower().startswith("www.") else f"mailto:{target}"
