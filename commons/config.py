"""Configuration: defaults, then an instance file, then ``COMMONS_*`` variables."""

from __future__ import annotations

import json
import os
from typing import Any

#: Defaults; every key can be overridden by an environment variable ``COMMONS_<KEY>``.
DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # None: SQLite in the instance folder
    "SECRET_KEY": None,  # None: generated once and kept in the instance folder
    "INDEX_DIR": None,  # None: <instance>/index
    "MEDIA_DIR": None,  # None: <instance>/media
    #: A refreshed list of territories (``commons territories refresh``); while the
    #: file does not exist, the list shipped with commons is used.
    "TERRITORIES_FILE": None,  # None: <instance>/territories.json.gz
    "IMPORTS_DIR": None,  # None: <instance>/imports, the records of wiki imports
    "DEFAULT_LOCALE": "fr",
    "LOCALES": ["fr", "en"],
    "MAX_BODY_BYTES": 1_000_000,
    "MAX_TITLE_LENGTH": 200,
    "MAX_BUNDLE_BYTES": 200_000_000,
    "MAX_BUNDLE_MEMBER_BYTES": 200_000_000,  # the manifest, streamed: ~25 MB for 10,000 pages
    "MAX_BUNDLE_TOTAL_BYTES": 500_000_000,
    "MAX_BUNDLE_PAGES": 20_000,
    "MAX_BUNDLE_REVISIONS": 200_000,  # page revisions and media versions
    "MAX_BUNDLE_MEMBERS": 200_000,
    "MAX_MEDIA_BYTES": 20_000_000,
    "MAX_BOOKLET_PAGES": 300,  # larger selections are refused as PDF (a bundle holds any)
    "ANONYMOUS_EDITING": False,
    "REGISTRATION_OPEN": True,
    #: The version of the contributors' terms: a new one asks everyone to agree again.
    "TERMS_VERSION": "1",
    "DEMO_CONTENT": True,
    "PAGE_SIZE": 50,
    "SITE_NAME": "commons",
    "SEARCH_SYNONYMS": None,  # path to an extra synonyms file
    "PAGE_CACHE_BYTES": 32_000_000,  # rendered pages kept per worker for visitors
    "TRUSTED_PROXIES": 0,  # 1 behind one reverse proxy that sets X-Forwarded-*
    #: The wiki's public address, e.g. "https://wiki.example.org"; absolute URLs use it,
    #: never the request's Host. None: each request's own host (pages cached per host).
    "BASE_URL": None,
    #: Outgoing mail: "smtp://user:password@host:587?starttls=yes", "smtps://host:465";
    #: None writes each mail to <instance>/outbox/ as an .eml file instead.
    "SMTP_URL": None,
    "MAIL_FROM": None,  # None: "<SITE_NAME> <noreply@localhost>"
    "OUTBOX_DIR": None,  # None: <instance>/outbox
    #: "redis://127.0.0.1:6379/0" runs background jobs on RQ (`commons worker`);
    #: None runs them in a thread of the process that asked for them.
    "REDIS_URL": None,
    "JOB_QUEUE": "commons",
    #: Seconds between the attempts of a failed job (one retry per value).
    "JOB_RETRY_DELAYS": ["30", "300", "1800"],
    #: Seconds a watched page must stay quiet before its "immediate" notification leaves,
    #: so one editing session makes one mail.
    "NOTIFICATION_DELAY": 600,
    #: Email verification: "optional" (a link is mailed; mails about changes and password
    #: resets go to any address), "required" (registration needs an address, and only
    #: verified addresses get mails), "off" (no verification mail).
    "EMAIL_VERIFICATION": "optional",
}


def _parse(value: str, default: Any) -> Any:
    """Read an environment string as the type of its default."""
    if isinstance(default, bool):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(value)
    if isinstance(default, list):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def load(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Layer the configuration: defaults, ``instance/config.json``, env vars, overrides."""
    settings = dict(DEFAULTS)
    instance_file = os.path.join(instance_path, "config.json")
    if os.path.exists(instance_file):
        with open(instance_file, encoding="utf-8") as handle:
            settings.update(json.load(handle))
    for key, default in DEFAULTS.items():
        env = os.environ.get(f"COMMONS_{key}")
        if env is not None:
            settings[key] = _parse(env, default)
    if overrides:
        settings.update({k.removeprefix("COMMONS_"): v for k, v in overrides.items()})
    if not settings["DATABASE_URL"]:
        settings["DATABASE_URL"] = "sqlite:///" + os.path.join(instance_path, "commons.db")
    settings["INDEX_DIR"] = settings["INDEX_DIR"] or os.path.join(instance_path, "index")
    settings["MEDIA_DIR"] = settings["MEDIA_DIR"] or os.path.join(instance_path, "media")
    settings["TERRITORIES_FILE"] = settings["TERRITORIES_FILE"] or os.path.join(
        instance_path, "territories.json.gz"
    )
    settings["IMPORTS_DIR"] = settings["IMPORTS_DIR"] or os.path.join(instance_path, "imports")
    settings["OUTBOX_DIR"] = settings["OUTBOX_DIR"] or os.path.join(instance_path, "outbox")
    if settings["DEFAULT_LOCALE"] not in settings["LOCALES"]:
        raise ValueError(f"COMMONS_DEFAULT_LOCALE must be one of {settings['LOCALES']}")
    if not settings["SECRET_KEY"]:
        settings["SECRET_KEY"] = _instance_secret(instance_path)
    return settings


def _instance_secret(instance_path: str) -> str:
    """A random secret kept in the instance folder so sessions survive restarts."""
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        os.makedirs(instance_path, exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(os.urandom(32).hex())
    with open(path, encoding="utf-8") as handle:
        return handle.read().strip()
