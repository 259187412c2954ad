"""The bundle's presentation: the only module of the package that renders templates or
writes HTML. Rendered page HTML is made to work offline inside the ``pages/`` folder, each
page becomes a standalone HTML file (``bundle/page.html``), and ``index.html``
(``bundle/index.html``) lists the pages by kind and tag, the media and the licences."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from html import escape

from flask import render_template
from flask_babel import gettext

from .. import credits, licenses, rendered, serialize
from ..models import Page
from .layout import VERSION, page_url


@dataclass(frozen=True)
class BundledFile:
    """A media file of the bundle, as its pages show it."""

    kind: str  # "image" or "document"
    #: The current version's file in the zip.
    path: str


_ROOT_LINK = re.compile(r'(<a\b[^>]*?)\s*\bhref="(/(?!/)[^"]*)"')
_WIKI_PATH = re.compile(r"^/wiki/([a-z0-9-]+)$")
#: A link to a page missing from the commons opens its editor there: a reader of the
#: bundle is sent to the page's address instead.
_WIKI_EDIT_PATH = re.compile(r"^/wiki/([a-z0-9-]+)/edit$")
_MEDIA_PATH = re.compile(r"^/media/([a-z0-9.-]+)$")
_IMAGE = re.compile(r"<img\b[^>]*>")
_ALT = re.compile(r'\balt="([^"]*)"')
_SRC = re.compile(r'\bsrc="(https?://[^"]*)"')
_THUMBNAIL = re.compile(r'\bsrc="/media/([a-z0-9.-]+)/thumbnail"')


def bundle_html(
    html: str,
    in_bundle: set[str],
    base: str | None,
    files: Mapping[str, BundledFile] | None = None,
) -> str:
    """Make rendered page HTML work offline, inside the bundle's ``pages/`` folder.

    Links to pages in the bundle point to their file (links to other pages to their
    address in this commons, never to its editor), and media in the bundle (``files``,
    by name) to theirs: pictures show the bundled file, documents become links to it.
    Other links to this commons become absolute (or plain text when its address is
    unknown); other images are not fetched from anywhere: each becomes its description,
    linked when it is external.
    """
    files = files or {}

    def link(match: re.Match[str]) -> str:
        start, path = match.group(1), match.group(2)
        edit = _WIKI_EDIT_PATH.match(path)
        if edit:
            path = f"/wiki/{edit.group(1)}"
        wiki = _WIKI_PATH.match(path)
        if wiki and wiki.group(1) in in_bundle:
            return f'{start} href="{wiki.group(1)}.html"'
        shown = _MEDIA_PATH.match(path)
        if shown and shown.group(1) in files:
            return f'{start} href="../{files[shown.group(1)].path}"'
        if base is None:
            return start
        return f'{start} href="{escape(base)}{path[1:]}"'

    def image(match: re.Match[str]) -> str:
        tag = match.group(0)
        alt = _ALT.search(tag)
        label = (alt.group(1) if alt else "") or gettext("image")
        thumbnail = _THUMBNAIL.search(tag)
        bundled = files.get(thumbnail.group(1)) if thumbnail else None
        if bundled is not None and bundled.kind == "image":
            return f'<img alt="{label}" src="../{bundled.path}">'
        if bundled is not None:
            # The link around it opens the bundled document.
            return f'<span class="document">{label}</span>'
        source = _SRC.search(tag)
        if source:
            return f'<a class="image" href="{source.group(1)}">[{label}]</a>'
        return f'<span class="image">[{label}]</span>'

    return _IMAGE.sub(image, _ROOT_LINK.sub(link, html))


@dataclass
class Listed:
    """What the index needs to remember about an exported page."""

    slug: str
    title: str
    kind: str
    tags: list[str]


@dataclass
class ListedMedia:
    """What the index needs to remember about an exported media."""

    name: str
    title: str
    #: Its current file in the zip.
    path: str


def index_html(
    listed: list[Listed],
    listed_media: list[ListedMedia],
    base: str | None,
    created_at: datetime,
    license_files: dict[str, str],
) -> str:
    """The bundle's ``index.html``: its pages by kind and by tag, its media, its licences."""
    by_kind: dict[str, list[Listed]] = {}
    by_tag: dict[str, list[Listed]] = {}
    for item in listed:
        by_kind.setdefault(item.kind, []).append(item)
        for tag in item.tags:
            by_tag.setdefault(tag, []).append(item)
    kinds = [kind for kind in ("tool", "experiment", "synthesis", "page") if kind in by_kind]
    kinds += sorted(set(by_kind) - set(kinds))
    return render_template(
        "bundle/index.html",
        pages=listed,
        media=listed_media,
        kinds=[(kind, by_kind[kind]) for kind in kinds],
        tags=sorted(by_tag.items()),
        source=base,
        created_at=created_at,
        licenses=[(licenses.get(spdx), path) for spdx, path in license_files.items()],
        version=VERSION,
    )


def standalone_page(
    page: Page,
    view: rendered.View | None,
    *,
    attribution: credits.Attribution,
    contributors: list[credits.Contributor],
    in_bundle: set[str],
    base: str | None,
    media_files: Mapping[str, BundledFile],
) -> str:
    """A page's ``pages/<slug>.html``: its current text (``view``, None when hidden) made to
    work offline, with its credits, licence and how to reuse it."""
    current = page.current_revision
    assert current is not None
    permalink = page_url(base, page.slug, current.number)
    license_ = licenses.get(page.license)
    return render_template(
        "bundle/page.html",
        page=page,
        revision=current,
        body=bundle_html(view.html, in_bundle, base, media_files) if view else None,
        toc=view.toc if view else "",
        attribution=attribution,
        contributors=contributors,
        # The hidden text of a page shows nothing, and credits nothing.
        media_credits=serialize.media_credits(page) if media_files else [],
        media_files=media_files,
        permalink=permalink,
        license=license_,
        license_file=f"../licenses/{license_.spdx}.txt",
        reuse=credits.reuse_texts(
            attribution, permalink or f"{page.slug}.html", current.created_at
        ),
    )
