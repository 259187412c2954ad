"""Bundles: the export and import forms and their API endpoints; rules live in commons.bundles."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request, send_file, session
from flask_babel import lazy_gettext as _l

from .. import bundles, page_queries, permissions, printing
from ..errors import CommonsError, ValidationError
from ..extensions import csrf
from ..login import acting_user, permission_required
from ..models import Kind
from . import json_error
from ._helpers import refuse_session_write_without_csrf, send_pdf
from .forms import ApiImportForm, ExportForm, ImportForm

bp = Blueprint("bundles", __name__)


def _send(selection: bundles.Selection, file_format: object = None) -> Response:
    """The bundle of ``selection``, or with ``file_format`` "pdf" its booklet."""
    if file_format == "pdf":
        booklet, printed = printing.booklet_to_temporary_file(selection, acting_user())
        return send_pdf(booklet, printed.file_name)
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
        asked = ExportForm(formdata=request.args)
        return _export_form({**asked.values(), "scope": asked.chosen_scope()})
    form = ExportForm()
    try:
        values = form.validated().values()
        return _send(bundles.Selection.from_mapping(values), values.get("format"))
    except CommonsError as error:
        return _export_form(form.values(), error.message, error.status)


@bp.route("/import", methods=["GET", "POST"])
@permission_required(permissions.can_import)
def import_() -> Any:
    """Upload a bundle, choose what happens to existing pages, preview, and see the report.

    A preview keeps the bundle (its token in the session) until the import is confirmed.
    """
    if request.method == "GET":
        return render_template("import.html", on_conflict="skip")
    form = ImportForm().validated()
    on_conflict = form.on_conflict.data
    upload = form.upload()
    previewing = form.preview.data
    kept = session.pop("pending_import", None)
    confirmed = None if previewing or upload else bundles.pending.path(kept)
    if kept and confirmed is None:
        bundles.pending.forget(kept)
    try:
        if confirmed is None and upload is None:
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
    """The bundle of the JSON body's selection (``slug``, ``tag``, ``kind``, ``query``...);
    with ``"format": "pdf"``, its booklet."""
    data = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(data, dict):
        raise ValidationError(_l("The request body must be a JSON object."), code="invalid_json")
    return _send(bundles.Selection.from_mapping(data), data.get("format"))


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
        form = ApiImportForm().validated()
        on_conflict = form.on_conflict.data or request.args.get("on_conflict")
        report = bundles.import_bundle(
            form.file.data.stream, on_conflict=on_conflict, importer=user
        )
    else:
        with bundles.spool(request.stream) as body:
            report = bundles.import_bundle(
                body, on_conflict=request.args.get("on_conflict"), importer=user
            )
    return jsonify(report.to_json())
