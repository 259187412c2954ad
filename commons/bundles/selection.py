"""What to export: the :class:`Selection` read from a form, a JSON object or the command
line, and the live pages it names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import page_queries, pages
from .. import search as search_service
from ..errors import NotFound, ValidationError
from ..extensions import db
from ..models import Page, Tag, utcnow
from ..slugs import slugify
from ..text import tag_key


@dataclass(frozen=True)
class Selection:
    """Which pages go into a bundle, and whether with their full history.

    Rules, in order: a ``slug`` exports that page; ``pages`` (slugs picked from a list
    or from search results) export those pages; a ``query`` exports the search
    results (narrowed by ``kind`` and ``tag``); ``kind`` and/or ``tag`` export the
    pages that have them; ``everything`` exports every live page.
    """

    slug: str | None = None
    tag: str | None = None
    kind: str | None = None
    query: str | None = None
    everything: bool = False
    history: bool = False
    pages: tuple[str, ...] = ()

    #: The choices of the export form's "scope" field, each keeping one criterion.
    SCOPES = ("page", "pages", "tag", "kind", "query", "all")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Selection:
        """Read a selection from a form or a JSON object.

        Keys: ``slug``, ``pages`` (a list, or a form's repeated field), ``tag``, ``kind``,
        ``query`` (or ``q``), ``all``, ``history``; an optional ``scope`` (page, pages,
        tag, kind, query, all) keeps only that criterion,
        so a form can hold every field and send the one chosen.
        """
        selection = cls(
            slug=_option(data, "slug"),
            tag=_option(data, "tag"),
            kind=_option(data, "kind"),
            query=_option(data, "query") or _option(data, "q"),
            everything=_flag(data.get("all")),
            history=_flag(data.get("history")),
            pages=_page_list(data),
        )
        scope = _option(data, "scope")
        if scope is None:
            return selection
        if scope not in cls.SCOPES:
            raise ValidationError(
                _l("Unknown choice “%(scope)s” of pages to export.", scope=scope[:40]),
                code="selection_invalid",
            )
        return cls(
            slug=selection.slug if scope == "page" else None,
            tag=selection.tag if scope == "tag" else None,
            kind=selection.kind if scope == "kind" else None,
            query=selection.query if scope == "query" else None,
            everything=scope == "all",
            history=selection.history,
            pages=selection.pages if scope == "pages" else (),
        )

    def describe(self) -> dict[str, Any]:
        """The selection as recorded in the manifest."""
        return {
            "slug": self.slug,
            "tag": self.tag,
            "kind": self.kind,
            "query": self.query,
            "all": self.everything,
            "history": self.history,
            "pages": list(self.pages),
        }

    def file_name(self) -> str:
        """A download name saying what the bundle holds: ``commons-tag-cafe-2024-05-01.zip``."""
        if self.slug:
            label = slugify(self.slug)
        elif self.pages:
            label = f"selection-{len(self.pages)}"
        elif self.query:
            label = "search-" + slugify(self.query)[:40].rstrip("-")
        elif self.kind or self.tag:
            label = "-".join(slugify(part) for part in (self.kind, self.tag) if part)
        else:
            label = "all"
        return f"commons-{label or 'pages'}-{utcnow():%Y-%m-%d}.zip"


def _option(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(_l("“%(field)s” must be text.", field=key), code="selection_invalid")
    return value.strip() or None


#: Pages one may pick by hand for one bundle.
MAX_PICKED_PAGES = 1000


def _page_list(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``pages`` picked: a form's repeated field or a JSON list of slugs."""
    getlist = getattr(data, "getlist", None)
    value = getlist("pages") if getlist is not None else data.get("pages")
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(
            _l("“pages” must be a list of page addresses."), code="selection_invalid"
        )
    # A textarea sends one page per line; checkboxes, one page each.
    lines = (line.strip() for item in value for line in item.splitlines())
    picked = tuple(dict.fromkeys(line for line in lines if line))
    if len(picked) > MAX_PICKED_PAGES:
        raise ValidationError(
            _l(
                "Pick at most %(limit)s pages, or export a tag, a kind or a search.",
                limit=MAX_PICKED_PAGES,
            ),
            code="selection_invalid",
        )
    return picked


def _flag(value: Any) -> bool:
    """Form checkboxes send "on", JSON sends true; both mean yes."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "on", "true", "yes"}
    return value is True or value == 1


def selected_pages(selection: Selection) -> list[tuple[int, str]]:
    """Ids and slugs of the live pages ``selection`` names, by title (search: by relevance).

    Raises :class:`NotFound` when nothing matches and :class:`ValidationError` when
    nothing was chosen.
    """
    live = select(Page.id, Page.slug).where(Page.deleted.is_(False))
    if selection.slug:
        return [_live(selection.slug)]
    if selection.pages:
        return list(dict.fromkeys(_live(slug) for slug in selection.pages))
    kind = pages.clean_kind(selection.kind) if selection.kind else None
    tags = pages.clean_tags([selection.tag]) if selection.tag else []
    if selection.query:
        found = _search_slugs(selection.query, kind, tags[0] if tags else None)
        ids: dict[str, int] = {}
        for start in range(0, len(found), 500):
            batch = live.where(Page.slug.in_(found[start : start + 500]))
            ids.update({slug: page_id for page_id, slug in db.session.execute(batch)})
        # In the order of the search results, most relevant first.
        chosen = [(ids[slug], slug) for slug in found if slug in ids]
    elif kind or tags:
        query = live
        if kind:
            query = query.where(Page.kind == kind)
        if tags:
            query = query.join(Page.tags).where(Tag.key == tag_key(tags[0]))
        chosen = [(row[0], row[1]) for row in db.session.execute(query.order_by(Page.title))]
    elif selection.everything:
        chosen = [(row[0], row[1]) for row in db.session.execute(live.order_by(Page.title))]
    else:
        raise ValidationError(
            _l(
                "Choose what to export: a page, pages from a list, a tag, a kind, a search "
                "or everything."
            ),
            code="selection_empty",
        )
    if not chosen:
        raise NotFound(_l("No page matches this choice: there is nothing to export."))
    return chosen


def _live(slug: str) -> tuple[int, str]:
    """The id and current slug of the live page at ``slug``; NotFound otherwise."""
    page, _redirected = page_queries.resolve(slug)
    if page is None or page.deleted:
        raise NotFound(_l("There is no page at “%(slug)s”.", slug=slug[:80]))
    return page.id, page.slug


def _search_slugs(query: str, kind: str | None, tag: str | None) -> list[str]:
    """Every page the search finds, following its pagination."""
    slugs: list[str] = []
    number = 1
    while True:
        results = search_service.search(query, kind=kind, tag=tag, page=number, per_page=100)
        slugs.extend(hit.slug for hit in results.hits)
        if not results.hits or len(slugs) >= results.total:
            return list(dict.fromkeys(slugs))
        number += 1
