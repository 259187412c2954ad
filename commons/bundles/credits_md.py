"""``CREDITS.md``: its header, and each page's and each media's section, in Markdown where
names and titles stay text."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask_babel import format_date, gettext, ngettext

from .. import credits, licenses
from ..models import Media, Page
from .layout import media_url, page_url


def _md(text: str) -> str:
    """Escape what Markdown would read as markup, so names and titles stay text."""
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


def _file_lines_md(file: str, url: str | None, spdx: str) -> list[str]:
    """The credits lines saying where a page or media is, and under which licence."""
    license_ = licenses.get(spdx)
    return [
        "- "
        + gettext("File: %(file)s", file=file)
        + (" · " + gettext("Original: %(url)s", url=url) if url else ""),
        "- " + gettext("Licence: %(licence)s", licence=f"{license_.name} ({license_.url})"),
    ]


def _source_md(source: dict[str, Any]) -> str:
    """The credits line of a declared source: the work adapted, its authors, URL, licence."""
    work = _md(source.get("title") or source.get("url") or "")
    authors = ", ".join(_md(name) for name in source.get("authors") or [])
    text = (
        gettext("Adapted from %(work)s by %(authors)s", work=work, authors=authors)
        if authors
        else gettext("Adapted from %(work)s", work=work)
    )
    license_name = licenses.name_of(source["license"]) if source.get("license") else None
    details = [part for part in (source.get("url"), license_name) if part]
    return "- " + text + (f" ({', '.join(details)})" if details else "")


def page_section(page: Page, contributors: list[credits.Contributor], base: str | None) -> str:
    """A page's section of CREDITS.md: its title, file, licence, contributors and source."""
    lines = [f"## {_md(page.title)}", ""]
    lines += _file_lines_md(f"pages/{page.slug}.html", page_url(base, page.slug), page.license)
    for person in contributors:
        dates = format_date(person.first, "medium")
        if person.last.date() != person.first.date():
            dates += " – " + format_date(person.last, "medium")
        if person.role == "coauthor":
            text = gettext("%(name)s, co-author", name=_md(person.name))
        else:
            text = ngettext(
                "%(name)s, %(num)s edit",
                "%(name)s, %(num)s edits",
                person.edits,
                name=_md(person.name),
            )
        if person.origin:
            text += " — " + gettext("imported from %(origin)s", origin=person.origin)
        lines.append(f"- {text} ({dates})")
    if page.attribution_parties:
        parties = ", ".join(_md(party) for party in page.attribution_parties)
        lines.append("- " + gettext("Also credited: %(parties)s", parties=parties))
    if page.source:
        lines.append(_source_md(page.source))
    return "\n".join(lines) + "\n"


def media_section(item: Media, authors: list[str], file: str, base: str | None) -> str:
    """A media's section of CREDITS.md: its title, file, licence, authors and source."""
    lines = [f"### {_md(item.title)}", ""]
    lines += _file_lines_md(file, media_url(base, item.name), item.license)
    if authors:
        names = ", ".join(_md(name) for name in authors)
        lines.append("- " + gettext("Authors: %(names)s", names=names))
    if item.source:
        lines.append(_source_md(item.source))
    return "\n".join(lines) + "\n"


def credits_header(count: int, media_count: int, base: str | None, created_at: datetime) -> str:
    """The start of CREDITS.md: what the bundle holds, from where, and how to credit it."""
    intro = ngettext(
        "This bundle holds %(num)s page, exported on %(date)s.",
        "This bundle holds %(num)s pages, exported on %(date)s.",
        count,
        date=format_date(created_at, "long"),
    )
    if base:
        intro += " " + gettext("They come from %(url)s.", url=base)
    if media_count:
        intro += " " + ngettext(
            "It also holds %(num)s file that these pages show, credited at the end.",
            "It also holds %(num)s files that these pages show, credited at the end.",
            media_count,
        )
    header = [
        "# " + gettext("Credits"),
        "",
        intro,
        "",
        gettext(
            "Each page is published under the licence named below; the licence texts are "
            "in the licenses folder. When you reuse a page, credit its authors, link to its "
            "source, name its licence and say whether you changed it."
        ),
        "",
        "",
    ]
    return "\n".join(header)
