"""Office documents judged by content: OpenDocument (.odt .ods .odp) and Office Open XML
(.docx .xlsx .pptx), and the text of the ones that are written documents.

Both formats are ZIP archives of XML parts. A document is accepted only when its parts
say what it is (the ODF ``mimetype``, the OOXML ``[Content_Types].xml`` main part) and
when it carries nothing that acts on the reader's computer or reaches elsewhere: no
macros (``vbaProject.bin``, ODF ``Basic/`` and ``Scripts/``, script events), no external
references (linked templates, pictures, objects or data, DDE), no encryption, and no
more unpacked bytes or parts than a real document has (zip bombs). XML parts are read
with a size cap and refused when they declare a DTD, so no entity can expand.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from flask_babel import lazy_gettext as _l

from .errors import ValidationError

#: Refused beyond these: what all parts unpack to, one XML part read, how many parts.
MAX_UNPACKED_BYTES = 200_000_000
MAX_XML_PART_BYTES = 20_000_000
MAX_PARTS = 5_000
#: A part that unpacks to more than this many times its packed size is a bomb.
MAX_RATIO = 200
#: The text preview shows at most this many characters.
PREVIEW_CHARACTERS = 20_000


@dataclass(frozen=True)
class OfficeType:
    """One accepted office format."""

    extension: str
    content_type: str
    name: Any  # a lazy translated string: "Text document (OpenDocument)"
    #: True for written documents, whose text is shown and searched.
    text: bool = False


ODT = OfficeType(
    "odt", "application/vnd.oasis.opendocument.text", _l("text document (OpenDocument)"), True
)
ODS = OfficeType(
    "ods", "application/vnd.oasis.opendocument.spreadsheet", _l("spreadsheet (OpenDocument)")
)
ODP = OfficeType(
    "odp", "application/vnd.oasis.opendocument.presentation", _l("presentation (OpenDocument)")
)
DOCX = OfficeType(
    "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    _l("Word document"),
    True,
)
XLSX = OfficeType(
    "xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    _l("Excel spreadsheet"),
)
PPTX = OfficeType(
    "pptx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    _l("PowerPoint presentation"),
)
TYPES = (ODT, ODS, ODP, DOCX, XLSX, PPTX)
_BY_CONTENT_TYPE = {office_type.content_type: office_type for office_type in TYPES}
#: The content type of each OOXML format's main part, in ``[Content_Types].xml``.
_OOXML_MAIN = {f"{t.content_type}.main+xml": t for t in (DOCX, XLSX)} | {
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX
}
_OOXML_MACRO_MAIN = re.compile(rb"application/vnd\.ms-[a-z]+\.[a-z.]*macroEnabled[a-z.]*\+xml")

_ZIP_SIGNATURE = b"PK\x03\x04"
#: Encrypted OOXML files are not ZIP archives but OLE compound files, like old .doc files.
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_MACRO_PARTS = re.compile(
    r"(^|/)(vbaProject\.bin|vbaData\.xml)$|^(Basic|Scripts)/|(^|/)activeX/", re.IGNORECASE
)
_ODF_SCRIPTS = re.compile(rb"vnd\.sun\.star\.script:|<script:event-listener|<office:script\b")
_ODF_LINKED = re.compile(
    rb"<(?:draw:image|draw:object|draw:object-ole|draw:plugin|draw:applet|draw:floating-frame)"
    rb"\b[^>]*>"
)
_ODF_LINKED_DATA = re.compile(
    rb"<(?:text:section-source|table:table-source|table:cell-range-source)\b"
)
_ODF_DDE = re.compile(rb"<(?:office:dde-source|table:dde-link|text:dde-connection-decl)\b")
_XLINK = re.compile(rb'xlink:href="([^"]*)"')
_OUTSIDE = re.compile(rb"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|/|\\|\.\./)")
_RELATIONSHIP = re.compile(rb"<Relationship\b[^>]*>")
_EXTERNAL = re.compile(rb'TargetMode="External"')
_HYPERLINK = re.compile(rb'Type="[^"]*/hyperlink"')
_WORD_DDE = re.compile(rb"\bDDE(?:AUTO)?\b")


def _refuse(message: Any, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _macros() -> ValidationError:
    return _refuse(
        _l(
            "This document contains macros, which could run programs on readers' computers: "
            "save it without macros (as .docx, .xlsx, .pptx, or in OpenDocument format) and "
            "upload it again."
        ),
        "media_macros",
    )


def _external() -> ValidationError:
    return _refuse(
        _l(
            "This document loads content from outside itself (a linked file, template, "
            "picture or data): such links can follow or attack its readers. Embed that "
            "content in the document, or remove it, and upload it again."
        ),
        "media_external_reference",
    )


def _damaged() -> ValidationError:
    return _refuse(
        _l("This office document is damaged: open it, save it again and upload it again."),
        "media_invalid",
    )


def _too_large() -> ValidationError:
    return _refuse(
        _l(
            "This document unpacks to more than %(size)s MB or %(parts)s parts, far more "
            "than a real document: it is refused.",
            size=MAX_UNPACKED_BYTES // 1_000_000,
            parts=MAX_PARTS,
        ),
        "media_too_large",
    )


def _encrypted() -> ValidationError:
    return _refuse(
        _l(
            "This document is protected by a password, so its content cannot be checked: "
            "remove the password and upload it again."
        ),
        "media_encrypted",
    )


class _Package:
    """A ZIP archive whose parts are read with limits."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.parts = {info.filename: info for info in archive.infolist()}

    def check_limits(self) -> None:
        infos = list(self.parts.values())
        if len(infos) > MAX_PARTS or sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
            raise _too_large()
        for info in infos:
            if info.flag_bits & 0x1:
                raise _encrypted()
            if info.file_size > 1_000_000 and info.file_size > MAX_RATIO * info.compress_size:
                raise _too_large()
            if _MACRO_PARTS.search(info.filename):
                raise _macros()

    def xml(self, name: str) -> bytes | None:
        """A part's bytes (None when absent), refused over the cap or with a DTD."""
        info = self.parts.get(name)
        if info is None:
            return None
        try:
            with self.archive.open(info) as stream:
                data = stream.read(MAX_XML_PART_BYTES + 1)
        except (zipfile.BadZipFile, OSError, RuntimeError, EOFError):
            raise _damaged() from None
        if len(data) > MAX_XML_PART_BYTES:
            raise _too_large()
        if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
            raise _damaged()
        return data


def _check_odf(package: _Package, declared: bytes) -> OfficeType:
    office_type = _BY_CONTENT_TYPE.get(declared.strip().decode("ascii", "replace"))
    if office_type is None or office_type.extension not in ("odt", "ods", "odp"):
        raise _refuse(
            _l("This OpenDocument file is not a text, a spreadsheet or a presentation."),
            "media_type_refused",
        )
    manifest = package.xml("META-INF/manifest.xml") or b""
    if b"encryption-data" in manifest:
        raise _encrypted()
    content = package.xml("content.xml")
    if content is None:
        raise _damaged()
    for part in (content, package.xml("styles.xml") or b"", package.xml("settings.xml") or b""):
        if _ODF_SCRIPTS.search(part):
            raise _macros()
        if _ODF_DDE.search(part) or _ODF_LINKED_DATA.search(part):
            raise _external()
        for element in _ODF_LINKED.finditer(part):
            target = _XLINK.search(element.group(0))
            if target is not None and _OUTSIDE.match(target.group(1)):
                raise _external()
    return office_type


def _check_ooxml(package: _Package) -> OfficeType | None:
    types = package.xml("[Content_Types].xml")
    if types is None:
        return None
    if _OOXML_MACRO_MAIN.search(types) or b"vbaProject" in types:
        raise _macros()
    found = [t for main, t in _OOXML_MAIN.items() if f'ContentType="{main}"'.encode() in types]
    if len(found) != 1:
        return None
    for name in package.parts:
        if name.startswith("xl/externalLinks/"):
            raise _external()
        if name.endswith(".rels"):
            for relation in _RELATIONSHIP.finditer(package.xml(name) or b""):
                if _EXTERNAL.search(relation.group(0)) and not _HYPERLINK.search(relation.group(0)):
                    raise _external()
    if found[0] is DOCX and _WORD_DDE.search(package.xml("word/document.xml") or b""):
        raise _external()
    return found[0]


def sniff(data: bytes) -> OfficeType | None:
    """The office format of ``data``, judged by its content; None when it is no office
    document. Raises :class:`ValidationError` for a hostile or damaged one."""
    if data.startswith(_OLE_SIGNATURE):
        raise _refuse(
            _l(
                "This is a document protected by a password or in an old Office format "
                "(.doc, .xls, .ppt): save it as .docx, .xlsx, .pptx or in OpenDocument "
                "format, without a password, and upload it again."
            ),
            "media_encrypted",
        )
    if not data.startswith(_ZIP_SIGNATURE):
        return None
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError):
        return None
    with archive:
        package = _Package(archive)
        mimetype = package.parts.get("mimetype")
        is_odf = mimetype is not None and mimetype.file_size <= 100
        if not is_odf and "[Content_Types].xml" not in package.parts:
            return None
        package.check_limits()
        if is_odf:
            return _check_odf(package, package.xml("mimetype") or b"")
        return _check_ooxml(package)


def by_content_type(content_type: str) -> OfficeType | None:
    """The office format stored with this content type, if any."""
    return _BY_CONTENT_TYPE.get(content_type)


def check_file_name(filename: str, found: str) -> None:
    """Refuse a file named like one office format whose content is another (or none):
    a ``.docx`` that is really an ``.odt`` is a mistake, or a disguise."""
    given = Path(filename).suffix.lower().lstrip(".")
    office = {t.extension for t in TYPES} | {"doc", "xls", "ppt", "docm", "xlsm", "pptm"}
    if given in office and given != found:
        raise _refuse(
            _l(
                "This file is named “.%(given)s” but its content is “.%(found)s”: rename it "
                "or upload the right file.",
                given=given,
                found=found,
            ),
            "media_extension_mismatch",
        )


# --- text of written documents -----------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"


def _docx_paragraphs(root: ElementTree.Element) -> list[str]:
    paragraphs = []
    for paragraph in root.iter(f"{_W}p"):
        pieces = []
        for node in paragraph.iter():
            if node.tag == f"{_W}t" and node.text:
                pieces.append(node.text)
            elif node.tag == f"{_W}tab":
                pieces.append("\t")
            elif node.tag in (f"{_W}br", f"{_W}cr"):
                pieces.append("\n")
        paragraphs.append("".join(pieces))
    return paragraphs


def _odt_text(node: ElementTree.Element) -> str:
    pieces = [node.text or ""]
    for child in node:
        if child.tag == f"{_TEXT}s":
            pieces.append(" " * int(child.get(f"{_TEXT}c", "1")))
        elif child.tag == f"{_TEXT}tab":
            pieces.append("\t")
        elif child.tag == f"{_TEXT}line-break":
            pieces.append("\n")
        elif child.tag != f"{_TEXT}note":
            pieces.append(_odt_text(child))
        pieces.append(child.tail or "")
    return "".join(pieces)


def _odt_paragraphs(root: ElementTree.Element) -> list[str]:
    return [_odt_text(node) for node in root.iter() if node.tag in (f"{_TEXT}p", f"{_TEXT}h")]


def document_text(path: Path, content_type: str) -> str | None:
    """The text of a stored written document (.odt, .docx), paragraphs on their own lines,
    at most :data:`PREVIEW_CHARACTERS`; None for other files or an unreadable one."""
    office_type = by_content_type(content_type)
    if office_type is None or not office_type.text:
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            package = _Package(archive)
            if office_type is DOCX:
                root = ElementTree.fromstring(package.xml("word/document.xml") or b"")
                paragraphs = _docx_paragraphs(root)
            else:
                root = ElementTree.fromstring(package.xml("content.xml") or b"")
                paragraphs = _odt_paragraphs(root)
    except (OSError, zipfile.BadZipFile, ElementTree.ParseError, ValidationError, ValueError):
        return None
    text = "\n".join(p.strip() for p in paragraphs if p.strip())
    return text[:PREVIEW_CHARACTERS]
