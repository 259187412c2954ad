"""commons: a collaborative knowledge-commons wiki.

The app factory reads like a table of contents: each ``configure_*`` step
below does one thing.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import config as config_module
from .extensions import babel, csrf, db, login_manager, migrate


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application; ``config`` overrides every other setting (tests use it)."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    configure_settings(app, config)
    configure_database(app)
    configure_extensions(app)
    configure_i18n(app)
    configure_blueprints(app)
    configure_page_cache(app)
    configure_security(app)
    configure_assets(app)
    configure_search(app)
    configure_jobs(app)
    configure_cli(app)
    return app


def configure_settings(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Defaults, then ``instance/config.json``, then ``COMMONS_*`` variables, then overrides."""
    settings = config_module.load(app.instance_path, overrides)
    app.config.update({f"COMMONS_{key}": value for key, value in settings.items()})
    app.config.update(settings)
    app.config["SECRET_KEY"] = settings["SECRET_KEY"]
    app.config["SQLALCHEMY_DATABASE_URI"] = settings["DATABASE_URL"]
    # A server may drop an idle connection, so PostgreSQL's are tested as they leave the
    # pool; a SQLite file cannot drop one, and the test would double every query's cost
    # on a cached page view.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "pool_pre_ping": not settings["DATABASE_URL"].startswith("sqlite")
    }
    # Whole requests are capped a little above the body limit so that an oversized
    # body gets the friendly 413 from the page service rather than a bare one.
    app.config["MAX_CONTENT_LENGTH"] = max(
        settings["MAX_BODY_BYTES"] * 4 + 100_000,
        settings["MAX_BUNDLE_BYTES"],
        settings["MAX_MEDIA_BYTES"] + 100_000,
    )
    app.config["BABEL_DEFAULT_LOCALE"] = settings["DEFAULT_LOCALE"]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = os.path.join(app.root_path, "translations")
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL and foreign keys on every SQLite connection."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def configure_database(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))


def configure_extensions(app: Flask) -> None:
    from . import login, transaction

    transaction.init_app(app)
    csrf.init_app(app)
    login.init_app(app)


def configure_i18n(app: Flask) -> None:
    from . import i18n

    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)


def configure_blueprints(app: Flask) -> None:
    from .views import register_blueprints

    register_blueprints(app)


def configure_page_cache(app: Flask) -> None:
    from .page_cache import PageCache, VisitorFastPath

    app.extensions["commons_page_cache"] = PageCache(app.config["PAGE_CACHE_BYTES"])
    # Inside the address middlewares of configure_security: it sees the corrected request.
    app.wsgi_app = VisitorFastPath(app, app.wsgi_app)  # type: ignore[method-assign]


def configure_security(app: Flask) -> None:
    from . import security

    security.init_app(app)


def configure_assets(app: Flask) -> None:
    from . import assets

    assets.init_app(app)


def configure_search(app: Flask) -> None:
    from . import search

    search.init_app(app)


def configure_jobs(app: Flask) -> None:
    from . import jobs, notifications

    jobs.init_app(app)
    notifications.init_app(app)


def configure_cli(app: Flask) -> None:
    from . import cli

    cli.init_app(app)


__all__ = ["create_app", "db", "login_manager"]
