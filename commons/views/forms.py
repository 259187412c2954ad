"""Every form, as a WTForms class: the names of its fields, their shape, and what is required.

The HTML forms, and the API's two multipart forms (a file, a bundle); the API's JSON
bodies are not forms and the API reads them itself.

A view builds its form from the request and calls :meth:`Form.validated`, the one place a
form is checked: a refused form raises :class:`~commons.errors.ValidationError` with the
first translated message, so the view shows it like any refusal of a service, stores
nothing, and keeps what was typed. Forms check shape and presence only; the rules of the
wiki (a title's letters, a licence's compatibility, a summary's length...) stay in the
services, which every way in (forms, API, importer) goes through.

CSRF has one guard: ``CSRFProtect`` checks the token of every POST before any view runs,
so the classes carry no token of their own (``Meta.csrf = False``). Templates put it in
with ``csrf_field()``, and pages shared between visitors carry none.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar, Self

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import CombinedMultiDict, FileStorage
from wtforms import BooleanField, IntegerField, SelectMultipleField, StringField
from wtforms import FileField as AnyFileField
from wtforms.validators import (
    AnyOf,
    DataRequired,
    EqualTo,
    InputRequired,
    Optional,
    StopValidation,
)

from .. import sheets, territories
from ..errors import ValidationError


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def text(*validators: Any, default: str = "", **options: Any) -> StringField:
    """A text field read as sent, ``default`` when the form does not send it."""
    return StringField(validators=list(validators), default=default, **options)


def choice() -> StringField:
    """A text field left at None when not sent, so the service applies its default."""
    return StringField()


def ticked() -> BooleanField:
    """A checkbox or a button: true when the form sends it, whatever its value."""
    return BooleanField(false_values=())


class SwitchField(BooleanField):
    """A yes/no sent by a button: true only for the value ``1``, false for anything else."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = bool(valuelist) and valuelist[0] == "1"


class FileSent:
    """A file part was sent under the field's name, even one without a file name (the API's
    clients may name the file in another field). Goes with ``AnyFileField``, which keeps such
    a part; a browser's form, which sends an unnamed empty part for "no file", uses Flask-WTF's
    ``FileField`` and ``FileRequired`` instead."""

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        if not isinstance(field.data, FileStorage):
            raise StopValidation(self.message)


class RevisionNumberField(IntegerField):
    """A revision number; a value that is not a whole number is refused, not ignored."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("The revision number of the form is not a whole number.")) from None


class Form(FlaskForm):
    """The base of every form: no token of its own (see the module), one way to validate."""

    class Meta:
        csrf = False

    def __init__(self, formdata: Any = None, **options: Any) -> None:
        """A form read from ``formdata``; by default from what a POST sent as a form.

        Only form fields and files: unlike Flask-WTF's default, a JSON body is not a form.
        """
        if formdata is None and request.method == "POST":
            formdata = CombinedMultiDict((request.files, request.form))
        super().__init__(formdata=formdata, **options)

    #: The error code of a refusal, by field (the API answers it); "form_invalid" otherwise.
    error_codes: ClassVar[dict[str, str]] = {}

    def validated(self) -> Self:
        """The form itself when it is valid; :class:`ValidationError` with its first message.

        Fields are checked in the order they are declared; the first refused one speaks.
        """
        if not self.validate():
            field = next(field for field in self if field.errors)
            code = self.error_codes.get(field.name, "form_invalid")
            raise ValidationError(field.errors[0], code=code)
        return self

    def values(self) -> dict[str, Any]:
        """What the form holds, to show it again: the fields it was not sent are left out."""
        return {name: value for name, value in self.data.items() if value is not None}


class SourceFields:
    """The declared source of a contribution (its title, authors, address and licence).

    One set of fields shared by the page editor and the media upload.
    """

    source_title = text()
    source_authors = text()
    source_url = text()
    source_license = text()

    def source(self) -> dict[str, str]:
        """The source as the services take it; they clean it and drop an empty one."""
        return {
            "title": self.source_title.data,
            "authors": self.source_authors.data,
            "url": self.source_url.data,
            "license": self.source_license.data,
        }


# --- pages ---------------------------------------------------------------------------


class SheetFields:
    """The sheet of an experiment, a tool or a synthesis, as the editor sends it: one text
    field per value (places and names separated by commas or lines), themes ticked.

    ``sheet_kind`` says which kind's fields the editor showed: when the kind was changed
    in the same save, the sheet is left as it was (less the fields the new kind lacks).
    """

    sheet_kind = choice()
    sheet_territory = text()
    sheet_period_start = text()
    sheet_period_end = text()
    sheet_status = text()
    sheet_organisations = text()
    sheet_themes = SelectMultipleField(choices=[], validate_choice=False)
    sheet_contact = text()
    sheet_duration_minutes = text()
    sheet_group_min = text()
    sheet_group_max = text()
    sheet_audience = text()
    sheet_date = text()
    sheet_place = text()
    sheet_participants = text()
    replicates = choice()

    def sheet(self, kind: str) -> dict[str, Any] | None:
        """The raw sheet for :func:`commons.sheets.clean_fields`, or None to keep it."""
        if self.sheet_kind.data != kind or not sheets.fields_of(kind):
            return None

        def places(value: str) -> list[str]:
            return [part.strip() for part in re.split(r"[,;\n]", value or "") if part.strip()]

        raw: dict[str, Any] = {
            "territory": places(self.sheet_territory.data),
            "period": {"start": self.sheet_period_start.data, "end": self.sheet_period_end.data},
            "status": self.sheet_status.data,
            "organisations": self.sheet_organisations.data,
            "themes": list(self.sheet_themes.data or []),
            "contact": self.sheet_contact.data,
            "duration_minutes": self.sheet_duration_minutes.data,
            "group_size": {"min": self.sheet_group_min.data, "max": self.sheet_group_max.data},
            "audience": self.sheet_audience.data,
            "date": self.sheet_date.data,
            "place": self.sheet_place.data,
            "participants": self.sheet_participants.data,
        }
        return {name: raw[name] for name in sheets.fields_of(kind)}

    @staticmethod
    def initial(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        """What the editor's sheet fields show for a stored sheet."""
        loaded = territories.territories()

        def place(item: dict[str, str]) -> str:
            found = loaded.find(item["code"], item["type"])
            return found.describe(loaded) if found else item["code"]

        period = fields.get("period") or {}
        group = fields.get("group_size") or {}
        values = {
            "sheet_kind": kind,
            "sheet_territory": ", ".join(place(item) for item in fields.get("territory") or []),
            "sheet_period_start": period.get("start", ""),
            "sheet_period_end": period.get("end", ""),
            "sheet_status": fields.get("status", ""),
            "sheet_organisations": ", ".join(fields.get("organisations") or []),
            "sheet_themes": list(fields.get("themes") or []),
            "sheet_contact": fields.get("contact", ""),
            "sheet_duration_minutes": fields.get("duration_minutes", ""),
            "sheet_group_min": group.get("min", ""),
            "sheet_group_max": group.get("max", ""),
            "sheet_audience": fields.get("audience", ""),
            "sheet_date": fields.get("date", ""),
            "sheet_place": place(fields["place"]) if fields.get("place") else "",
            "sheet_participants": fields.get("participants", ""),
        }
        return values


class EditForm(SheetFields, SourceFields, Form):
    """The page editor; "Preview" shows the text without saving it."""

    title = text()
    body = text()
    kind = choice()
    tags = text()
    license = choice()
    summary = text()
    base_revision = RevisionNumberField(validators=[Optional()])
    minor = ticked()
    coauthors = text()
    attribution_parties = text()
    accept_license = ticked()
    new_page = ticked()
    preview = ticked()


class NewPageForm(Form):
    """The title and kind of a page to create (also the editor's query arguments)."""

    title = text(filters=[_strip])
    kind = choice()
    tags = choice()


class PreviewForm(Form):
    """The editor's live preview."""

    body = text()


class SummaryForm(Form):
    """An action on a page that only asks why: revert, delete, restore."""

    summary = text()


class RenameForm(SummaryForm):
    title = text()


class ProtectForm(Form):
    protected = SwitchField()


class HideRevisionForm(Form):
    hidden = SwitchField()


# --- accounts ------------------------------------------------------------------------


CREDENTIALS_MISSING = _l("Enter your user name and your password.")


class LoginForm(Form):
    name = text(DataRequired(message=CREDENTIALS_MISSING), filters=[_strip])
    password = text(InputRequired(message=CREDENTIALS_MISSING))
    remember = ticked()


class RegisterForm(Form):
    name = text(filters=[_strip])
    password = text()
    password_confirm = text(EqualTo("password", message=_l("The two passwords differ.")))
    email = text()


class TokenForm(Form):
    name = text()
    scope = text(default="read")


class AccountChangeForm(Form):
    """An administrator's action on an account: a new role, a block, an unblock."""

    action = text(AnyOf(("role", "block", "unblock"), message=_l("Unknown action on an account.")))
    role = text()


class LanguageForm(Form):
    locale = text()
    next = choice()


# --- media ---------------------------------------------------------------------------

MISSING_FILE = _l("Choose a file to upload.")


class FileFields(Form):
    """What the media page shows about a file, as both the HTML forms and the API send it."""

    error_codes: ClassVar[dict[str, str]] = {"file": "media_missing_file"}

    name = text()
    title = text()
    description = text()
    license = choice()
    summary = text()


class MediaForm(SourceFields, FileFields):
    """A new file, or a new version of one, from the HTML forms."""

    file = FileField(validators=[FileRequired(message=MISSING_FILE)])
    creators = text()


class ApiMediaForm(FileFields):
    """``POST /api/v1/media``: its authors are ``authors``, its source one ``source`` field."""

    file = AnyFileField(validators=[FileSent(MISSING_FILE)])
    authors = text()
    source = text()

    def declared_source(self) -> dict[str, Any] | None:
        """The ``source`` field: a JSON object, an address, or the title of a work."""
        raw = self.source.data.strip()
        if not raw:
            return None
        if raw.startswith("{"):
            try:
                parsed = json.loads(raw)
            except ValueError:
                raise ValidationError(
                    _l("The source must be a JSON object, an address or a title."),
                    code="source_invalid",
                ) from None
            if isinstance(parsed, dict):
                return parsed
        if raw.startswith(("http://", "https://")):
            return {"url": raw}
        return {"title": raw}


# --- bundles -------------------------------------------------------------------------


class ExportForm(Form):
    """A selection of pages to export; ``commons.bundles.Selection`` reads and checks it."""

    scope = choice()
    slug = choice()
    tag = choice()
    kind = choice()
    query = choice()
    q = choice()
    #: Pages picked one by one from lists or search results (a repeated field).
    pages = SelectMultipleField(choices=[], validate_choice=False)
    all = choice()
    history = choice()
    #: "pdf" asks for the booklet instead of the bundle.
    format = choice()

    #: The scope that a link's query argument stands for, in order of precedence.
    SCOPE_OF_FIELD = (
        ("page", "slug"),
        ("pages", "pages"),
        ("query", "q"),
        ("query", "query"),
        ("tag", "tag"),
        ("kind", "kind"),
    )

    def chosen_scope(self) -> str:
        """The scope sent, else the one a link's argument implies (a page, a tag...), else all."""
        given = [scope for scope, name in self.SCOPE_OF_FIELD if self[name].data]
        return self.scope.data or (given[0] if given else "all")


class ImportForm(Form):
    """A bundle to import from the HTML form, what to do with existing pages, and whether
    to preview it first. Without a file, the import confirms the bundle last previewed."""

    bundle = FileField()
    on_conflict = text(default="skip")
    preview = ticked()

    def upload(self) -> FileStorage | None:
        """The file sent, if one was chosen."""
        sent = self.bundle.data
        return sent if isinstance(sent, FileStorage) and sent.filename else None


class ApiImportForm(Form):
    """``POST /api/v1/import`` as a form: the bundle is its ``file`` field."""

    error_codes: ClassVar[dict[str, str]] = {"file": "no_file"}

    file = AnyFileField(
        validators=[
            FileSent(_l("Send the bundle as the request body or as the “file” field of a form."))
        ]
    )
    on_conflict = choice()
