"""JSON API under /api/v1, authenticated by session or ``Authorization: Bearer``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask_babel import lazy_gettext as _l

from .. import (
    auth,
    experiments,
    media,
    page_queries,
    pages,
    permissions,
    printing,
    serialize,
)
from .. import search as search_service
from ..errors import CommonsError, EditConflict, NotFound, ValidationError
from ..extensions import csrf
from ..login import acting_user, bearer_secret, request_token
from ..models import Page, TokenScope, User
from . import json_error
from ._helpers import SAFE_METHODS, page_number, refuse_session_write_without_csrf, send_pdf
from .forms import ApiMediaForm

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
bp.before_request(refuse_session_write_without_csrf)

MAX_PER_PAGE = 200


@bp.before_app_request
def authenticate_bearer_token() -> Any:
    """Under /api/, an ``Authorization: Bearer`` token alone says who acts.

    An unknown or revoked token is a 401 whatever cookie comes with it, so that a made-up
    header never passes for a token (nor skips the CSRF check of the session beside it);
    a read token may only read.
    """
    secret = bearer_secret()
    if secret is None:
        return None
    token = request_token()
    if token is None:
        return json_error(
            401,
            "invalid_token",
            _l("This API token is not valid: it may have been revoked."),
            bearer_error="invalid_token",
        )
    if token.scope == TokenScope.READ and request.method not in SAFE_METHODS:
        return json_error(
            403,
            "insufficient_scope",
            _l("This token can only read: use a token with the write scope to make changes."),
            bearer_error="insufficient_scope",
        )
    return None


def _json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError(_l("The request body must be a JSON object."), code="invalid_json")
    return data


def _per_page() -> int:
    return min(max(request.args.get("per_page", 50, type=int) or 50, 1), MAX_PER_PAGE)


def _page_or_404(slug: str) -> Page:
    page, _redirected = page_queries.resolve(slug)
    if page is None or page.deleted:
        raise NotFound(_l("There is no page at “%(slug)s”.", slug=slug))
    return page


@bp.get("/pages")
def list_pages() -> Response:
    per_page = _per_page()
    number = page_number()
    found, total = page_queries.list_pages(
        kind=request.args.get("kind"),
        tag=request.args.get("tag"),
        offset=(number - 1) * per_page,
        limit=per_page,
    )
    return jsonify(
        {
            "pages": [serialize.page_summary(p) for p in found],
            "total": total,
            "page": number,
            "per_page": per_page,
        }
    )


@bp.get("/pages/<slug>")
def get_page(slug: str) -> Response:
    page = _page_or_404(slug)
    number = request.args.get("rev", type=int)
    revision = page_queries.get_revision(page, number) if number else None
    return jsonify(serialize.page(page, acting_user(), revision))


def _original(value: Any) -> experiments.Original:
    """The experiment a PUT says the page replicates; null clears it."""
    if value is None:
        return experiments.Original()
    if not isinstance(value, str):
        raise ValidationError(_l("replicates must be a page's slug or address."), code="invalid")
    return experiments.resolve_original(value, base_url=request.url_root)


@bp.put("/pages/<slug>")
def put_page(slug: str) -> Any:
    data = _json_body()
    base = data.get("base_revision")
    if base is not None and (not isinstance(base, int) or isinstance(base, bool)):
        raise ValidationError(
            _l("base_revision must be a revision number."), code="base_revision_invalid"
        )
    existing = page_queries.find(slug, include_deleted=True)
    if existing is not None and base is None:
        raise ValidationError(
            _l("This page exists: send the base_revision you started from."),
            code="base_revision_required",
        )
    for key in ("title", "body"):
        if not isinstance(data.get(key, ""), str):
            raise ValidationError(_l("%(field)s must be text.", field=key), code="invalid")
    try:
        result = pages.save(
            slug,
            title=data.get("title") or (existing.title if existing else ""),
            body=data.get("body", ""),
            kind=data.get("kind") or (existing.kind if existing else None),
            tags=data.get("tags") if "tags" in data else (existing.tag_names if existing else []),
            license=data.get("license"),
            summary=data.get("summary", ""),
            base_revision=base,
            minor=bool(data.get("minor")),
            coauthors=data.get("coauthors"),
            source=(data.get("source") or {}) if "source" in data else None,
            attribution_parties=data.get("attribution_parties"),
            author=acting_user(),
            fields=data.get("fields") if "fields" in data else None,
            replicates=_original(data["replicates"]) if "replicates" in data else None,
        )
    except EditConflict as conflict:
        current = conflict.details["current_revision"]
        response = jsonify(
            {
                "error": {
                    "code": conflict.code,
                    "message": str(conflict.message),
                    "current_revision": current,
                },
                "current_revision": current,
                "current": serialize.page(page_queries.get(slug), acting_user()),
            }
        )
        return response, 409
    # The revision this save made: the page may already have moved on by now.
    body = serialize.page(result.page, acting_user(), result.revision)
    body["merged"] = result.merged
    body["created"] = result.created
    body["changed"] = not result.noop
    return jsonify(body), 201 if result.created else 200


@bp.get("/pages/<slug>.pdf")
def page_pdf(slug: str) -> Response:
    """The page printed, as ``/wiki/<slug>.pdf``."""
    document, file_name = printing.page_pdf(_page_or_404(slug), acting_user())
    return send_pdf(document, file_name)


@bp.get("/pages/<slug>/revisions")
def revisions(slug: str) -> Response:
    page = _page_or_404(slug)
    per_page = _per_page()
    number = page_number()
    found = page_queries.history(page, offset=(number - 1) * per_page, limit=per_page)
    return jsonify(
        {
            "revisions": [serialize.revision(r, acting_user()) for r in found],
            "total": page.revision_count,
            "page": number,
            "per_page": per_page,
        }
    )


@bp.get("/pages/<slug>/credits")
def page_credits(slug: str) -> Response:
    page = _page_or_404(slug)
    return jsonify(serialize.credits(page))


@bp.get("/search")
def search() -> Response:
    results = search_service.search(
        request.args.get("q", ""),
        kind=request.args.get("kind") or None,
        tag=request.args.get("tag") or None,
        page=page_number(),
        per_page=min(_per_page(), 100),
        sort=request.args.get("sort", "relevance"),
        filters=experiments.clean_filters(request.args),
    )
    return jsonify(serialize.search_results(results))


#: What ``GET /api/v1/suggest`` may be asked for, and what each answer holds.
SUGGESTIONS = {"all": ("titles", "tags"), "titles": ("titles",), "tags": ("tags",)}


@bp.get("/suggest")
def suggest() -> Response:
    """Completion as one types: titles of pages, then tags in use, holding ``q``."""
    wanted = SUGGESTIONS.get(request.args.get("type", "all"))
    if wanted is None:
        raise ValidationError(_l("Ask for “titles”, “tags” or “all”."), code="suggest_type_invalid")
    text = request.args.get("q", "")[:100]
    titles = page_queries.suggest_titles(text) if "titles" in wanted else []
    return jsonify(
        {
            "titles": [
                {
                    "slug": page.slug,
                    "title": page.title,
                    "url": url_for("wiki.view", slug=page.slug),
                }
                for page in titles
            ],
            "tags": page_queries.suggest_tags(text) if "tags" in wanted else [],
        }
    )


def _caller() -> User:
    """The logged-in user; a visitor gets the API's 401."""
    user = acting_user()
    if user is None:
        raise CommonsError(_l("Please log in to continue."), code="unauthorized", status=401)
    return user


@bp.get("/me")
def me() -> Any:
    return jsonify(
        serialize.account(_caller(), max_body_bytes=current_app.config["MAX_BODY_BYTES"])
    )


@bp.post("/media")
def upload_media() -> Any:
    user = _caller()
    if not permissions.can_upload(user):
        return json_error(403, "forbidden", _l("You do not have the rights to do this."))
    form = ApiMediaForm().validated()
    upload = form.file.data
    data = upload.stream.read(current_app.config["MAX_MEDIA_BYTES"] + 1)
    version = media.upload(
        data,
        filename=form.name.data or upload.filename or "",
        author=user,
        title=form.title.data,
        description=form.description.data,
        license=form.license.data or None,
        source=form.declared_source(),
        creators=form.authors.data,
        summary=form.summary.data,
    )
    return jsonify(serialize.media_item(version.media)), 201


@bp.get("/media/<name>")
def get_media(name: str) -> Response:
    return jsonify(serialize.media_item(media.get(name)))


@bp.get("/tokens")
def list_tokens() -> Any:
    """The caller's API tokens (never their secrets)."""
    user = _caller()
    return jsonify({"tokens": [serialize.token(token) for token in auth.list_tokens(user)]})


@bp.post("/tokens")
def create_token() -> Any:
    """A new token for the caller: ``{"name", "scope": "read"|"write"}``; the secret, once."""
    user = _caller()
    data = _json_body()
    token, secret = auth.issue_token(
        user, str(data.get("name", "")), str(data.get("scope", TokenScope.WRITE))
    )
    return jsonify({**serialize.token(token), "token": secret}), 201


@bp.delete("/tokens/<int:token_id>")
def revoke_token(token_id: int) -> Any:
    """Revoke one of the caller's tokens: it stops working at once."""
    user = _caller()
    auth.revoke_token(user, token_id)
    return Response(status=204)
