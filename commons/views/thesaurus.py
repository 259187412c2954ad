"""Administration of the thesaurus: the themes pages are classified by."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length

from .. import permissions, themes
from ..errors import CommonsError
from ..login import acting_user, permission_required

bp = Blueprint("thesaurus", __name__, url_prefix="/admin/themes")


class ThemeForm(FlaskForm):
    """A theme to add, or a new label for an existing one."""

    key = StringField(
        _l("Key"),
        validators=[DataRequired(_l("A theme needs a key.")), Length(max=themes.MAX_KEY_LENGTH)],
        description=_l("Lower-case letters, digits and hyphens; pages store it, it never changes."),
    )
    label_fr = StringField(
        _l("Label in French"),
        validators=[DataRequired(_l("A theme needs a label in French and in English."))],
    )
    label_en = StringField(
        _l("Label in English"),
        validators=[DataRequired(_l("A theme needs a label in French and in English."))],
    )


class RetireForm(FlaskForm):
    """Stop offering a theme, or offer it again."""

    key = HiddenField(validators=[DataRequired()])
    retired = BooleanField()


def _page(form: ThemeForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "admin_themes.html", themes=themes.all_themes(include_retired=True), form=form
    ), status


@bp.get("")
@permission_required(permissions.can_manage_themes)
def index() -> tuple[str, int]:
    return _page(ThemeForm())


@bp.post("")
@permission_required(permissions.can_manage_themes)
def save() -> Any:
    form = ThemeForm()
    if not form.validate():
        return _page(form, 400)
    try:
        theme = themes.save_theme(
            form.key.data,
            label_fr=form.label_fr.data,
            label_en=form.label_en.data,
            by=acting_user(),
        )
    except CommonsError as error:
        form.key.errors = [*form.key.errors, error.message]
        return _page(form, error.status)
    flash(_("The theme “%(label)s” is saved.", label=themes.label(theme.key)), "success")
    return redirect(url_for("thesaurus.index"))


@bp.post("/retire")
@permission_required(permissions.can_manage_themes)
def retire() -> Any:
    form = RetireForm()
    if not form.validate():
        flash(_("Which theme? Nothing was changed."), "error")
        return redirect(url_for("thesaurus.index"))
    themes.set_retired(form.key.data, form.retired.data, by=acting_user())
    flash(_("The themes are saved."), "success")
    return redirect(url_for("thesaurus.index"))
