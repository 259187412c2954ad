"""Thin blueprints: parse the request, call a service, render or redirect."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from .. import licenses, permissions, sheets, themes, transaction
from ..errors import CommonsError
from ..login import acting_user


def register_blueprints(app: Flask) -> None:
    from . import (
        account,
        admin,
        api,
        auth,
        bundles,
        experiments,
        feeds,
        media,
        misc,
        notifications,
        password,
        profile,
        search,
        thesaurus,
        watching,
        wiki,
    )

    blueprints = (
        wiki,
        auth,
        account,
        feeds,
        api,
        search,
        bundles,
        media,
        admin,
        misc,
        experiments,
        thesaurus,
        password,
        watching,
        notifications,
        profile,
    )
    for module in blueprints:
        app.register_blueprint(module.bp)
    # Templates ask the same rules as the views to decide which actions to offer.
    app.jinja_env.globals.update(permissions=permissions, acting_user=acting_user)
    app.jinja_env.globals.update(
        sheet_fields=sheets.fields_of,
        field_label=lambda name: sheets.FIELD_LABELS.get(name, name),
        status_label=lambda key: sheets.STATUS_LABELS.get(key, key),
        theme_label=themes.label,
    )
    app.jinja_env.filters["license_name"] = licenses.name_of
    app.register_error_handler(CommonsError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(
    status: int, code: str, message: object, *, bearer_error: str | None = None
) -> tuple[Response, int]:
    """The API's error shape: ``{"error": {"code", "message"}}``.

    A 401 says how to authenticate (``WWW-Authenticate: Bearer``), with the RFC 6750
    ``bearer_error`` ("invalid_token", "insufficient_scope") when a token was refused.
    """
    response = jsonify({"error": {"code": code, "message": str(message)}})
    if status == 401 or bearer_error:
        challenge = f'Bearer error="{bearer_error}"' if bearer_error else "Bearer"
        response.headers["WWW-Authenticate"] = challenge
    return response, status


HTTP_MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Please log in to continue."),
    403: _l("You do not have the rights to do this."),
    404: _l("This page does not exist."),
    405: _l("This action is not allowed here."),
    413: _l("What you sent is too large."),
    429: _l("Too many requests: please wait a little and try again."),
    500: _l("Something went wrong on our side. Nothing you wrote was saved twice or lost."),
}

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "too_many_requests",
    500: "server_error",
}


def _domain_error(error: CommonsError):  # noqa: ANN202 - a Flask response tuple
    # The answer is an error, so the request's work will not commit: dropping it now
    # lets the error page read the database without flushing a half-made change.
    transaction.rollback()
    if wants_json():
        return json_error(error.status, error.code, error.message)
    return render_template("error.html", status=error.status, message=error.message), error.status


def _http_error(error: HTTPException):  # noqa: ANN202
    status = error.code or 500
    message = HTTP_MESSAGES.get(status, error.description)
    if wants_json():
        if status == 400 and error.description and "CSRF" in error.description:
            message = _l("The security token is missing or expired.")
        return json_error(status, HTTP_CODES.get(status, "error"), message)
    if status == 404:
        from ._helpers import not_found_page

        return not_found_page(), 404
    return render_template("error.html", status=status, message=message), status
