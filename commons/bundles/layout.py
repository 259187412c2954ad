"""The bundle format: its name and version, the manifest's member, the addresses a bundle
records for its pages and media, and where a media version goes in the zip.

Shared by the export and the import; it depends on nothing else of the package.
"""

from __future__ import annotations

from collections.abc import Callable

FORMAT = "commons-bundle"
VERSION = 1
MANIFEST = "manifest.json"

#: Bytes read from a zip member or an upload at a time.
CHUNK = 64 * 1024
#: An upload stays in memory up to this size, then goes to a temporary file.
SPOOL_IN_MEMORY = 8 * 1024 * 1024

#: Told (done, total) as an export or an import goes.
Progress = Callable[[int, int], None]


def page_url(base: str | None, slug: str, revision: int | None = None) -> str | None:
    """A page's address on the commons at ``base`` (None when unknown), at a revision."""
    if base is None:
        return None
    return f"{base}wiki/{slug}" + (f"?rev={revision}" if revision else "")


def media_url(base: str | None, name: str) -> str | None:
    """A media's address on the commons at ``base`` (None when unknown)."""
    return None if base is None else f"{base}media/{name}"


def media_member(name: str, number: int) -> str:
    """Where version ``number`` of the media ``name`` is in a bundle: ``media/<name>/<n>.<ext>``."""
    return f"media/{name}/{number}.{name.rsplit('.', 1)[-1]}"
