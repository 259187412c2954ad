"""Bundles: export pages with their attribution as one zip, and import such a zip.

A bundle (format ``commons-bundle``, version 1, described in ``docs/bundle-format.md``)
holds every selected page as Markdown and as standalone HTML, an ``index.html``, the
credits in ``CREDITS.md`` and in ``manifest.json``, the licence texts, the media files the
pages show and, optionally, every revision's text and every version of those files.

Import never trusts the zip. It first checks everything — the archive, every member's
name and size (while decompressing, so a zip bomb stops at the limit), the manifest,
every page's fields and licence, every body's sha256 — and only then writes, in one
transaction that is rolled back as a whole when anything fails. The manifest is streamed,
never held whole: its entries are built and checked one at a time, and its limits apply as
soon as they are crossed.

The modules, each depending only on those listed before it:

- ``layout``: the format's name and version, the manifest's member, the addresses a
  bundle records, where a media version goes in the zip, the chunk and spool sizes.
- ``selection``: what to export, the :class:`Selection`, and the pages it names.
- ``offline``: the bundle's presentation room, the only module here that renders Jinja
  templates or writes HTML: page HTML made to work offline, each page's standalone
  ``pages/<slug>.html`` and ``index.html``.
- ``credits_md``: ``CREDITS.md``, its header and each page's and media's section.
- ``export``: the bundle written as a zip, streamed, with its manifest, whose entries are
  shaped by :mod:`commons.serialize` (the same functions as the API's, where the format
  names a field alike).
- ``archive``: safe zip reading: the limits, member names, decompression within them.
- ``manifest_fields``: the manifest's field readers, shared by the two checks below.
- ``media_manifest``: media entries, their types and checks (files checked as uploads).
- ``manifest``: ``manifest.json`` streamed and checked, pages and revisions (types and
  checks), :func:`open_bundle` giving the checked :class:`Bundle`.
- ``import_report``: what an import did, page by page and media by media.
- ``importer``: the plan (skip, rename or merge) and its application in one
  transaction (or its preview, undone); who may import; the upload's copy.
- ``import_log``: the log of imports, written with each import, read by administrators.
- ``pending``: bundles kept after a preview until the importer confirms.

The rest of the project uses the names below, as ``bundles.export_bundle(...)``.
"""

from . import import_log, pending
from .archive import Limits, unsafe_member_name
from .export import ExportResult, export_bundle, export_to_temporary_file
from .import_report import ImportedMedia, ImportedPage, ImportReport
from .importer import conflict_choice, import_bundle, spool
from .layout import CHUNK, FORMAT, MANIFEST, VERSION
from .manifest import Bundle, open_bundle
from .selection import Selection, selected_pages

__all__ = [
    "CHUNK",
    "FORMAT",
    "MANIFEST",
    "VERSION",
    "Bundle",
    "ExportResult",
    "ImportReport",
    "ImportedMedia",
    "ImportedPage",
    "Limits",
    "Selection",
    "conflict_choice",
    "export_bundle",
    "export_to_temporary_file",
    "import_bundle",
    "import_log",
    "open_bundle",
    "pending",
    "selected_pages",
    "spool",
    "unsafe_member_name",
]
