"""Media pages: upload, view with credits and versions, serve files and thumbnails."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _

from .. import licenses, media, office, permissions
from ..errors import CommonsError, NotFound
from ..login import acting_user
from ..models import Media, MediaVersion, User
from ._helpers import Pagination, page_number
from .forms import MediaForm

bp = Blueprint("media", __name__, url_prefix="/media")

#: Files are addressed by content (a version never changes), so browsers may keep them.
IMMUTABLE = 365 * 24 * 3600


def _media_or_404(name: str) -> Media:
    try:
        return media.get(name)
    except NotFound:
        abort(404)


def _version(item: Media) -> MediaVersion:
    number = request.args.get("version", type=int)
    if number is None:
        assert item.current_version is not None
        return item.current_version
    try:
        return media.get_version(item, number)
    except NotFound:
        abort(404)


@bp.get("")
def index() -> str:
    per_page = current_app.config["PAGE_SIZE"]
    number = page_number()
    items, total = media.list_media(offset=(number - 1) * per_page, limit=per_page)
    return render_template(
        "media_list.html", items=items, pagination=Pagination(number, per_page, total)
    )


def _upload(form: MediaForm, user: User | None, *, replace: Media | None = None) -> MediaVersion:
    """Store the form's file (a new one, or a new version of ``replace``) once it is valid."""
    form.validated()
    upload = form.file.data
    data = upload.stream.read(current_app.config["MAX_MEDIA_BYTES"] + 1)
    return media.upload(
        data,
        filename=form.name.data or upload.filename,
        author=user,
        replace=replace,
        title=form.title.data,
        description=form.description.data,
        license=form.license.data or None,
        creators=form.creators.data,
        summary=form.summary.data,
        source=form.source(),
    )


@bp.route("/upload", methods=["GET", "POST"])
def upload() -> Any:
    user = acting_user()
    if not permissions.can_upload(user):
        if user is None:
            flash(_("Please log in to upload files."), "info")
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)
    form = MediaForm() if request.method == "POST" else MediaForm(formdata=request.args)
    fields = form.values()
    if request.method == "POST":
        try:
            version = _upload(form, user)
        except CommonsError as error:
            return render_template(
                "media_upload.html",
                error=error.message,
                fields=fields,
                licenses=licenses.all_licenses(),
            ), error.status
        flash(_("The file has been uploaded."), "success")
        return redirect(url_for("media.show", name=version.media.name))
    return render_template("media_upload.html", fields=fields, licenses=licenses.all_licenses())


@bp.get("/<name>")
def show(name: str) -> str:
    item = _media_or_404(name)
    version = _version(item)
    return render_template(
        "media_page.html",
        item=item,
        version=version,
        office_type=office.by_content_type(version.content_type),
        document_text=office.document_text(media.file_path(version.sha256), version.content_type),
        versions=media.versions(item),
        creators=media.creators(item),
        license=licenses.get(item.license),
        can_upload=permissions.can_upload(acting_user()),
        licenses=licenses.all_licenses(),
        fields={},
    )


@bp.post("/<name>")
def new_version(name: str) -> Any:
    item = _media_or_404(name)
    user = acting_user()
    if not permissions.can_upload(user):
        abort(403 if user else 401)
    form = MediaForm()
    try:
        _upload(form, user, replace=item)
    except CommonsError as error:
        return render_template(
            "media_page.html",
            item=item,
            version=item.current_version,
            versions=media.versions(item),
            creators=media.creators(item),
            license=licenses.get(item.license),
            can_upload=True,
            licenses=licenses.all_licenses(),
            fields=form.values(),
            error=error.message,
        ), error.status
    flash(_("The new version has been uploaded; the previous ones are kept."), "success")
    return redirect(url_for("media.show", name=item.name))


def _send(version: MediaVersion, path: Any, content_type: str, *, download_name: str) -> Response:
    as_attachment = not content_type.startswith("image/")
    response = send_file(
        path,
        mimetype=content_type,
        as_attachment=as_attachment,
        download_name=download_name,
        conditional=True,
        etag=version.sha256,
        max_age=IMMUTABLE if request.args.get("version") else 300,
    )
    if request.args.get("version"):
        response.headers["Cache-Control"] = f"public, max-age={IMMUTABLE}, immutable"
    # The stored type is whole ("text/plain; charset=utf-8"): send_file would add a charset.
    response.headers["Content-Type"] = content_type
    # A file never runs as a page of this site, whatever its content.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/<name>/file")
def file(name: str) -> Response:
    item = _media_or_404(name)
    version = _version(item)
    return _send(
        version, media.file_path(version.sha256), version.content_type, download_name=item.name
    )


@bp.get("/<name>/thumbnail")
def thumbnail(name: str) -> Response:
    item = _media_or_404(name)
    version = _version(item)
    if item.kind != "image":
        return redirect(url_for("static", filename="document.svg"))
    return _send(
        version,
        media.thumbnail_path(version),
        "image/webp",
        download_name=f"{item.name}.webp",
    )
