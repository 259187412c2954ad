"""The page service: the fields of a page and their checks, creation (:func:`new_page`,
shared by the editor, the API and the importer), saving with conflict detection and
three-way merge, and the writing of history (:func:`append_revision`).

Moving a page (rename, delete, restore, revert) is :mod:`commons.page_moves`; protecting
pages and hiding revisions is :mod:`commons.moderation`; reading pages, their history and
backlinks is :mod:`commons.page_queries`.

Every change appends an immutable :class:`Revision` and moves the page's pointer;
nothing is overwritten. Functions take the acting user explicitly and never read the
request, so views, the API, the CLI and the importer share them. They flush and
announce the revisions they append (:func:`commons.transaction.announce`); the caller's
boundary commits.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import merge3
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ColumnElement

from . import experiments, licenses, permissions, render, sheets, transaction, watching
from .attribution import (
    Author,
    clean_names,
    clean_source,
    clean_summary,
    content_hash,
    refuse_control_characters,
)
from .errors import EditConflict, Forbidden, TooLarge, ValidationError
from .extensions import db
from .models import (
    Action,
    Kind,
    Link,
    Page,
    Redirect,
    Revision,
    Tag,
    User,
    WatchTarget,
    utcnow,
)
from .page_queries import find, get_revision, visible_fields, visible_text
from .slugs import MAX_SLUG_LENGTH, is_slug, slugify
from .text import tag_key

MAX_TAGS = 20
MAX_TAG_LENGTH = 64


@dataclass
class SaveResult:
    """What a save did: the page, the revision it made (None for a no-op), and how."""

    page: Page
    revision: Revision | None
    created: bool = False
    merged: bool = False

    @property
    def noop(self) -> bool:
        return self.revision is None


# --- validation ----------------------------------------------------------------


def clean_title(title: str | None) -> str:
    refuse_control_characters(
        title or "",
        _l("The title contains an invisible control character: please remove it."),
    )
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError(_l("A page needs a title."), code="title_required")
    limit = current_app.config["MAX_TITLE_LENGTH"]
    if len(title) > limit:
        raise ValidationError(
            _l(
                "The title is too long (%(count)s characters, at most %(limit)s).",
                count=len(title),
                limit=limit,
            ),
            code="title_too_long",
        )
    if not slugify(title):
        raise ValidationError(
            _l("The title needs at least one letter or digit."), code="title_invalid"
        )
    return title


def clean_slug(slug: str) -> str:
    if not is_slug(slug) or len(slug) > MAX_SLUG_LENGTH:
        raise ValidationError(
            _l(
                "“%(slug)s” is not a valid address: use lower-case letters, digits and dashes.",
                slug=slug[:80],
            ),
            code="slug_invalid",
        )
    return slug


def clean_kind(kind: str | None) -> str:
    if not kind:
        return Kind.PAGE.value
    if kind not in {k.value for k in Kind}:
        raise ValidationError(
            _l(
                "Unknown kind “%(kind)s”: choose tool, experiment, synthesis or page.",
                kind=str(kind)[:40],
            ),
            code="kind_invalid",
        )
    return kind


def clean_tags(tags: Iterable[str] | str | None) -> list[str]:
    """Normalise tags: trimmed, their spelling kept, deduplicated and sorted by their key.

    Tags differing only by case or accents are one tag: the first spelling is kept.
    """
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = tags.split(",")
    cleaned: dict[str, str] = {}
    for raw in tags:
        if not isinstance(raw, str):
            raise ValidationError(_l("Tags must be text."), code="tags_invalid")
        tag = " ".join(raw.split())
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise ValidationError(
                _l(
                    "The tag “%(tag)s…” is too long (at most %(limit)s characters).",
                    tag=tag[:30],
                    limit=MAX_TAG_LENGTH,
                ),
                code="tags_invalid",
            )
        cleaned.setdefault(tag_key(tag), tag)
    if len(cleaned) > MAX_TAGS:
        raise ValidationError(
            _l("A page can have at most %(limit)s tags.", limit=MAX_TAGS), code="tags_invalid"
        )
    return [cleaned[key] for key in sorted(cleaned)]


def clean_body(body: str | None) -> str:
    body = (body or "").replace("\r\n", "\n")
    check_body_size(len(body.encode("utf-8")))
    return body


def check_body_size(size: int) -> None:
    """Refuse a text of ``size`` bytes (UTF-8) when it is over ``MAX_BODY_BYTES``."""
    limit = current_app.config["MAX_BODY_BYTES"]
    if size > limit:
        raise TooLarge(
            _l(
                "The text is too large (%(size)s bytes, at most %(limit)s).", size=size, limit=limit
            ),
            code="body_too_large",
        )


# --- permissions (the rules live in commons.permissions) ----------------------------


def require(allowed: bool) -> None:
    """Refuse the change with :class:`Forbidden` unless ``allowed``."""
    if not allowed:
        raise Forbidden(_l("You may not make this change."), code="forbidden")


# --- writing -----------------------------------------------------------------------


def set_tags(page: Page, names: list[str]) -> None:
    """Give ``page`` these tags, creating the ones the wiki does not have yet.

    A tag the wiki already has keeps its spelling, whatever the case or accents of ``names``.
    """
    keys = {tag_key(name): name for name in names}
    existing = {t.key: t for t in db.session.scalars(select(Tag).where(Tag.key.in_(keys)))}
    tags = []
    for key, name in keys.items():
        tag = existing.get(key)
        if tag is None:
            tag = Tag(name=name)
            db.session.add(tag)
        tags.append(tag)
    page.tags = tags


def set_links(page: Page, body: str) -> None:
    """Record the pages that ``body`` links to as ``page``'s outgoing links."""
    db.session.execute(Link.__table__.delete().where(Link.source_id == page.id))
    targets = [slug for slug in render.link_targets(body) if slug != page.slug]
    if targets:
        db.session.execute(
            Link.__table__.insert(), [{"source_id": page.id, "target_slug": t} for t in targets]
        )


def append_revision(
    page: Page,
    *,
    action: Action,
    body: str,
    author: Author,
    summary: str = "",
    minor: bool = False,
    coauthors: Sequence[str] = (),
    created_at: datetime | None = None,
    license_accepted: bool = True,
    fields: Mapping[str, Any] | None = None,
) -> Revision:
    """Append a revision holding the page's current metadata and ``body``; move the pointer.

    ``fields`` (the kind's sheet, already cleaned) default to the previous revision's
    visible ones (a hidden sheet is never carried into a visible revision).
    """
    parent = page.current_revision
    if fields is None:
        fields = visible_fields(parent) if parent else {}
    page.revision_count += 1
    revision = Revision(
        page=page,
        number=page.revision_count,
        parent_id=parent.id if parent else None,
        action=action.value,
        slug=page.slug,
        title=page.title,
        kind=page.kind,
        tags=page.tag_names,
        license=page.license,
        body=body,
        sha256=content_hash(body),
        size=len(body.encode("utf-8")),
        summary=summary,
        minor=minor,
        deleted=page.deleted,
        author=author.user,
        author_name=author.name,
        coauthors=list(coauthors),
        origin=author.origin,
        license_accepted=license_accepted,
        created_at=created_at or utcnow(),
        fields=dict(fields),
    )
    db.session.add(revision)
    db.session.flush()
    page.current_revision = revision
    page.updated_at = max(revision.created_at, page.updated_at or revision.created_at)
    if action != Action.DELETE:
        set_links(page, body)
    else:
        db.session.execute(Link.__table__.delete().where(Link.source_id == page.id))
    experiments.record_sheet(page, revision.fields)
    return revision


def new_page(
    slug: str,
    *,
    title: str,
    kind: str,
    license: str,
    tags: Sequence[str] = (),
    attribution_parties: Sequence[str] = (),
    source: dict[str, Any] | None = None,
    created_at: datetime | None = None,
) -> Page:
    """A new page at ``slug`` with these (checked) fields, ready for its first revision.

    The page takes the address over from a redirect that pointed elsewhere. Its history
    starts with :func:`append_revision`: one creation for the editor and the API, the
    bundle's revisions for the importer.
    """
    db.session.execute(Redirect.__table__.delete().where(Redirect.slug == slug))
    dates = {"created_at": created_at, "updated_at": created_at} if created_at else {}
    page = Page(
        slug=slug,
        title=title,
        kind=kind,
        license=license,
        attribution_parties=list(attribution_parties),
        source=source,
        revision_count=0,
        **dates,
    )
    db.session.add(page)
    set_tags(page, list(tags))
    db.session.flush()
    return page


def merge_bodies(base: str, mine: str, theirs: str) -> str | None:
    """Three-way merge of texts; None when the changes overlap."""
    if mine == theirs:
        return mine
    merger = merge3.Merge3(
        base.splitlines(keepends=True),
        theirs.splitlines(keepends=True),
        mine.splitlines(keepends=True),
    )
    if any(group[0] == "conflict" for group in merger.merge_groups()):
        return None
    return "".join(merger.merge_lines())


def _locked_page(condition: ColumnElement[bool]) -> Page | None:
    """The page matching ``condition``, read fresh and locked until commit.

    Writers of one page thus queue up instead of racing for the next revision number.
    """
    if db.engine.dialect.name == "sqlite":
        # SQLite has no row locks: taking its write lock first (with a write that changes
        # nothing) makes the read below see the last committed change.
        db.session.execute(update(Page).where(condition).values(revision_count=Page.revision_count))
    return db.session.scalar(
        select(Page).where(condition).with_for_update().execution_options(populate_existing=True)
    )


def lock(page: Page) -> Page:
    """``page`` read fresh and locked until commit (see :func:`_locked_page`)."""
    locked = _locked_page(Page.id == page.id)
    assert locked is not None
    return locked


#: A save that lost a race with another writer is tried again this many times in all.
SAVE_ATTEMPTS = 3


def _retry_when_raced(operation: Callable[..., SaveResult]) -> Callable[..., SaveResult]:
    """Run a save again when a concurrent writer took the revision number it wanted.

    The next attempt sees the other writer's revision, so the edit is merged with it or
    refused with a conflict, exactly as if the two saves had come one after the other.
    """

    @functools.wraps(operation)
    def attempt(*args: Any, **kwargs: Any) -> SaveResult:
        for _ in range(SAVE_ATTEMPTS - 1):
            try:
                with transaction.savepoint():
                    return operation(*args, **kwargs)
            except IntegrityError:
                continue
        return operation(*args, **kwargs)

    return attempt


@_retry_when_raced
def save(
    slug: str | None,
    *,
    title: str,
    body: str,
    author: User | None,
    kind: str | None = None,
    tags: Iterable[str] | str | None = None,
    license: str | None = None,
    summary: str = "",
    base_revision: int | None = None,
    minor: bool = False,
    coauthors: Iterable[str] | str | None = None,
    source: dict[str, Any] | None = None,
    attribution_parties: Iterable[str] | str | None = None,
    license_accepted: bool = True,
    expect_new: bool = False,
    fields: Mapping[str, Any] | None = None,
    replicates: experiments.Original | None = None,
) -> SaveResult:
    """Create or edit a page.

    ``base_revision`` is the revision number the editor started from. When the
    page has moved on since, the edit is merged with the changes made meanwhile
    if they do not overlap; otherwise :class:`EditConflict` is raised with
    ``details={"current_revision": n, "current_body": text}``. Saving text and
    metadata identical to the current revision changes nothing. Texts are merged and
    shown as :func:`visible_text` gives them: hidden text takes no part. A deleted page
    is restored by saving it, which only editors may do. ``source`` and
    ``attribution_parties`` left at ``None`` keep the page's; an empty value clears them.
    ``expect_new`` says the author started from no page (the editor of a missing one):
    when someone created it meanwhile, theirs is kept and :class:`EditConflict` raised.
    ``fields`` is the kind's sheet (see :mod:`commons.sheets`); ``None`` keeps the current
    one, less the fields a new kind does not have. ``replicates`` records the experiment
    the page replicates (``None`` keeps what the page had).
    """
    title = clean_title(title)
    body = clean_body(body)
    kind = clean_kind(kind)
    tag_names = clean_tags(tags)
    summary = clean_summary(summary)
    coauthor_names = clean_names(coauthors)
    parties = clean_names(attribution_parties) if attribution_parties is not None else None
    keep_source = source is None
    source = clean_source(source)
    if not license_accepted:
        raise ValidationError(
            _l("Please accept to release your contribution under the page's licence."),
            code="license_not_accepted",
        )
    new_fields = sheets.clean_fields(kind, fields) if fields is not None else None
    slug = clean_slug(slug) if slug else slugify(title)
    page = _locked_page(Page.slug == slug)
    actor = Author.of(author)

    if page is None:
        require(permissions.can_edit(author, None))
        page_license = licenses.normalize(license)
        licenses.check_source(source, page_license)
        try:
            with transaction.savepoint():
                page = new_page(
                    slug,
                    title=title,
                    kind=kind,
                    license=page_license,
                    tags=tag_names,
                    attribution_parties=parties or [],
                    source=source,
                )
                experiments.set_original(page, replicates)
                revision = append_revision(
                    page,
                    action=Action.CREATE,
                    body=body,
                    author=actor,
                    summary=summary,
                    minor=minor,
                    coauthors=coauthor_names,
                    fields=new_fields or {},
                )
        except IntegrityError:
            theirs = find(slug, include_deleted=True)
            if theirs is None or theirs.current_revision is None:
                raise
            raise _created_meanwhile(theirs) from None
        if author is not None and watching.settings(author).watch_created:
            # In the save's own transaction: a job writing it later would race the
            # author's next save.
            watching.watch(author, WatchTarget.PAGE, page)
        transaction.announce([revision])
        return SaveResult(page, revision, created=True)

    require(permissions.can_edit(author, page))
    if page.deleted and not permissions.can_manage_pages(author):
        raise Forbidden(_l("This page is deleted: only editors can restore it."))
    if expect_new:
        raise _created_meanwhile(page)
    current = page.current_revision
    assert current is not None
    theirs = visible_text(current)
    merged = False
    if base_revision is not None and base_revision != current.number:
        if not 1 <= base_revision < current.number:
            raise ValidationError(
                _l("Revision %(number)s of this page does not exist.", number=base_revision),
                code="base_revision_invalid",
            )
        base = get_revision(page, base_revision)
        result = merge_bodies(visible_text(base), body, theirs)
        if result is None:
            raise EditConflict(
                _l(
                    "Someone else changed this page since you started editing, in the same "
                    "place. Reconcile both versions and save again."
                ),
                details={"current_revision": current.number, "current_body": theirs},
            )
        body, merged = result, True
        clean_body(body)

    new_license = licenses.normalize(license) if license else page.license
    licenses.check_change(page.license, new_license)
    licenses.check_source(page.source if keep_source else source, new_license)
    if new_fields is None:
        new_fields = sheets.keep_fields(kind, visible_fields(current))
    changed_replicates = replicates is not None and (
        replicates.url != page.replicates_url
        or (replicates.page.id if replicates.page else None) != page.replicates_id
    )
    changed_meta = (
        title != page.title
        or kind != page.kind
        or list(map(tag_key, tag_names)) != list(map(tag_key, page.tag_names))
        or new_license != page.license
        or (parties is not None and parties != page.attribution_parties)
        or (not keep_source and source != page.source)
        or new_fields != current.fields
        or changed_replicates
    )
    # Over a hidden revision, every save is a change: it puts visible text in its place.
    if not changed_meta and body == current.body and not (page.deleted or current.hidden):
        return SaveResult(page, None)
    page.title = title
    page.kind = kind
    page.license = new_license
    if not keep_source:
        page.source = source
    if parties is not None:
        page.attribution_parties = parties
    if replicates is not None:
        experiments.set_original(page, replicates)
    set_tags(page, tag_names)
    action = Action.RESTORE if page.deleted else Action.EDIT
    page.deleted = False
    revision = append_revision(
        page,
        action=action,
        body=body,
        author=actor,
        summary=summary,
        minor=minor,
        coauthors=coauthor_names,
        fields=new_fields,
    )
    transaction.announce([revision])
    return SaveResult(page, revision, merged=merged)


def _created_meanwhile(theirs: Page) -> EditConflict:
    """The conflict of a creation that finds the page made by someone else: theirs is kept."""
    current = theirs.current_revision
    assert current is not None
    return EditConflict(
        _l("Someone created this page while you were writing it. Compare and save again."),
        details={"current_revision": current.number, "current_body": visible_text(current)},
    )
