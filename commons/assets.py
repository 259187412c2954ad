"""Static files fingerprinted by content, so browsers may keep them for a year."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, request

ONE_YEAR = 365 * 24 * 3600


def _build_id(app: Flask) -> str:
    """A digest of everything a page's look depends on besides the data: templates,
    static files, translations. Every worker of one deployment computes the same."""
    digest = hashlib.sha256()
    root = Path(app.root_path)
    for folder in ("templates", "static", "translations"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and path.suffix != ".po":
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def init_app(app: Flask) -> None:
    static = Path(app.static_folder or "")
    app.extensions["commons_build_id"] = _build_id(app)

    @cache
    def fingerprint(filename: str) -> str | None:
        path = static / filename
        if not path.is_file():
            return None
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]

    @app.url_defaults
    def add_fingerprint(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "v" not in values:
            version = fingerprint(values.get("filename", ""))
            if version:
                values["v"] = version

    def max_age(filename: str | None) -> int | None:
        # A fingerprinted address changes with the file: it can be cached "forever".
        return ONE_YEAR if request.args.get("v") else 3600

    app.get_send_file_max_age = max_age  # type: ignore[method-assign]
