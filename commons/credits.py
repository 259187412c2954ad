"""Attribution derived from revisions: who contributed, from where, under which licence.

There is no second source of truth: credits are computed from the revision log
(authors, co-authors, imported origins) and the page's declared source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask_babel import format_date, gettext
from sqlalchemy import Text, cast, func, select

from . import licenses, media, page_queries, render
from .extensions import db
from .models import Media, Page, Revision

MAIN_AUTHORS = 3


@dataclass
class Contributor:
    """One person or organisation credited on a page."""

    name: str
    edits: int
    first: datetime
    last: datetime
    user_id: int | None = None
    #: Where an imported contributor came from (another commons' page URL).
    origin: str | None = None
    #: "author" for revision authors, "coauthor" for names credited with a revision.
    role: str = "author"


@dataclass(frozen=True)
class Notice:
    """One link of the chain of modifications: who worked on the page, where, when.

    ``origin`` is the address of the commons the revisions came from (None: here).
    """

    origin: str | None
    authors: list[str]
    since: datetime
    until: datetime


def modification_notices(page: Page, *, up_to: Revision | None = None) -> list[Notice]:
    """The page's history as consecutive runs of revisions made in one place.

    Revisions carried by imports keep their first origin, so the chain of notices that
    CC BY-SA 4.0 asks for (adapted from..., modified here by... since...) survives any
    number of exports and imports.
    """
    conditions = [Revision.page_id == page.id]
    if up_to is not None:
        conditions.append(Revision.number <= up_to.number)
    rows = db.session.execute(
        select(Revision.origin, Revision.author_name, Revision.created_at)
        .where(*conditions)
        .order_by(Revision.number)
    )
    runs: list[tuple[str | None, list[str], datetime, datetime]] = []
    for origin, author, created in rows:
        created = _aware(created)
        if runs and runs[-1][0] == origin:
            authors = runs[-1][1]
            if author not in authors:
                authors.append(author)
            runs[-1] = (origin, authors, runs[-1][2], created)
        else:
            runs.append((origin, [author], created, created))
    return [Notice(origin, authors, since, until) for origin, authors, since, until in runs]


@dataclass
class Attribution:
    """The TASL of a revision: title, authors, source, licence."""

    title: str
    authors: list[str]
    more_authors: int
    slug: str
    revision: int
    license: licenses.License
    source: dict[str, Any] | None
    parties: list[str] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)
    #: The chain of modifications, oldest first (only shown for adapted works).
    notices: list[Notice] = field(default_factory=list)

    @property
    def modified(self) -> bool:
        """True when the page adapts another work (declared or imported)."""
        return bool(self.source or self.origins)


def contributors(page: Page, *, up_to: Revision | None = None) -> list[Contributor]:
    """Everyone credited on ``page`` (up to a revision), most edits first, aggregated in SQL."""
    conditions = [Revision.page_id == page.id]
    if up_to is not None:
        conditions.append(Revision.number <= up_to.number)
    rows = db.session.execute(
        select(
            Revision.author_name,
            func.max(Revision.author_id),
            Revision.origin,
            func.count(Revision.id),
            func.min(Revision.created_at),
            func.max(Revision.created_at),
        )
        .where(*conditions)
        .group_by(Revision.author_name, Revision.origin)
    ).all()
    # A name is one person per place: this commons' "marie" and a "marie" imported from
    # elsewhere are credited apart, each with where they wrote.
    people = {
        (name, origin): Contributor(name, edits, _aware(first), _aware(last), user_id, origin)
        for name, user_id, origin, edits, first, last in rows
    }
    for coauthors, origin, created in db.session.execute(
        select(Revision.coauthors, Revision.origin, Revision.created_at).where(
            *conditions, func.length(cast(Revision.coauthors, Text)) > 2
        )
    ):
        created = _aware(created)
        for name in coauthors or []:
            known = people.get((name, origin))
            if known is None:
                people[name, origin] = Contributor(
                    name, 1, created, created, origin=origin, role="coauthor"
                )
            else:
                known.edits += 1
                known.first, known.last = min(known.first, created), max(known.last, created)
    return sorted(people.values(), key=lambda c: (-c.edits, c.first))


def all_contributors(*, offset: int = 0, limit: int = 50) -> tuple[list[Contributor], int]:
    """Everyone who wrote revisions anywhere in the wiki, most edits first, with the total.

    Aggregated in SQL, so the cost follows the number of people shown, not of revisions.
    """
    key = (Revision.author_name, Revision.origin)
    total = db.session.scalar(
        select(func.count()).select_from(select(*key).group_by(*key).subquery())
    )
    edits = func.count(Revision.id)
    rows = db.session.execute(
        select(
            Revision.author_name,
            func.max(Revision.author_id),
            Revision.origin,
            edits,
            func.min(Revision.created_at),
            func.max(Revision.created_at),
        )
        .group_by(*key)
        .order_by(edits.desc(), Revision.author_name)
        .offset(offset)
        .limit(limit)
    ).all()
    people = [
        Contributor(name, count, _aware(first), _aware(last), user_id, origin)
        for name, user_id, origin, count, first, last in rows
    ]
    return people, total or 0


def _aware(value: datetime) -> datetime:
    """Aggregates may come back naive on some backends; revisions are stored in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def attribution(
    page: Page, revision: Revision, people: list[Contributor] | None = None
) -> Attribution:
    """The TASL line's parts for ``revision`` of ``page``.

    ``people`` are the contributors up to that revision, when the caller has them already.
    """
    if people is None:
        people = contributors(page, up_to=revision)
    origins = sorted({c.origin for c in people if c.origin})
    return Attribution(
        title=revision.title,
        authors=[c.name for c in people[:MAIN_AUTHORS]],
        more_authors=max(len(people) - MAIN_AUTHORS, 0),
        slug=page.slug,
        revision=revision.number,
        license=licenses.get(revision.license),
        source=page.source,
        parties=list(page.attribution_parties or []),
        origins=origins,
        notices=modification_notices(page, up_to=revision) if (origins or page.source) else [],
    )


def shown_media(page: Page) -> list[Media]:
    """The files the page's current visible text shows that exist, in the text's order (a
    hidden text shows nothing, see :func:`page_queries.visible_text`)."""
    revision = page.current_revision
    names = (
        render.media_targets(page_queries.visible_text(revision)) if revision is not None else []
    )
    found = media.by_names(set(names))
    return [found[name] for name in names if name in found]


@dataclass(frozen=True)
class ReuseTexts:
    """Ready-to-paste attribution for a revision, in the reader's language (the HTML credit
    is written by the ``html_credit`` macro of ``_attribution.html`` from ``authors``)."""

    #: The authors as the credit names them ("marie, eddy and others").
    authors: str
    markdown: str
    text: str
    citation: str


def reuse_texts(attribution_: Attribution, permalink: str, date: datetime) -> ReuseTexts:
    """Attribution following Creative Commons' practice: title, authors, source, licence.

    ``permalink`` is the revision's permanent URL, ``date`` when that revision was saved.
    """
    authors = ", ".join(attribution_.authors) or gettext("unknown authors")
    if attribution_.more_authors:
        authors = gettext("%(authors)s and others", authors=authors)
    license_ = attribution_.license
    modified = gettext(" (modified)") if attribution_.modified else ""

    def credit(title: str, license_name: str) -> str:
        return gettext(
            "%(title)s by %(authors)s%(modified)s, licensed under %(license)s.",
            title=title,
            authors=authors,
            modified=modified,
            license=license_name,
        )

    quoted = gettext("“%(title)s”", title=attribution_.title)
    return ReuseTexts(
        authors=authors,
        markdown=credit(f"[{_md(quoted)}]({permalink})", f"[{license_.name}]({license_.url})"),
        text=f"{credit(quoted, license_.name)} {permalink} {license_.url}",
        citation=gettext(
            "%(authors)s, “%(title)s”, revision %(revision)s of %(date)s, %(url)s",
            authors=authors,
            title=attribution_.title,
            revision=attribution_.revision,
            date=format_date(date, "long"),
            url=permalink,
        ),
    )


def _md(text: str) -> str:
    """Escape the characters that would end a Markdown link label."""
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
