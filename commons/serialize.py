"""The JSON shape of each object the wiki gives out, written once.

The API and the credits build their JSON from these functions, so that a page, a
revision, a contributor, a licence or a file reads the same wherever it appears. What a
reader may see of a hidden revision is decided by :mod:`commons.permissions`, from the
``viewer`` passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import url_for

from . import experiments, licenses, media, permissions, rendered
from .extensions import db
from .models import ApiToken, Media, MediaVersion, Page, Revision, User

if TYPE_CHECKING:
    from .credits import Contributor


def license_terms(spdx: str) -> dict[str, str]:
    """A licence as ``{"spdx", "name", "url"}``."""
    license_ = licenses.get(spdx)
    return {"spdx": license_.spdx, "name": license_.name, "url": license_.url}


def contributor(
    person: Contributor, *, date: Callable[[datetime], str] = datetime.isoformat
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


def original(page: Page) -> dict[str, Any] | None:
    """The experiment ``page`` replicates: ``{slug, url, title}`` (slug None when elsewhere)."""
    if page.replicates_id is None and page.replicates_url is None:
        return None
    local = db.session.get(Page, page.replicates_id) if page.replicates_id else None
    if local is None:
        return {"slug": None, "url": page.replicates_url, "title": None}
    return {
        "slug": local.slug,
        "url": page.replicates_url or url_for("wiki.view", slug=local.slug, _external=True),
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
        "slug": page.slug,
        "title": page.title,
        "kind": page.kind,
        "tags": page.tag_names,
        "license": page.license,
        "revision": page.revision_count,
        "updated_at": page.updated_at.isoformat(),
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


def media_version(version: MediaVersion) -> dict[str, Any]:
    """One version of a file: its content and who uploaded it when."""
    return {
        "number": version.number,
        "sha256": version.sha256,
        "content_type": version.content_type,
        "size": version.size,
        "width": version.width,
        "height": version.height,
        "uploaded_by": version.author_name,
        "summary": version.summary,
        "created_at": version.created_at.isoformat(),
    }


def media_item(item: Media) -> dict[str, Any]:
    """A file with its credits, its addresses and all its versions."""
    credit = media_credit(item)
    return {
        "name": item.name,
        "title": item.title,
        "kind": item.kind,
        "description": item.description,
        "authors": credit["authors"],
        "license": credit["license"],
        "source": item.source,
        "url": url_for("media.show", name=item.name, _external=True),
        "file_url": url_for("media.file", name=item.name, _external=True),
        "versions": [media_version(version) for version in media.versions(item)],
    }


def token(token: ApiToken) -> dict[str, Any]:
    """An API token as its owner sees it (never its secret)."""
    return {
        "id": token.id,
        "name": token.name,
        "scope": token.scope,
        "created_at": token.created_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
    }
