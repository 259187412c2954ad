"""Bundles: the export and import forms and their API endpoints; rules live in commons.bundles."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request, send_file, session
from flask_babel import lazy_gettext as _l

from .. import bundles, page_queries, permissions
from ..auth import acting_user, permission_required
from ..errors import CommonsError, ValidationError
from ..extensions import csrf
from ..models import Kind
from . import json_error
from ._helpers import refuse_session_write_without_csrf

bp = Blueprint("bundles", __name__)

#: Which export choice a query argument stands for.
SCOPE_FIELDS = (
    ("page", "slug"),
    ("pages", "pages"),
    ("query", "q"),
    ("query", "query"),
    ("tag", "tag"),
    ("kind", "kind"),
)


def _send(selection: bundles.Selection) -> Response:
    bundle, result = bundles.export_to_temporary_file(selection, base_url=request.url_root)
    return send_file(
        bundle,
        mimetype="application/zip",
        as_attachment=True,
        download_name=result.file_name,
        max_age=0,
    )


def _export_form(fields: dict[str, Any], error: object = None, status: int = 200) -> Any:
    return render_template(
        "export.html",
        fields=fields,
        error=error,
        kinds=[kind.value for kind in Kind],
        tags=page_queries.tag_counts(),
        picked=page_queries.live_titles(fields.get("pages") or []),
    ), status


@bp.route("/export", methods=["GET", "POST"])
def export() -> Any:
    """Choose pages (one page, a tag, a kind, a search, everything) and download their bundle."""
    if request.method == "GET":
        # Links from a page, a tag, a kind or a search arrive with that choice made.
        fields: dict[str, Any] = {**request.args.to_dict(), "pages": request.args.getlist("pages")}
        given = [scope for scope, key in SCOPE_FIELDS if fields.get(key)]
        fields.setdefault("scope", given[0] if given else "all")
        return _export_form(fields)
    try:
        return _send(bundles.Selection.from_mapping(request.form))
    except CommonsError as error:
        fields = {**request.form.to_dict(), "pages": request.form.getlist("pages")}
        return _export_form(fields, error.message, error.status)


@bp.route("/import", methods=["GET", "POST"])
@permission_required(permissions.can_import)
def import_() -> Any:
    """Upload a bundle, choose what happens to existing pages, preview, and see the report.

    A preview keeps the bundle (its token in the session) until the import is confirmed.
    """
    if request.method == "GET":
        return render_template("import.html", on_conflict="skip")
    on_conflict = request.form.get("on_conflict", "skip")
    upload = request.files.get("bundle")
    previewing = "preview" in request.form
    kept = session.pop("pending_import", None)
    uploaded = upload is not None and bool(upload.filename)
    confirmed = None if previewing or uploaded else bundles.pending.path(kept)
    if kept and confirmed is None:
        bundles.pending.forget(kept)
    try:
        if confirmed is None and not uploaded:
            raise ValidationError(_l("Choose a bundle (.zip file) to import."), code="no_file")
        if previewing:
            kept = bundles.pending.keep(upload.stream)
            confirmed = bundles.pending.path(kept)
        with confirmed.open("rb") if confirmed else upload.stream as stream:
            report = bundles.import_bundle(
                stream, on_conflict=on_conflict, importer=acting_user(), preview=previewing
            )
    except CommonsError as error:
        bundles.pending.forget(kept)
        return render_template(
            "import.html", on_conflict=on_conflict, error=error.message
        ), error.status
    if previewing:
        session["pending_import"] = kept
    else:
        bundles.pending.forget(kept)
    return render_template("import.html", on_conflict=on_conflict, report=report)


@bp.post("/api/v1/export")
@csrf.exempt  # a read: a bearer client has no CSRF token, and a forged request learns nothing
def api_export() -> Response:
    """The bundle of the JSON body's selection (``slug``, ``tag``, ``kind``, ``query``...)."""
    data = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(data, dict):
        raise ValidationError(_l("The request body must be a JSON object."), code="invalid_json")
    return _send(bundles.Selection.from_mapping(data))


@bp.post("/api/v1/import")
@csrf.exempt  # checked below as the rest of the API does: bearer tokens need no CSRF token
def api_import() -> Any:
    """Import a zip sent as the body or as the ``file`` field; ``on_conflict`` says what to do
    with existing pages. Returns the report."""
    user = acting_user()
    if user is None:
        return json_error(401, "unauthorized", _l("Please log in to continue."))
    if not permissions.can_import(user):
        return json_error(
            403, "forbidden", _l("Only editors and administrators can import bundles.")
        )
    refused = refuse_session_write_without_csrf()
    if refused is not None:
        return refused
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ValidationError(
                _l("Send the bundle as the request body or as the “file” field of a form."),
                code="no_file",
            )
        on_conflict = request.form.get("on_conflict") or request.args.get("on_conflict")
        report = bundles.import_bundle(upload.stream, on_conflict=on_conflict, importer=user)
    else:
        with bundles.spool(request.stream) as body:
            report = bundles.import_bundle(
                body, on_conflict=request.args.get("on_conflict"), importer=user
            )
    return jsonify(report.to_json())
