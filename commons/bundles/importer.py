"""Import: a checked bundle's plan and its application.

The plan decides, before anything is written, what becomes of each page and media whose
address or name exists here (skip, rename or merge); a refused merge stops everything.
Then everything is written in one transaction, media first, that is rolled back as a
whole when anything fails: the importer is the boundary that commits, once per bundle,
through :func:`commons.transaction.commit`. Pages are created by
:func:`commons.pages.new_page` and their history written by
:func:`commons.pages.append_revision`, as the editor's saves do. Also: the upload's
seekable copy.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import (
    attribution,
    experiments,
    licenses,
    media,
    page_queries,
    pages,
    permissions,
    transaction,
)
from ..errors import CommonsError, Forbidden, TooLarge, ValidationError
from ..extensions import db
from ..models import Action, Media, MediaVersion, Page, Redirect, Revision, User, utcnow
from ..slugs import MAX_SLUG_LENGTH
from . import import_log
from .import_report import ImportedMedia, ImportedPage, ImportReport
from .layout import CHUNK, SPOOL_IN_MEMORY, Progress, media_url, page_url
from .manifest import Bundle, BundlePage, BundleRevision, open_bundle
from .manifest_fields import located
from .media_manifest import BundleMedia, BundleMediaVersion

CONFLICT_CHOICES = ("skip", "rename", "merge")


#: Pages an import writes before letting their objects go.
WRITE_BATCH = 100


def conflict_choice(value: str | None) -> str:
    """Check what to do with pages whose address exists: skip (default), rename or merge."""
    choice = (value or "skip").strip().lower()
    if choice not in CONFLICT_CHOICES:
        raise ValidationError(
            _l(
                "Unknown choice “%(choice)s” for existing pages: use skip, rename or merge.",
                choice=choice[:40],
            ),
            code="on_conflict_invalid",
        )
    return choice


def spool(stream: IO[bytes], *, limit: int | None = None) -> IO[bytes]:
    """Copy an upload to a seekable temporary file, refusing it past the bundle size limit."""
    limit = limit or current_app.config["MAX_BUNDLE_BYTES"]
    copy: IO[bytes] = SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    size = 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > limit:
            copy.close()
            raise TooLarge(
                _l("The bundle is too large (at most %(limit)s bytes).", limit=limit),
                code="bundle_too_large",
            )
        copy.write(chunk)
    copy.seek(0)
    return copy


@dataclass
class _Step:
    """What the import will do with one page of the bundle."""

    page: BundlePage
    action: str  # "create", "merge" or "skip"
    slug: str
    existing: Page | None = None
    license: str | None = None


@dataclass
class _MediaStep:
    """What the import will do with one media of the bundle."""

    item: BundleMedia
    action: str  # "create", "merge" or "skip"
    name: str
    existing_id: int | None = None
    reason: str | None = None


def import_bundle(
    stream: IO[bytes],
    *,
    on_conflict: str | None = "skip",
    importer: User | None = None,
    progress: Progress | None = None,
    preview: bool = False,
) -> ImportReport:
    """Check a whole bundle, then import its pages in one transaction.

    With ``preview``, everything is done, then undone: the report says what an import
    would do, and nothing is kept.

    ``importer`` is the acting user (an editor or admin); None is the command line, which
    has the server's rights. Imported revisions keep their authors (as external authors,
    with the page's original address as origin), dates and summaries; the importer is
    not credited. Pages whose address exists are skipped, imported under a new address
    (``rename``) or get the bundle's current text as a new revision (``merge``).

    The media the pages show come first, in the same transaction: kept with their
    versions, authors (external, with the media's original address as origin) and dates.
    A media whose name exists is skipped when its current file is the same; otherwise
    ``on_conflict`` applies: skipped, imported under a new name (``name-2.png``; the pages'
    references are not rewritten), or its current file added as a new version when the
    licences allow (``merge``). Files written for an import that does not commit are
    removed again.

    Raises ValidationError or TooLarge, and changes nothing, when anything is wrong.
    """
    choice = conflict_choice(on_conflict)
    if importer is not None and not permissions.can_import(importer):
        raise Forbidden(_l("Only editors and administrators can import bundles."))
    with open_bundle(stream, progress=_half(progress, 0)) as bundle:
        media_steps = _plan_media(bundle, choice)
        steps = _plan(bundle, choice)
        report = ImportReport(source=bundle.source, on_conflict=choice, preview=preview)
        files = media.NewFiles()
        transaction.on_rollback(files.discard)
        try:
            revisions = _apply(
                bundle,
                media_steps,
                steps,
                report,
                files,
                _half(progress, 1),
                imported_by=importer.name if importer else None,
            )
            if preview:
                transaction.rollback()
                files.discard()
                return report
            import_log.record(report, importer)
            transaction.announce(revisions)
            transaction.commit()
        except IntegrityError as error:
            transaction.rollback()
            raise CommonsError(
                _l(
                    "Someone created one of these pages or files during the import. Nothing "
                    "was imported: please try again."
                ),
                code="conflict",
                status=409,
            ) from error
        except BaseException:
            transaction.rollback()
            raise
    current_app.logger.info(
        "bundle from %s imported by %s: %s created, %s merged, %s skipped; "
        "media: %s created, %s merged, %s skipped",
        bundle.source or "an unknown commons",
        importer.name if importer else "the command line",
        len(report.created),
        len(report.merged),
        len(report.skipped),
        len(report.media_created),
        len(report.media_merged),
        len(report.media_skipped),
    )
    return report


def _half(progress: Progress | None, part: int) -> Progress | None:
    """Checking is the first half of the progress, writing the second."""
    if progress is None:
        return None
    return lambda done, total: progress(part * total + done, 2 * total)


def _plan(bundle: Bundle, choice: str) -> list[_Step]:
    """Decide each page's fate before writing, so a refused merge stops everything."""
    slugs = [page.slug for page in bundle.pages]
    existing: dict[str, Page] = {}
    for start in range(0, len(slugs), 500):
        found = db.session.scalars(select(Page).where(Page.slug.in_(slugs[start : start + 500])))
        existing.update({page.slug: page for page in found})
    taken = set(slugs)
    steps = []
    for page in bundle.pages:
        local = existing.get(page.slug)
        if local is None:
            steps.append(_Step(page, "create", page.slug))
        elif choice == "skip":
            steps.append(_Step(page, "skip", page.slug))
        elif choice == "rename":
            slug = _free_slug(page.slug, taken)
            taken.add(slug)
            steps.append(_Step(page, "create", slug))
        else:
            with located(_l("page “%(slug)s”", slug=page.slug)):
                license_ = _merged_license(local.license, page.license)
            steps.append(_Step(page, "merge", page.slug, local, license_))
    return steps


def _plan_media(bundle: Bundle, choice: str) -> list[_MediaStep]:
    """Decide each media's fate before writing, from the names and files here."""
    names = [item.name for item in bundle.media]
    existing: dict[str, tuple[int, str, str | None]] = {}
    for start in range(0, len(names), 500):
        rows = db.session.execute(
            select(Media.name, Media.id, Media.license, MediaVersion.sha256)
            .outerjoin(MediaVersion, Media.current_version_id == MediaVersion.id)
            .where(Media.name.in_(names[start : start + 500]))
        )
        existing.update({name: (media_id, spdx, sha256) for name, media_id, spdx, sha256 in rows})
    taken = set(names)
    steps = []
    for item in bundle.media:
        local = existing.get(item.name)
        if local is None:
            steps.append(_MediaStep(item, "create", item.name))
            continue
        media_id, local_license, local_sha256 = local
        if local_sha256 == item.current.sha256:
            steps.append(_MediaStep(item, "skip", item.name, reason="identical"))
        elif choice == "skip":
            steps.append(_MediaStep(item, "skip", item.name, reason="exists"))
        elif choice == "rename":
            name = _free_media_name(item.name, taken)
            taken.add(name)
            steps.append(_MediaStep(item, "create", name))
        elif not licenses.can_change(local_license, item.current.license):
            steps.append(_MediaStep(item, "skip", item.name, reason="license"))
        else:
            steps.append(_MediaStep(item, "merge", item.name, existing_id=media_id))
    return steps


def _free_media_name(name: str, taken: set[str]) -> str:
    """``name-2.png``, ``name-3.png``…: the first name used by no media here or in the bundle."""
    stem, extension = name.rsplit(".", 1)
    candidates = _numbered(stem, media.MAX_NAME_LENGTH, f".{extension}")
    return next(c for c in candidates if c not in taken and media.find(c) is None)


def _numbered(stem: str, limit: int, extension: str = "") -> Iterator[str]:
    """``stem-2``, ``stem-3``… followed by ``extension``; the stem cut to fit ``limit``."""
    for number in itertools.count(2):
        suffix = f"-{number}"
        yield stem[: limit - len(suffix)].rstrip("-") + suffix + extension


def _free_slug(slug: str, taken: set[str]) -> str:
    """``slug-2``, ``slug-3``…: the first address used by no page, redirect or bundle page."""
    candidates = _numbered(slug, MAX_SLUG_LENGTH)
    return next(c for c in candidates if c not in taken and not _slug_used(c))


def _slug_used(slug: str) -> bool:
    page = db.session.scalar(select(func.count(Page.id)).where(Page.slug == slug))
    redirect = db.session.scalar(select(func.count()).where(Redirect.slug == slug))
    return bool(page or redirect)


def _merged_license(local: str, incoming: str) -> str:
    """The licence of a merged page: the more protective one, which both contents may take."""
    if licenses.can_change(local, incoming):
        return incoming
    if licenses.can_change(incoming, local):
        return local
    raise ValidationError(
        _l(
            "its content under %(incoming)s cannot be merged into the page here, under %(local)s.",
            incoming=licenses.get(incoming).name,
            local=licenses.get(local).name,
        ),
        code="license_refused",
    )


def _apply(
    bundle: Bundle,
    media_steps: list[_MediaStep],
    steps: list[_Step],
    report: ImportReport,
    files: media.NewFiles,
    progress: Progress | None,
    *,
    imported_by: str | None,
) -> list[Revision]:
    """Write every step in the session, media first; returns the revisions of the last batch.

    Every revision written records ``imported_by``, the importing account's name. Every
    ``WRITE_BATCH`` media or pages the written objects leave the session (see
    :func:`_forget`), so memory stays flat however large the bundle.
    """
    total = len(media_steps) + len(steps)
    _apply_media(bundle, media_steps, report, files, progress, total)
    revisions: list[Revision] = []
    for done, step in enumerate(steps, start=1):
        if done % WRITE_BATCH == 0:
            revisions = _release(revisions)
        page = step.page
        if step.action == "skip":
            report.skipped.append(ImportedPage(page.slug, page.title, reason="exists"))
        elif step.action == "create":
            made = _create(bundle, page, step.slug, imported_by)
            revisions.extend(made)
            report.created.append(
                ImportedPage(
                    step.slug,
                    page.title,
                    revisions=len(made),
                    original_slug=page.slug if step.slug != page.slug else None,
                )
            )
        else:
            revisions.extend(_merge_step(bundle, step, report, imported_by))
        if progress:
            progress(len(media_steps) + done, total)
    _link_originals(steps)
    return revisions


def _merge_step(
    bundle: Bundle, step: _Step, report: ImportReport, imported_by: str | None
) -> list[Revision]:
    """Merge a page of the bundle into the page here, or say why not; the revision made."""
    incoming = step.page
    assert step.existing is not None and step.license is not None
    if incoming.current.hidden:
        # Its text was withheld by the other commons: there is nothing to merge.
        report.skipped.append(ImportedPage(incoming.slug, incoming.title, reason="hidden"))
        return []
    page = pages.lock(step.existing)  # writers of one page queue up, as in saves
    if page.deleted:
        # Deleted here on purpose: a merge does not bring it back (restore it first).
        report.skipped.append(ImportedPage(incoming.slug, incoming.title, reason="deleted"))
        return []
    merged = _merge(bundle, incoming, page, step.license, imported_by)
    if merged is None:
        report.skipped.append(ImportedPage(incoming.slug, incoming.title, reason="identical"))
        return []
    report.merged.append(ImportedPage(incoming.slug, incoming.title, revisions=1))
    return [merged]


def _forget(written: list[Any]) -> None:
    """Flush the objects ``written``, then let them go: the transaction holds the rows."""
    db.session.flush()
    for item in written:
        if item in db.session:
            db.session.expunge(item)


def _release(revisions: list[Revision]) -> list[Revision]:
    """Flush ``revisions`` and their pages, then let them go; returns the last one.

    One revision is kept because listeners (the search index) only need to hear that
    something changed: they catch up on every new revision from the log.
    """
    _forget([written for revision in revisions for written in (revision.page, revision)])
    return revisions[-1:]


def _apply_media(
    bundle: Bundle,
    steps: list[_MediaStep],
    report: ImportReport,
    files: media.NewFiles,
    progress: Progress | None,
    total: int,
) -> None:
    """Write the media steps, a file at a time, letting rows go every ``WRITE_BATCH``."""
    written: list[Any] = []
    for done, step in enumerate(steps, start=1):
        if done % WRITE_BATCH == 0:
            _forget(written)
            written = []
        item = step.item
        if step.action == "skip":
            report.media_skipped.append(ImportedMedia(item.name, item.title, reason=step.reason))
        elif step.action == "create":
            written += _create_media(bundle, item, step.name, files)
            report.media_created.append(
                ImportedMedia(
                    step.name,
                    item.title,
                    versions=len(item.versions),
                    original_name=item.name if step.name != item.name else None,
                )
            )
        else:
            assert step.existing_id is not None
            written += _merge_media(bundle, item, step.existing_id, files)
            report.media_merged.append(ImportedMedia(item.name, item.title, versions=1))
        if progress:
            progress(done, total)
    _forget(written)


def _media_origin(bundle: Bundle, item: BundleMedia, version: BundleMediaVersion) -> str | None:
    """Where a version comes from: its own origin if it was imported before, else the media."""
    return version.origin or item.url or media_url(bundle.source, item.name)


def _add_media_version(
    bundle: Bundle,
    item: BundleMedia,
    target: Media,
    version: BundleMediaVersion,
    files: media.NewFiles,
    *,
    summary: str | None = None,
    created_at: datetime | None = None,
) -> MediaVersion:
    """Record ``version`` of the bundle's ``item`` on ``target``, by its external author."""
    return media.add_version(
        target,
        bundle.file(version),
        version.file_type,
        version.width,
        version.height,
        files=files,
        license=version.license,
        summary=summary or version.summary,
        author=attribution.Author(None, version.author, _media_origin(bundle, item, version)),
        creators=version.creators,
        created_at=created_at or version.created_at,
    )


def _create_media(bundle: Bundle, item: BundleMedia, name: str, files: media.NewFiles) -> list[Any]:
    """A new media called ``name`` with the bundle's versions (renumbered from 1)."""
    made = media.new_media(
        name,
        item.kind,
        title=item.title,
        description=item.description,
        license=item.license,
        source=item.source,
        created_at=item.versions[0].created_at,
    )
    return [made] + [
        _add_media_version(bundle, item, made, version, files) for version in item.versions
    ]


def _merge_media(
    bundle: Bundle, item: BundleMedia, media_id: int, files: media.NewFiles
) -> list[Any]:
    """The bundle's current file as a new version of the media here."""
    local = db.session.get(Media, media_id)
    assert local is not None
    local.source = local.source or item.source
    version = _add_media_version(
        bundle,
        item,
        local,
        item.current,
        files,
        summary=item.current.summary or gettext("Merged from a bundle"),
        created_at=utcnow(),
    )
    return [local, version]


def _origin(bundle: Bundle, page: BundlePage, revision: BundleRevision) -> str | None:
    """Where a revision comes from: its own origin if it was imported before, else the page."""
    if revision.origin:
        return revision.origin
    if page.url:
        return page.url
    return page_url(bundle.source, page.slug)


def _link_originals(steps: list[_Step]) -> None:
    """Record the experiment each new page replicates, once every page is written: the
    page imported here from that address when there is one (from this bundle or an
    earlier import), else the address alone."""
    for step in steps:
        url = step.page.replicates
        if step.action != "create" or not url:
            continue
        page = page_queries.find(step.slug, include_deleted=True)
        assert page is not None
        original = experiments.resolve_original(url, base_url=None)
        if original.page is not None and original.page.id == page.id:
            original = experiments.Original(url=url)
        experiments.set_original(page, original)


def _create(
    bundle: Bundle, incoming: BundlePage, slug: str, imported_by: str | None
) -> list[Revision]:
    """A new page with the bundle's revisions, or one revision when its history is not there."""
    first = incoming.revisions[0] if incoming.full_history else incoming.current
    page = pages.new_page(
        slug,
        title=first.title,
        kind=first.kind,
        license=first.license,
        attribution_parties=incoming.attribution_parties,
        source=incoming.source,
        created_at=first.created_at,
    )
    if not incoming.full_history:
        current = incoming.current
        return [
            _append(
                page,
                current,
                action=Action.IMPORT,
                body="" if current.hidden else bundle.body(current),
                origin=_origin(bundle, incoming, current),
                coauthors=incoming.other_contributors(),
                imported_by=imported_by,
            )
        ]
    made = []
    for revision in incoming.revisions:
        page.deleted = revision.action == Action.DELETE.value
        made.append(
            _append(
                page,
                revision,
                action=Action(revision.action),
                body="" if revision.hidden else bundle.body(revision),
                origin=_origin(bundle, incoming, revision),
                coauthors=revision.coauthors,
                imported_by=imported_by,
            )
        )
    return made


def _append(
    page: Page,
    revision: BundleRevision,
    *,
    action: Action,
    body: str,
    origin: str | None,
    coauthors: list[str],
    imported_by: str | None,
    created_at: datetime | None = None,
) -> Revision:
    """Record ``revision`` on ``page`` with its own fields, author, date and summary.

    Hidden revisions are kept hidden: their author cannot be checked against a text, so
    each revision also records who imported it (``imported_by``).
    """
    page.title = revision.title
    page.kind = revision.kind
    page.license = revision.license
    pages.set_tags(page, revision.tags)
    made = pages.append_revision(  # imports write history exactly as saves do
        page,
        action=action,
        body=body,
        author=attribution.Author(None, revision.author, origin),
        summary=revision.summary,
        minor=revision.minor,
        coauthors=coauthors,
        created_at=created_at or revision.created_at,
        fields=revision.fields,
    )
    made.hidden = revision.hidden
    made.imported_by = imported_by
    return made


def _merge(
    bundle: Bundle, incoming: BundlePage, page: Page, license_: str, imported_by: str | None
) -> Revision | None:
    """The bundle's current text and fields as a new revision of ``page``, which is locked
    (writers of one page queue up, as in saves) and not deleted; None if identical."""
    current = incoming.current
    body = bundle.body(current)
    assert page.current_revision is not None
    unchanged = (
        body == page.current_revision.body
        and (current.title, current.kind, current.tags) == (page.title, page.kind, page.tag_names)
        and license_ == page.license
        and current.fields == page.current_revision.fields
    )
    if unchanged:
        return None
    page.source = page.source or incoming.source
    page.attribution_parties = list(
        dict.fromkeys([*(page.attribution_parties or []), *incoming.attribution_parties])
    )
    merged = replace(
        current, license=license_, summary=current.summary or gettext("Merged from a bundle")
    )
    return _append(
        page,
        merged,
        action=Action.MERGE,
        body=body,
        origin=_origin(bundle, incoming, current),
        coauthors=incoming.other_contributors(),
        imported_by=imported_by,
        created_at=utcnow(),
    )
