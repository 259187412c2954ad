"""Language choice and licence texts."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    session,
    url_for,
)

from .. import licenses
from ..extensions import csrf
from ..login import acting_user
from ..security import local_path
from .forms import LanguageForm

bp = Blueprint("misc", __name__)


@bp.post("/language")
@csrf.exempt
def set_language() -> Any:
    """Remember the reader's language (on the account when logged in).

    Exempt from CSRF on purpose: a forged request could only change a display
    preference, and pages without any token can be cached for visitors.
    """
    form = LanguageForm().validated()
    locale = form.locale.data
    if locale in current_app.config["LOCALES"]:
        session["locale"] = locale
        user = acting_user()
        if user is not None:
            user.locale = locale
    return redirect(local_path(form.next.data) or url_for("wiki.home"))


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
