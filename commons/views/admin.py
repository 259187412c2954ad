"""Administration: accounts, their roles, and blocking; the import log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import auth, bundles, mail, permissions
from ..extensions import db
from ..login import acting_user, permission_required
from ..models import Role, User
from ._helpers import Pagination, page_number
from .forms import AccountChangeForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@permission_required(permissions.can_manage_accounts)
def users() -> str:
    per_page = current_app.config["PAGE_SIZE"]
    number = page_number()
    found, total = auth.list_users(offset=(number - 1) * per_page, limit=per_page)
    return render_template(
        "admin_users.html",
        users=found,
        roles=[role.value for role in Role],
        pagination=Pagination(number, per_page, total),
        outbox=current_app.config["OUTBOX_DIR"] if mail.uses_outbox() else None,
    )


@bp.get("/imports")
@permission_required(permissions.can_manage_accounts)
def imports() -> str:
    per_page = current_app.config["PAGE_SIZE"]
    number = page_number()
    found, total = bundles.import_log.list_imports(offset=(number - 1) * per_page, limit=per_page)
    return render_template(
        "admin_imports.html", imports=found, pagination=Pagination(number, per_page, total)
    )


@bp.post("/users/<int:user_id>")
@permission_required(permissions.can_manage_accounts)
def change_user(user_id: int) -> Any:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    admin = acting_user()
    assert admin is not None
    form = AccountChangeForm().validated()
    if form.action.data == "role":
        auth.set_role(user, form.role.data, by=admin)
        flash(_("%(name)s is now %(role)s.", name=user.name, role=user.role), "success")
    else:
        auth.set_blocked(user, form.action.data == "block", by=admin)
        message = _("%(name)s is blocked.") if user.blocked else _("%(name)s is no longer blocked.")
        flash(message % {"name": user.name}, "success")
    return redirect(url_for("admin.users", page=request.args.get("page")))
