"""Pages and booklets as PDF: print templates laid out by WeasyPrint.

A printed copy carries what the licences ask of it: each page's TASL line and, at the
end, the credits of everything printed (authors, co-authors, sources, pictures,
licences), all taken from :mod:`commons.credits`. Pictures come from the media store
only: the fetcher given to WeasyPrint refuses every other address, so laying a page
out never reaches the network, nor any file outside the store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape, unescape
from pathlib import Path
from tempfile import SpooledTemporaryFile
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

from flask import current_app, render_template, url_for
from flask_babel import format_date, get_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from . import credits, licenses, media, permissions, rendered, serialize
from .bundles.selection import Selection, selected_pages
from .errors import TooLarge
from .extensions import db
from .models import Page, Revision, User, utcnow

STYLESHEET = Path(__file__).resolve().parent / "templates" / "print" / "print.css"
#: Booklets are written to a temporary file, kept in memory up to this size.
SPOOL_IN_MEMORY = 8_000_000


@dataclass
class PrintedPage:
    """One page as printed: its body, its TASL line and everything its credits list."""

    page: Page
    revision: Revision
    #: The body's HTML ready for print; None when the revision is hidden from the reader.
    html: str | None
    attribution: credits.Attribution
    contributors: list[credits.Contributor]
    media: list[dict[str, Any]]
    permalink: str

    @property
    def anchor(self) -> str:
        return f"page-{self.page.slug}"


def _printed(page: Page, user: User | None, base_url: str, content_language: str) -> PrintedPage:
    revision = page.current_revision
    assert revision is not None
    html = None
    if permissions.can_read(user, revision):
        html = print_ready(rendered.revision_view(revision).html, base_url, content_language)
    people = credits.contributors(page)
    return PrintedPage(
        page=page,
        revision=revision,
        html=html,
        attribution=credits.attribution(page, revision, people),
        contributors=people,
        media=serialize.media_credits(page) if html is not None else [],
        permalink=url_for("wiki.view", slug=page.slug, rev=revision.number, _external=True),
    )


# --- preparing the HTML ----------------------------------------------------------------

_ANCHOR = re.compile(r"<a\b([^>]*)>(.*?)</a>", re.DOTALL)
_HREF = re.compile(r'\bhref="([^"]*)"')
_TAG = re.compile(r"<[^>]+>")
_SKIPPED_LINK = re.compile(r'\bclass="[^"]*\b(?:missing|footnote-ref|footnote-backref|toclink)\b')


def _visible_urls(html: str, base_url: str) -> str:
    """Follow each link whose text does not show its address with that address as a
    footnote, so a reader of the paper can find it. Pictures, anchors inside the page and
    links to pages not written yet keep no note."""

    def note(m: re.Match[str]) -> str:
        attributes, inner = m.group(1), m.group(2)
        href = _HREF.search(attributes)
        if href is None or "<img" in inner or _SKIPPED_LINK.search(attributes):
            return m.group(0)
        target = unescape(href.group(1))
        if target.startswith("#") or 'rel="license"' in attributes:
            return m.group(0)
        address = urljoin(base_url, target)
        text = unescape(_TAG.sub("", inner)).strip()
        if text in (target, address):
            return m.group(0)
        return f'{m.group(0)}<span class="link-note">{escape(address)}</span>'

    return _ANCHOR.sub(note, html)


_CODE = re.compile(r"(<(?:pre|code)\b.*?</(?:pre|code)>)", re.DOTALL)
_TEXT_OR_TAG = re.compile(r"(<[^>]+>)")
NARROW_NBSP = "\u202f"
NBSP = "\u00a0"
_FRENCH_RULES = (
    # A space written before a double punctuation mark becomes one that does not break:
    # a narrow one before ; ! ? », a normal one before a colon.
    (re.compile(r"(?<=\S)[ \u00a0\u202f]+(?=[;!?»])"), NARROW_NBSP),
    (re.compile(r"(?<=\S)[ \u00a0\u202f]+(?=:)"), NBSP),
    (re.compile(r"«[ \u00a0\u202f]*"), "«" + NARROW_NBSP),
    (re.compile(r"(?<=\S)(?=»)"), NARROW_NBSP),
)


def french_spacing(html: str) -> str:
    """French typographic spaces in the text of ``html`` (never in tags, code or URLs):
    « guillemets » with narrow no-break spaces, no line break before ; : ! ?."""
    parts = []
    for code_or_text in _CODE.split(html):
        if code_or_text.startswith(("<pre", "<code")):
            parts.append(code_or_text)
            continue
        for piece in _TEXT_OR_TAG.split(code_or_text):
            if not piece.startswith("<"):
                for pattern, replacement in _FRENCH_RULES:
                    piece = pattern.sub(replacement, piece)
            parts.append(piece)
    return "".join(parts)


def print_ready(html: str, base_url: str, content_language: str) -> str:
    """A rendered body made for paper: addresses as footnotes, French spacing in French."""
    html = _visible_urls(html, base_url)
    return french_spacing(html) if content_language == "fr" else html


# --- pictures from the media store only -----------------------------------------------


def _media_fetcher(base_url: str) -> Any:
    """A WeasyPrint URL fetcher that reads pictures of the media store and nothing else."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    site = urlsplit(base_url)
    picture_path = re.compile(r"/media/([a-z0-9][a-z0-9.-]*)/(?:thumbnail|file)")

    class MediaStoreFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            address = urlsplit(url)
            found = picture_path.fullmatch(address.path)
            if (address.scheme, address.netloc) != (site.scheme, site.netloc) or not found:
                raise PermissionError(f"not a picture of this commons: {url[:200]}")
            item = media.find(found.group(1))
            if item is None or item.kind != "image" or item.current_version is None:
                raise FileNotFoundError(f"no picture called {found.group(1)}")
            version = item.current_version
            return URLFetcherResponse(
                url,
                body=media.file_path(version.sha256).read_bytes(),
                headers={"Content-Type": version.content_type},
            )

    return MediaStoreFetcher(allowed_protocols=("http", "https"))


# --- the document ----------------------------------------------------------------------


def _base_url() -> str:
    return url_for("wiki.home", _external=True)


def _write_pdf(html: str, base_url: str, target: IO[bytes] | None = None) -> bytes | None:
    from weasyprint import CSS, HTML

    fetcher = _media_fetcher(base_url)
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
    stylesheet = CSS(filename=str(STYLESHEET), url_fetcher=fetcher)
    return document.write_pdf(target, stylesheets=[stylesheet])


def _render(printed: list[PrintedPage], *, title: str, booklet: bool) -> str:
    license_ids = dict.fromkeys(item.attribution.license.spdx for item in printed)
    for item in printed:
        license_ids.update(dict.fromkeys(credit["license"]["spdx"] for credit in item.media))
    return render_template(
        "print/document.html",
        pages=printed,
        title=title,
        booklet=booklet,
        printed_on=format_date(utcnow(), "long"),
        used_licenses=[licenses.get(spdx) for spdx in license_ids],
        content_language=current_app.config["DEFAULT_LOCALE"],
        reader_language=str(get_locale()),
    )


def page_pdf(page: Page, user: User | None) -> tuple[bytes, str]:
    """The PDF of a page's current revision, with its TASL line and its full credits,
    and the name to download it as."""
    base_url = _base_url()
    printed = [_printed(page, user, base_url, current_app.config["DEFAULT_LOCALE"])]
    html = _render(printed, title=printed[0].revision.title, booklet=False)
    pdf = _write_pdf(html, base_url)
    assert pdf is not None
    return pdf, _file_name(Selection(slug=page.slug))


def _file_name(selection: Selection) -> str:
    """Named like the bundle of the same selection: ``commons-tag-cafe-2026-05-01.pdf``."""
    return selection.file_name().removesuffix(".zip") + ".pdf"


@dataclass(frozen=True)
class Booklet:
    """A booklet written to a file: how to call it and how many pages it holds."""

    file_name: str
    page_count: int


def _describe(selection: Selection) -> str:
    if selection.query:
        return gettext("Search results for “%(query)s”", query=selection.query)
    if selection.kind and selection.tag:
        return gettext(
            "Pages of kind %(kind)s tagged %(tag)s", kind=selection.kind, tag=selection.tag
        )
    if selection.tag:
        return gettext("Pages tagged %(tag)s", tag=selection.tag)
    if selection.kind:
        return gettext("Pages of kind %(kind)s", kind=selection.kind)
    return gettext("Every page")


def booklet_to_temporary_file(selection: Selection, user: User | None) -> tuple[IO[bytes], Booklet]:
    """The booklet of ``selection`` (cover, contents, pages, credits) in a temporary file,
    rewound, ready to stream; larger than ``MAX_BOOKLET_PAGES`` pages is refused."""
    chosen = selected_pages(selection)
    limit = current_app.config["MAX_BOOKLET_PAGES"]
    if len(chosen) > limit:
        raise TooLarge(
            _l(
                "A booklet holds at most %(limit)s pages and this choice has %(count)s: "
                "choose fewer pages, or export them as a bundle.",
                limit=limit,
                count=len(chosen),
            ),
            code="booklet_too_large",
        )
    ids = [page_id for page_id, _slug in chosen]
    by_id = {page.id: page for page in db.session.scalars(select(Page).where(Page.id.in_(ids)))}
    base_url = _base_url()
    language = current_app.config["DEFAULT_LOCALE"]
    printed = [_printed(by_id[page_id], user, base_url, language) for page_id in ids]
    title = printed[0].revision.title if selection.slug else _describe(selection)
    html = _render(printed, title=title, booklet=True)
    out: IO[bytes] = SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    try:
        _write_pdf(html, base_url, out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out, Booklet(file_name=_file_name(selection), page_count=len(printed))
