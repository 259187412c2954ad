"""The JSON shape of each object the wiki gives out, written once.

The API, the credits and the bundles' manifest build their JSON from these functions, so
that a page, a revision, a contributor, a licence or a file reads the same wherever it
appears. Two contracts fix the names of the fields: the JSON API (``docs/api.md``) and the
bundle format (``docs/bundle-format.md``); where they name a field alike, one function
writes it for both, and the ``bundle_*`` functions add what only the manifest carries, in
the manifest's order. What a reader may see of a hidden revision is decided by
:mod:`commons.permissions`, from the ``viewer`` passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import url_for

from . import credits as credits_
from . import experiments, licenses, media, permissions, rendered
from .extensions import db
from .models import ApiToken, Media, MediaVersion, Page, Revision, User

if TYPE_CHECKING:
    from .search import SearchResults

#: How a date is written: the API's ISO-8601 by default, the bundle's :func:`utc_timestamp`.
DateWriter = Callable[[datetime], str]


def utc_timestamp(value: datetime) -> str:
    """ISO-8601 in UTC with a ``Z``, keeping microseconds so dates round-trip exactly (the
    bundle's dates)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def license_terms(spdx: str) -> dict[str, str]:
    """A licence as ``{"spdx", "name", "url"}``."""
    license_ = licenses.get(spdx)
    return {"spdx": license_.spdx, "name": license_.name, "url": license_.url}


def contributor(
    person: credits_.Contributor, *, date: DateWriter = datetime.isoformat
) -> dict[str, Any]:
    """Someone credited on a page; ``date`` writes their first and last contribution."""
    return {
        "name": person.name,
        "edits": person.edits,
        "first": date(person.first),
        "last": date(person.last),
        "origin": person.origin,
        "role": person.role,
        "account": person.user_id is not None,
    }


def media_credit(item: Media) -> dict[str, Any]:
    """How a file is credited where it is shown: name, title, authors, licence, source."""
    return {
        "name": item.name,
        "title": item.title,
        "authors": media.creators(item),
        "license": license_terms(item.license),
        "source": item.source,
    }


def media_credits(page: Page) -> list[dict[str, Any]]:
    """Credits of the files the page's current visible text shows (see
    :func:`commons.credits.shown_media`)."""
    return [media_credit(item) for item in credits_.shown_media(page)]


def credits(page: Page) -> dict[str, Any]:
    """Machine-readable credits of a page: its licence, source, contributors and files."""
    return {
        "media": media_credits(page),
        "slug": page.slug,
        "title": page.title,
        "license": license_terms(page.license),
        "source": page.source,
        "attribution_parties": list(page.attribution_parties or []),
        "contributors": [contributor(person) for person in credits_.contributors(page)],
    }


def _attributes(item: Any, *names: str) -> dict[str, Any]:
    """The fields named as ``item``'s attributes, with their values, in that order."""
    return {name: getattr(item, name) for name in names}


def _author_kind(author_id: int | None) -> str:
    """Whether a revision's or a file version's author has an account here."""
    return "account" if author_id is not None else "external"


def revision(revision: Revision, viewer: User | None) -> dict[str, Any]:
    """A revision's metadata; a hidden one's size and sha256 only for those who may read it:
    a short text (a phone number) is found again from its hash in a moment."""
    data: dict[str, Any] = {
        "revision": revision.number,
        "parent": revision.parent_id and (revision.number - 1 if revision.number > 1 else None),
        "action": revision.action,
        "title": revision.title,
        "slug": revision.slug,
        "author": revision.author_name,
        "coauthors": revision.coauthors,
        "origin": revision.origin,
        "imported_by": revision.imported_by,
        "summary": revision.summary,
        "minor": revision.minor,
        "size": revision.size,
        "sha256": revision.sha256,
        "license": revision.license,
        "created_at": revision.created_at.isoformat(),
        "hidden": revision.hidden,
    }
    if not permissions.can_read(viewer, revision):
        del data["size"], data["sha256"]
    return data


def bundle_revision(row: Any, parent: int | None) -> dict[str, Any]:
    """A revision in a bundle's manifest (``row``: a :class:`Revision` or a row of its
    columns; ``parent``: its parent's number), without the path of its text.

    A hidden revision keeps its place, author and date, but neither its hash nor its size,
    which could betray the text.
    """
    entry: dict[str, Any] = {
        "number": row.number,
        "parent": parent,
        "action": row.action,
        "title": row.title,
        "kind": row.kind,
        "tags": list(row.tags or []),
        "license": row.license,
        "author": row.author_name,
        "author_kind": _author_kind(row.author_id),
        "origin": row.origin,
        "coauthors": list(row.coauthors or []),
        "date": utc_timestamp(row.created_at),
        "summary": row.summary,
        "minor": row.minor,
        "hidden": row.hidden,
    }
    if not row.hidden and row.fields:
        entry["fields"] = dict(row.fields)
    if not row.hidden:
        entry["sha256"] = row.sha256
        entry["size"] = row.size
    return entry


def _page_identity(page: Page) -> dict[str, Any]:
    """What a page is, as lists of pages and the manifest start it."""
    return {
        "slug": page.slug,
        "title": page.title,
        "kind": page.kind,
        "tags": page.tag_names,
        "license": page.license,
    }


def page(page: Page, viewer: User | None, revision: Revision | None = None) -> dict[str, Any]:
    """A page at ``revision`` (the current one by default), with its text and HTML unless
    ``viewer`` may not read them."""
    revision = revision or page.current_revision
    assert revision is not None
    readable = permissions.can_read(viewer, revision)
    return {
        "slug": page.slug,
        "title": revision.title,
        "kind": revision.kind,
        "tags": list(revision.tags),
        "license": revision.license,
        "body": revision.body if readable else None,
        "revision": revision.number,
        "html": rendered.revision_view(revision).html if readable else None,
        "source": page.source,
        "attribution_parties": page.attribution_parties,
        "updated_at": page.updated_at.isoformat(),
        "url": url_for("wiki.view", slug=page.slug, _external=True),
        "fields": dict(revision.fields) if readable else None,
        "replicates": original(page),
        "replications": [replication(each) for each in experiments.replications(page)],
    }


def original(
    page: Page, url_of: Callable[[str], str | None] | None = None
) -> dict[str, Any] | None:
    """The experiment ``page`` replicates: ``{slug, url, title}`` (slug None when elsewhere).

    ``url_of(slug)`` gives a local original's address (default: this request's).
    """
    if page.replicates_id is None and page.replicates_url is None:
        return None
    local = db.session.get(Page, page.replicates_id) if page.replicates_id else None
    if local is None:
        return {"slug": None, "url": page.replicates_url, "title": None}
    return {
        "slug": local.slug,
        "url": page.replicates_url
        or (url_of or (lambda slug: url_for("wiki.view", slug=slug, _external=True)))(local.slug),
        "title": local.title,
    }


def replication(page: Page) -> dict[str, Any]:
    """A page that replicates another: where, and how far it has come."""
    fields = page.current_revision.fields if page.current_revision else {}
    return {
        "slug": page.slug,
        "title": page.title,
        "territory": fields.get("territory") or [],
        "status": fields.get("status"),
    }


def page_summary(page: Page) -> dict[str, Any]:
    """A page in a list: what it is and how far it has come, without its text."""
    return {
        **_page_identity(page),
        "revision": page.revision_count,
        "updated_at": page.updated_at.isoformat(),
    }


def bundle_page(
    page: Page,
    *,
    url: str | None,
    files: dict[str, str | None],
    contributors: list[credits_.Contributor],
    media_names: list[str],
    revisions: list[dict[str, Any]],
    replicates: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A page in a bundle's manifest: its credits, its ``files`` in the zip, the names of
    the media its text shows and its ``revisions`` (see :func:`bundle_revision`)."""
    current = page.current_revision
    assert current is not None
    return {
        **_page_identity(page),
        "source": page.source,
        "attribution_parties": list(page.attribution_parties or []),
        "url": url,
        **_lifetime(page),
        "revision": current.number,
        "files": files,
        "contributors": [contributor(person, date=utc_timestamp) for person in contributors],
        "media": media_names,
        "revisions": revisions,
        **({"replicates": replicates} if replicates else {}),
    }


def _lifetime(item: Page | Media) -> dict[str, str]:
    """When a page or a file was created and last changed, as a bundle writes dates."""
    return {
        "created_at": utc_timestamp(item.created_at),
        "updated_at": utc_timestamp(item.updated_at),
    }


def _file_content(version: MediaVersion) -> dict[str, Any]:
    """What a file version holds: its number, hash, size, type and picture size."""
    return _attributes(version, "number", "sha256", "size", "content_type", "width", "height")


def media_version(version: MediaVersion) -> dict[str, Any]:
    """One version of a file: its content and who uploaded it when."""
    return {
        **_file_content(version),
        "uploaded_by": version.author_name,
        "summary": version.summary,
        "created_at": version.created_at.isoformat(),
    }


def bundle_media_version(version: MediaVersion, path: str) -> dict[str, Any]:
    """One version of a file in a bundle's manifest, with its credits and its ``path``."""
    return {
        **_file_content(version),
        **_attributes(version, "license", "summary"),
        "author": version.author_name,
        "author_kind": _author_kind(version.author_id),
        "origin": version.origin,
        "creators": list(version.creators or []),
        "date": utc_timestamp(version.created_at),
        "path": path,
    }


def _media_identity(item: Media) -> dict[str, Any]:
    """What a file is: its name, kind, title and description."""
    return _attributes(item, "name", "kind", "title", "description")


def media_item(item: Media) -> dict[str, Any]:
    """A file with its credits, its addresses and all its versions."""
    credit = media_credit(item)
    return {
        **_media_identity(item),
        "authors": credit["authors"],
        "license": credit["license"],
        "source": item.source,
        "url": url_for("media.show", name=item.name, _external=True),
        "file_url": url_for("media.file", name=item.name, _external=True),
        "versions": [media_version(version) for version in media.versions(item)],
    }


def bundle_media(
    item: Media, *, url: str | None, authors: list[str], versions: list[dict[str, Any]]
) -> dict[str, Any]:
    """A file in a bundle's manifest: its licence by SPDX id, its credits and the
    ``versions`` the bundle carries (see :func:`bundle_media_version`)."""
    assert item.current_version is not None
    return {
        **_media_identity(item),
        "license": item.license,
        "source": item.source,
        "url": url,
        **_lifetime(item),
        "version": item.current_version.number,
        "authors": authors,
        "versions": versions,
    }


def search_results(results: SearchResults) -> dict[str, Any]:
    """A page of search results: the pages and files found, the facets, "did you mean"."""
    return {
        "results": [
            {
                "slug": hit.slug,
                "title": hit.title,
                "snippet": hit.snippet,
                "kind": hit.kind,
                "tags": hit.tags,
            }
            for hit in results.hits
        ],
        "total": results.total,
        "page": results.page,
        "suggestion": results.suggestion,
        "message": str(results.message) if results.message else None,
        "facets": {
            "kind": {facet.value: facet.count for facet in results.kinds},
            "tag": {facet.value: facet.count for facet in results.tags},
            **{
                name: {facet.value: facet.count for facet in found}
                for name, found in results.facets.items()
            },
        },
        "media": [
            {
                "name": found.name,
                "title": found.title,
                "kind": found.kind,
                "snippet": found.snippet,
                "url": url_for("media.show", name=found.name, _external=True),
            }
            for found in results.media
        ],
    }


def account(user: User, *, max_body_bytes: int) -> dict[str, Any]:
    """The caller's account: who they are, what they may do, how long a text may be."""
    return {"name": user.name, "role": user.role, "max_body_bytes": max_body_bytes}


def token(token: ApiToken) -> dict[str, Any]:
    """An API token as its owner sees it (never its secret)."""
    return {
        "id": token.id,
        "name": token.name,
        "scope": token.scope,
        "created_at": token.created_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
    }
