"""Language choice, licence texts, the friendly 404."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from .. import licenses, pages
from ..auth import acting_user
from ..extensions import csrf, db
from ..security import local_path
from ..slugs import slugify

bp = Blueprint("misc", __name__)


@bp.post("/language")
@csrf.exempt
def set_language() -> Any:
    """Remember the reader's language (on the account when logged in).

    Exempt from CSRF on purpose: a forged request could only change a display
    preference, and pages without any token can be cached for visitors.
    """
    locale = request.form.get("locale", "")
    if locale in current_app.config["LOCALES"]:
        session["locale"] = locale
        user = acting_user()
        if user is not None:
            user.locale = locale
            db.session.commit()
    return redirect(local_path(request.form.get("next")) or url_for("wiki.home"))


@bp.get("/licenses")
def license_list() -> str:
    return render_template("licenses.html", licenses=licenses.all_licenses())


@bp.get("/licenses/<spdx>")
def license_text(spdx: str) -> Response:
    try:
        text = licenses.legal_text(spdx)
    except KeyError:
        abort(404)
    return Response(text, mimetype="text/plain; charset=utf-8")


def not_found_page() -> str:
    """The 404 page: search results for the missing title and a "create it" link."""
    wiki_path = request.path.removeprefix("/wiki/")
    slug = slugify(wiki_path.split("/", 1)[0]) if wiki_path != request.path else ""
    suggestions = []
    if slug:
        from .. import search

        suggestions = search.search(slug.replace("-", " "), per_page=5).hits
    user = acting_user()
    return render_template(
        "404.html",
        slug=slug,
        suggestions=suggestions,
        can_create=bool(slug) and pages.can_edit(user, None),
    )
