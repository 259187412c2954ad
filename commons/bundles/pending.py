"""Bundles waiting, after a preview, for the importer to confirm: kept in the instance
folder under a random token, for a day at most."""

from __future__ import annotations

import re
import secrets
import shutil
import time
from pathlib import Path
from typing import IO

from flask import current_app

from .importer import spool

#: How long a previewed bundle waits for its confirmation.
MAX_AGE_SECONDS = 24 * 3600
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "pending-imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def keep(stream: IO[bytes]) -> str:
    """Keep an uploaded bundle (refused past the size limit); its token. Old ones go."""
    folder = _folder()
    for old in folder.glob("*.zip"):
        if old.stat().st_mtime < time.time() - MAX_AGE_SECONDS:
            old.unlink(missing_ok=True)
    token = secrets.token_hex(16)
    with spool(stream) as copy, (folder / f"{token}.zip").open("wb") as out:
        shutil.copyfileobj(copy, out)
    return token


def path(token: str | None) -> Path | None:
    """The kept bundle of ``token``, or None when there is none (or it is too old)."""
    if not token or not _TOKEN.match(token):
        return None
    kept = _folder() / f"{token}.zip"
    return kept if kept.is_file() else None


def forget(token: str | None) -> None:
    """Remove the kept bundle of ``token``, if any."""
    kept = path(token)
    if kept is not None:
        kept.unlink(missing_ok=True)
