r"""Python-Markdown pieces replaced by versions whose cost grows linearly with the text.

A page body may be a megabyte, and one slow render holds a worker: every piece of the
pipeline must stay linear (or n·log n) whatever the text. Python-Markdown's own
versions of the pieces below rescan the rest of the text for each occurrence of some
character, which is quadratic on a body made of that character repeated:

- the inline pass rebuilt a paragraph's whole text after each match (``*a* *a* …``),
  and then added each text between two placeholders to all the text before it
  (``<b>a</b> <b>a</b> …``, ``\* \* …``);
- link and image texts looked for their closing bracket from each ``[`` (``[[a [[a …``);
- footnote references looked their note up in a list of the notes used so far, and
  back-references named the n-th use of a note by trying 1 … n (``[^1]`` written
  thousands of times);
- fenced code looked for a closing fence from each opening one (lines of ``~~~a``), and
  rebuilt the whole text after each block;
- the raw HTML pass read each ``<`` as the start of a tag to the end of the text when
  nothing closed it (``<a <a …``).

Each class here gives the same output as the piece it replaces on well-formed text;
where they may differ, on malformed links and tags, its docstring says how. The tests in
``tests/test_render_growth.py`` time every such family at n and 2n.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from collections.abc import Iterator
from html.parser import locatestarttagend_tolerant  # what the parser reads tags with

from markdown import Markdown, inlinepatterns, preprocessors, treeprocessors
from markdown.extensions import Extension
from markdown.extensions.fenced_code import FencedBlockPreprocessor
from markdown.extensions.footnotes import FootnoteExtension, FootnoteInlineProcessor
from markdown.htmlparser import HTMLExtractor
from markdown.util import AtomicString

_BRACKET = re.compile(r"[\[\]]")


class _LinearInline(treeprocessors.InlineProcessor):
    """The inline pass, applying each pattern in one left-to-right sweep of a text.

    The original replaces each match by its placeholder in a new copy of the whole text
    before looking for the next one. Here the pieces are collected and joined once.
    """

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802, N803 - overrides the private original
        if isinstance(data, AtomicString):
            return data
        for index in range(patternIndex, len(self.inlinePatterns)):
            data = self._sweep(self.inlinePatterns[index], data, index)
        return data

    def _sweep(self, pattern: inlinepatterns.InlineProcessor, data: str, index: int) -> str:
        if any(exclude.lower() in self.ancestors for exclude in pattern.ANCESTOR_EXCLUDES):
            return data
        regex = pattern.getCompiledRegExp()
        pieces: list[str] = []
        copied = position = 0
        while (match := regex.search(data, position)) is not None:
            node, start, end = pattern.handleMatch(match, data)
            if start is None or end is None:
                # Rejected: look again after this match, as the original's finditer does.
                position = match.end(0) + (match.end(0) == match.start(0))
                continue
            position = end
            if node is None:
                continue
            if not isinstance(node, str):
                self._inline_children(node, index)
            placeholder = self._InlineProcessor__stashNode(node, pattern.type())
            if end < start:
                # A malformed link can end before it starts (Python-Markdown's getLink
                # returns -1): rebuild the text as the original does, and go on after.
                before = "".join(pieces) + data[copied:start] + placeholder
                data, pieces, copied, position = before + data[end:], [], 0, len(before)
                continue
            pieces.append(data[copied:start])
            pieces.append(placeholder)
            copied = end
        if not pieces:
            return data
        pieces.append(data[copied:])
        return "".join(pieces)

    def _InlineProcessor__processPlaceholders(  # noqa: N802 - overrides the private original
        self,
        data: str | None,
        parent: etree.Element,
        isText: bool = True,  # noqa: FBT001, FBT002, N803
    ) -> list[tuple[etree.Element, list[str]]]:
        """The tree of a text with placeholders: its elements, the text between in tails.

        The original adds each piece of text to the text or tail it belongs to as it
        finds it, copying all that was added before. Here the pieces are joined once,
        before each element is handled (it may read the texts around it) and at the end.
        """
        result: list[tuple[etree.Element, list[str]]] = []
        pieces = _Pieces()
        prefix = self._InlineProcessor__placeholder_prefix
        position = 0
        while data and (index := data.find(prefix, position)) != -1:
            id_, after = self._InlineProcessor__findPlaceholder(data, index)
            if id_ not in self.stashed_nodes:  # not a placeholder: its prefix is text
                pieces.add(data[position : index + len(prefix)])
                position = index + len(prefix)
                continue
            node = self.stashed_nodes[id_]
            pieces.add(data[position:index])
            position = after
            if isinstance(node, str):
                pieces.add(node)
                continue
            pieces.flush(*_text_end(result, parent, isText))
            self._stashed_element_texts(node)
            result.append((node, self.ancestors[:]))
        if data:
            rest = data[position:]
            pieces.add(AtomicString(rest) if isinstance(data, AtomicString) else rest)
        pieces.flush(*_text_end(result, parent, isText))
        return result

    def _stashed_element_texts(self, node: etree.Element) -> None:
        """Replace the placeholders in a stashed element's texts, as the original does."""
        for child in [node, *node]:
            if child.tail and child.tail.strip():
                self._InlineProcessor__processElementText(node, child, False)  # noqa: FBT003
            if child.text and child.text.strip():
                self._InlineProcessor__processElementText(child, child)

    def _inline_children(self, node: etree.Element, index: int) -> None:
        """Run the later patterns on a new node's texts, as the original does."""
        if isinstance(node.text, AtomicString):
            return
        for child in [node, *node]:
            if child.text:
                self.ancestors.append(child.tag.lower())
                child.text = self._InlineProcessor__handleInline(child.text, index + 1)
                self.ancestors.pop()
            if child.tail:
                child.tail = self._InlineProcessor__handleInline(child.tail, index)


class _Pieces(list):
    """Texts to add to an element's text or tail, joined once."""

    def add(self, text: str) -> None:
        """Keep ``text`` for the next flush, unless it is empty."""
        if text:
            self.append(text)

    def flush(self, element: etree.Element, attribute: str) -> None:
        """Add the texts kept to ``element.text`` or ``element.tail``, and forget them."""
        if not self:
            return
        before = getattr(element, attribute)
        # One text alone keeps its type (an AtomicString stays one), as in the original.
        joined = self[0] if not before and len(self) == 1 else "".join([before or "", *self])
        setattr(element, attribute, joined)
        self.clear()


def _text_end(
    result: list[tuple[etree.Element, list[str]]],
    parent: etree.Element,
    is_text: bool,  # noqa: FBT001
) -> tuple[etree.Element, str]:
    """Where text found after the elements of ``result`` goes: an element and attribute."""
    if result:
        return result[-1][0], "tail"
    return parent, "text" if is_text else "tail"


class _LinearBrackets:
    """``getText`` of link and image patterns, from one bracket matching per text.

    The original counts brackets from each ``[`` to its match or to the end of the text.
    Here the brackets of a text are matched once with a stack, and looked up after.
    """

    _matched_text: str | None = None
    _closing: dict[int, int]

    def getText(self, data: str, index: int) -> tuple[str, int, bool]:  # noqa: N802 - Markdown API
        if data is not self._matched_text:
            self._closing = _closing(data, _BRACKET, "[")
            self._matched_text = data
        close = self._closing.get(index)
        if close is None:
            return "", len(data), False
        return data[index:close], close + 1, True


class _BoundedLinks(_LinearBrackets):
    """``getLink`` of link and image patterns, reading only as far as it must.

    The original reads from ``(`` to the end of the text when the parenthesis is not
    closed (``[a]( [a]( …``), or when a quote opens a title that nothing closes
    (``[a]('b) [a]('b) …``), and does so again for each link. Here:

    - it reads at most :data:`LINK_WINDOW` characters: a link whose address and title
      are longer is plain text;
    - without quotes, the closing parenthesis comes from one matching of the text's
      parentheses, done once;
    - with a quote and no ``')`` or ``")`` to close a title, the original's answer is
      its fallback: the parenthesis where the ones opened before the quote are closed;
      reading stops there.
    """

    _paired_parens: str | None = None
    _closing_parens: dict[int, int]

    def getLink(self, data: str, index: int) -> tuple[str, str | None, int, bool]:  # noqa: N802 - Markdown API
        end = _link_reading_end(data, index, min(len(data), index + LINK_WINDOW), self)
        if end is None:
            return "", None, index, False
        if end == len(data):
            return super().getLink(data, index)
        href, title, stop, handled = super().getLink(data[index:end], 0)
        return href, title, (stop + index if stop >= 0 else stop), handled

    def closing_paren(self, data: str, index: int) -> int | None:
        """The ``)`` matching the ``(`` at ``index``, quotes aside."""
        if data is not self._paired_parens:
            self._closing_parens = _closing(data, _PAREN, "(")
            self._paired_parens = data
        return self._closing_parens.get(index + 1)


#: The longest ``(address "title")`` of a link or image, in characters.
LINK_WINDOW = 1024
_PAREN = re.compile(r"[()]")
_QUOTE = re.compile("['\"]")
_TITLE_CLOSE = re.compile("['\"] *\\)")


def _link_reading_end(data: str, index: int, end: int, links: _BoundedLinks) -> int | None:
    """Where getLink's answer from ``(`` at ``index`` is decided; None if it fails."""
    if data.find(")", index, end) < 0:
        return None
    if _TITLE_CLOSE.search(data, index, end):
        return end
    quote = _QUOTE.search(data, index, end)
    close = links.closing_paren(data, index)
    if close is not None and close < end and (quote is None or close < quote.start()):
        return close + 1
    if quote is None:
        return None
    # In a title, every parenthesis counts down those still open when it began.
    still_open = (
        1 + data.count("(", index + 1, quote.start()) - data.count(")", index, quote.start())
    )
    for count, paren in enumerate(_PAREN.finditer(data, quote.end(), end), 1):
        if count == still_open:
            # Closed by "(", the original's fallback runs to the end of the text: let it
            # run to the end of the window instead.
            return paren.end() if paren.group() == ")" else end
    return end


def _closing(text: str, brackets: re.Pattern[str], opening: str) -> dict[int, int]:
    """For each opening bracket that is closed, the index after it → its closing one's."""
    closing: dict[int, int] = {}
    opened: list[int] = []
    for bracket in brackets.finditer(text):
        if bracket.group() == opening:
            opened.append(bracket.end())
        elif opened:
            closing[opened.pop()] = bracket.start()
    return closing


class _LinearDelimiters(inlinepatterns.DelimiterProcessor):
    """Emphasis, placing its pending elements where they are in the unchanged text.

    The original pairs all the ``*`` and ``_`` of a text at its first match, then hands
    out one element per later match, shifting the paired positions by how much the
    placeholders put so far changed the text's length. The sweep above does not change
    the text, so the positions are used as they are.
    """

    _paired_text: str | None = None

    def handleMatch(self, m: re.Match[str], data: str):  # noqa: ANN201, N802 - Markdown API
        if not self.regions:
            self._paired_text = data
        return super().handleMatch(m, data)

    def get_cached_result(self, pos: int, data: str) -> tuple[etree.Element, int, int]:
        if data is not self._paired_text:
            return super().get_cached_result(pos, data)
        start, end = self.regions[self.cache_index][0], self.regions[self.cache_index][3]
        element, count = self._build_element(data, self.cache_index)
        self.increment_next_position(start, count)
        return element, start, end


#: Python-Markdown's inline patterns → their linear versions.
_LINEAR_PATTERNS: dict[type, type] = {
    original: type(f"Linear{original.__name__}", (_BoundedLinks, original), {})
    for original in (inlinepatterns.LinkInlineProcessor, inlinepatterns.ImageInlineProcessor)
}
_LINEAR_PATTERNS |= {
    original: type(f"Linear{original.__name__}", (_LinearBrackets, original), {})
    for original in (
        inlinepatterns.ReferenceInlineProcessor,
        inlinepatterns.ImageReferenceInlineProcessor,
        inlinepatterns.ShortReferenceInlineProcessor,
        inlinepatterns.ShortImageReferenceInlineProcessor,
    )
}
_LINEAR_PATTERNS[inlinepatterns.DelimiterProcessor] = _LinearDelimiters


class _Positions(list):
    """Footnote ids in order of first use, each one's position found without a scan.

    Python-Markdown asks ``id in order`` and ``order.index(id)`` at every reference.
    """

    def __init__(self) -> None:
        super().__init__()
        self._positions: dict[str, int] = {}

    def append(self, id_: str) -> None:
        self._positions.setdefault(id_, len(self))
        super().append(id_)

    def __contains__(self, id_: object) -> bool:
        return id_ in self._positions

    def index(self, id_: str, *bounds: int) -> int:
        if bounds or id_ not in self._positions:
            return super().index(id_, *bounds)
        return self._positions[id_]


class _LinearFootnoteReferences(FootnoteInlineProcessor):
    """``[^id]``, numbered without listing every note defined (see LinearFootnotes)."""

    footnotes: LinearFootnotes

    def handleMatch(self, m: re.Match[str], data: str):  # noqa: ANN201, N802 - Markdown API
        id_ = m.group(1)
        footnotes = self.footnotes
        if id_ not in footnotes.footnotes:
            return None, None, None
        footnotes.addFootnoteRef(id_)
        sup = etree.Element("sup")
        sup.set("id", footnotes.makeFootnoteRefId(id_, found=True))
        link = etree.SubElement(sup, "a")
        link.set("href", "#" + footnotes.makeFootnoteId(id_))
        link.set("class", "footnote-ref")
        link.text = footnotes.getConfig("SUPERSCRIPT_TEXT").format(footnotes.number(id_))
        return sup, m.start(0), m.end(0)


class LinearFootnotes(FootnoteExtension):
    """Footnotes whose references are numbered and named without rescanning.

    The original numbers each reference by listing every note defined (or looking it up
    in the list of notes used so far), and names the n-th back-reference to a note by
    trying 1 … n.
    """

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Markdown API
        super().extendMarkdown(md)
        md.inlinePatterns["footnote"].__class__ = _LinearFootnoteReferences

    def reset(self) -> None:
        super().reset()
        self.footnote_order = _Positions()
        self._defined: dict[str, int] = {}

    def setFootnote(self, id: str, text: str) -> None:  # noqa: A002, N802 - Markdown API
        self._defined.setdefault(id, len(self._defined))
        super().setFootnote(id, text)

    def number(self, id_: str) -> int:
        """The number a note shows: by definition or by first use, as configured."""
        if self.getConfig("USE_DEFINITION_ORDER"):
            return self._defined[id_] + 1
        return self.footnote_order.index(id_) + 1

    def unique_ref(self, reference: str, found: bool = False) -> str:
        """``fnref:x`` the first time, then ``fnref2:x``, ``fnref3:x``… as the original."""
        if not found:
            return reference
        uses = self.found_refs.get(reference, 0) + 1
        self.found_refs[reference] = uses
        if uses > 1:
            prefix, rest = reference.split(self.get_separator(), 1)
            reference = f"{prefix}{uses}{self.get_separator()}{rest}"
        self.used_refs.add(reference)
        return reference


class _LinearHTMLExtractor(HTMLExtractor):
    """The raw HTML pass, remembering how far an unclosed tag was read.

    A ``<`` followed by a letter is read as a start tag up to the first ``>`` outside
    quotes; ``</`` and ``<?`` up to the first ``>``. When none comes, the original reads
    to the end again from every later ``<`` (``<a <a <a …``). Here a ``<`` inside a run
    already read to no avail, or after the last ``>`` of the text, is text at once. (A
    tag hidden in a quoted value of an unclosed tag, ``<a title="<b>"`` at the very end
    of a body, is thus shown as text.)
    """

    def reset(self) -> None:
        super().reset()
        self._unclosed_until: tuple[str | None, int] = (None, -1)
        self._last_closing: tuple[str | None, int] = (None, -1)

    def parse_endtag(self, i: int) -> int:
        if self._unclosed(i):
            self.handle_data(self.rawdata[i : i + 2])  # as the original does when unclosed
            return i + 2
        return super().parse_endtag(i)

    def parse_pi(self, i: int) -> int:
        if self._unclosed(i):
            # What the parser does with an unclosed "<?" once it has the whole text,
            # without first looking for a ">" to the end of it.
            end = self.rawdata.find("<", i + 1)
            end = end if end >= 0 else i + 1
            self.handle_data(self.rawdata[i:end])
            return end
        return super().parse_pi(i)

    def _unclosed(self, i: int) -> bool:
        """Whether no ">" follows ``i``: then no tag, comment or declaration starts there."""
        text, last = self._last_closing
        if text is not self.rawdata:
            last = self.rawdata.rfind(">")
            self._last_closing = (self.rawdata, last)
        return last < i

    def check_for_whole_start_tag(self, i: int) -> int:
        text, until = self._unclosed_until
        if text is self.rawdata and i < until:
            return -1
        end = super().check_for_whole_start_tag(i)
        if end < 0:
            self._unclosed_until = (self.rawdata, _run_end(self.rawdata, i))
        return end


def _run_end(text: str, start: int) -> int:
    """Where the reading of an unclosed start tag at ``start`` stopped."""
    found = locatestarttagend_tolerant.match(text, start)
    return found.end() if found else start


class _LinearHtmlBlock(preprocessors.HtmlBlockPreprocessor):
    def run(self, lines: list[str]) -> list[str]:
        parser = _LinearHTMLExtractor(self.md)
        parser.feed("\n".join(lines))
        parser.close()
        return "".join(parser.cleandoc).split("\n")


_FENCE_START = re.compile(r"^(?:~{3,}|`{3,})", re.MULTILINE)
_FENCE_LINE = re.compile(r"^(~{3,}|`{3,})[ ]*$", re.MULTILINE)


class _LinearFencedBlocks(FencedBlockPreprocessor):
    """Fenced code, finding blocks without rescanning and handling each on its own.

    An opening fence is only tried when a line able to close it comes later; each block
    found goes through the original, alone, so its output is unchanged.
    """

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        pieces: list[str] = []
        copied = 0
        for start, end in self._blocks(text):
            pieces.append(text[copied:start])
            pieces.append("\n".join(super().run(text[start:end].split("\n"))))
            copied = end
        if not pieces:
            return lines
        pieces.append(text[copied:])
        return "".join(pieces).split("\n")

    def _blocks(self, text: str) -> Iterator[tuple[int, int]]:
        last_closing = {line.group(1): line.start() for line in _FENCE_LINE.finditer(text)}
        position = 0
        while (opening := _FENCE_START.search(text, position)) is not None:
            position = opening.end()
            if last_closing.get(opening.group(), -1) <= opening.start():
                continue
            block = self.FENCED_BLOCK_RE.match(text, opening.start())
            if block is not None:
                yield block.start(), block.end()
                position = block.end()


class LinearExtension(Extension):
    """Swap the quadratic pieces of a Markdown instance for the linear ones above.

    List it after the extensions it patches (footnotes are replaced separately, by
    using :class:`LinearFootnotes` instead of ``"footnotes"``).
    """

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Markdown API
        md.treeprocessors.register(_LinearInline(md), "inline", 20)
        md.preprocessors.register(_LinearHtmlBlock(md), "html_block", 20)
        md.preprocessors["fenced_code_block"].__class__ = _LinearFencedBlocks
        for pattern in md.inlinePatterns:
            # Swap the class, not the instance: the pattern keeps the settings that
            # Python-Markdown and other extensions gave it (such as emphasis with "_").
            linear = _LINEAR_PATTERNS.get(type(pattern))
            if linear is not None:
                pattern.__class__ = linear
