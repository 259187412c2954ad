"""Interface language: chosen by the reader, else the browser, else the default."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, Request, current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_login import current_user

LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


def select_locale() -> str:
    """The explicit choice (account, then session), else Accept-Language, else the default."""
    supported = current_app.config["LOCALES"]
    if not has_request_context():
        # The CLI and background work speak the configured default language.
        return current_app.config["DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in supported:
        return chosen
    return browser_locale(request)


def browser_locale(asking: Request) -> str:
    """The supported language the request's browser prefers (Accept-Language), else the
    default: what a visitor without an account or a session reads."""
    supported = current_app.config["LOCALES"]
    return asking.accept_languages.best_match(supported) or current_app.config["DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    app.jinja_env.filters["datetime"] = _format_datetime
    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.filters["month"] = _format_month
    app.jinja_env.globals["language_names"] = LANGUAGE_NAMES
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())


def _format_datetime(value: datetime | None, fmt: str = "medium") -> str:
    return "" if value is None else format_datetime(value, fmt)


def _format_month(value: date) -> str:
    return format_date(value, "MMM y")
