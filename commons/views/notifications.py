"""Unsubscribing from notification mails, by the link every one of them carries."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from .. import notifications
from ..errors import CommonsError
from ..extensions import csrf

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the credential; mail programs POST it in one click (RFC 8058)
def unsubscribe(token: str) -> Any:
    """GET asks for confirmation (link scanners must not unsubscribe anyone); POST acts."""
    try:
        if request.method == "POST":
            user = notifications.unsubscribe(token)
            return render_template("unsubscribe.html", user=user, done=True)
        user = notifications.user_for_unsubscribe_token(token)
    except CommonsError as error:
        return render_template("error.html", status=error.status, message=error.message), (
            error.status
        )
    return render_template("unsubscribe.html", user=user, done=False)
