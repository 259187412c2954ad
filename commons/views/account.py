"""The logged-in user's own settings: their API tokens."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from .. import auth, permissions
from ..errors import CommonsError
from ..login import acting_user, permission_required
from ..models import TokenScope
from .forms import TokenForm

bp = Blueprint("account", __name__, url_prefix="/account")


def _tokens_page(status: int = 200, **extra: Any) -> tuple[str, int]:
    user = acting_user()
    assert user is not None
    page = render_template(
        "account_tokens.html",
        tokens=auth.list_tokens(user),
        scopes=[scope.value for scope in TokenScope],
        **extra,
    )
    return page, status


@bp.get("/tokens")
@permission_required(permissions.can_manage_tokens)
def tokens() -> Any:
    return _tokens_page()


@bp.post("/tokens")
@permission_required(permissions.can_manage_tokens)
def create_token() -> Any:
    """Create a token and show its secret, this once (never stored, never in a cookie)."""
    user = acting_user()
    assert user is not None
    form = TokenForm()
    try:
        token, secret = auth.issue_token(user, form.validated().name.data, form.scope.data)
    except CommonsError as error:
        return _tokens_page(
            error.status, error=error.message, name=form.name.data, scope=form.scope.data
        )
    return _tokens_page(201, created=token, secret=secret)


@bp.post("/tokens/<int:token_id>/revoke")
@permission_required(permissions.can_manage_tokens)
def revoke_token(token_id: int) -> Any:
    user = acting_user()
    assert user is not None
    token = auth.revoke_token(user, token_id)
    flash(_("The token “%(name)s” is revoked: it no longer works.", name=token.name), "success")
    return redirect(url_for("account.tokens"))
