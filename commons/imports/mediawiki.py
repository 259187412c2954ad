"""A MediaWiki XML dump (export format 0.10 or 0.11, from Special:Export or
``dumpBackup.php --full``) read with mwxml into an import plan.

Pages of the main namespace and file description pages are imported with every
revision: author (the user name; IP addresses become "anonymous"), date, edit summary
and minor flag. Redirects become redirects to their target when it is imported.
Categories become tags. Pages of other namespaces (talk, users, templates…) are
reported and skipped. Files the dump carries (``<upload>`` elements with their
contents, which mwxml refuses and are taken out of its stream) become media by their
uploader; links to files point to their description pages.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote
from xml.etree import ElementTree

import mwxml
from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from .. import attribution, media
from ..errors import CommonsError, ValidationError
from ..slugs import MAX_SLUG_LENGTH, slugify
from . import mediawiki_markup
from .plan import (
    ImportPlan,
    PlannedMedia,
    PlannedPage,
    PlannedRevision,
    Skipped,
    add_page,
    checked_license,
    media_type,
)
from .yeswiki import author_name

_MAIN, _FILE, _CATEGORY = 0, 6, 14
#: English names MediaWiki always understands, whatever the wiki's language.
_CANONICAL = {"file": _FILE, "image": _FILE, "category": _CATEGORY}


def read_mediawiki(path: str, *, license: str = "CC-BY-SA-4.0") -> ImportPlan:
    """Read a MediaWiki XML dump into an import plan; writes nothing.

    Raises ValidationError, naming the problem, when the file is not such a dump.
    """
    spdx = checked_license(license)
    if not Path(path).is_file():
        raise ValidationError(_l("“%(path)s” is not a file.", path=path), code="mediawiki_path")
    try:
        with open(path, "rb") as handle:
            stream = _WithoutUploads(handle)
            plan = _Reader(mwxml.Dump.from_file(stream), spdx).plan()
    except CommonsError:
        raise
    except Exception as error:  # mwxml raises plain errors for XML it cannot read
        raise ValidationError(
            _l(
                "This is not a MediaWiki XML dump that can be read: %(problem)s",
                problem=str(error).split("\n", 1)[0][:200],
            ),
            code="mediawiki_invalid",
        ) from error
    _add_uploads(plan, stream.uploads, spdx)
    return plan


def _add_uploads(plan: ImportPlan, uploads: list[bytes], license_: str) -> None:
    """The files a dump carries (``dumpBackup.php --uploads --include-files``) as media,
    the last upload of each; files given by their address only are reported."""
    latest: dict[str, ElementTree.Element] = {}
    for block in uploads:
        try:
            element = ElementTree.fromstring(block)
        except ElementTree.ParseError:
            plan.skipped.append(Skipped(gettext("a file"), gettext("its <upload> cannot be read")))
            continue
        name = _child_text(element, "filename")
        if name in latest:
            reason = gettext("replaced by a later upload of the same file")
            plan.skipped.append(Skipped(name, reason))
        latest[name] = element
    taken: set[str] = set()
    for name, element in latest.items():
        contents = _child_text(element, "contents")
        if not contents:
            reason = gettext("the file itself is not in the dump")
            plan.skipped.append(Skipped(name, reason))
            continue
        try:
            data = base64.b64decode(contents, validate=False)
            file_type = media_type(data)
            media_name = media.clean_name(name.replace("_", " "), file_type)
        except (CommonsError, binascii.Error) as error:
            problem = getattr(error, "message", None) or gettext("not base64")
            plan.skipped.append(Skipped(name, str(problem)))
            continue
        if media_name in taken:
            plan.skipped.append(Skipped(name, gettext("its address is taken")))
            continue
        taken.add(media_name)
        contributor = element.find("contributor")
        user = None
        if contributor is not None:
            user = _child_text(contributor, "username") or _child_text(contributor, "ip")
        plan.media.append(
            PlannedMedia(
                name=media_name,
                kind=file_type.kind,
                title=name.rsplit(".", 1)[0].replace("_", " ")[:200],
                license=license_,
                data=data,
                author=author_name(user),
                created_at=datetime.fromisoformat(_child_text(element, "timestamp")),
                description=attribution.clean_summary(_child_text(element, "comment")),
            )
        )


class _WithoutUploads:
    """The dump as a stream, without its ``<upload>`` elements (the files, which mwxml
    refuses), which it keeps aside in ``uploads``.

    Dumps write ``<upload>`` and ``</upload>`` on lines of their own.
    """

    def __init__(self, handle: IO[bytes]) -> None:
        self.lines = iter(handle)
        self.pending = b""
        self.uploads: list[bytes] = []

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.pending) < size:
            line = next(self.lines, None)
            if line is None:
                break
            if line.lstrip().startswith((b"<upload>", b"<upload ")):
                self.uploads.append(self._upload(line))
                continue
            self.pending += line
        if size < 0:
            size = len(self.pending)
        data, self.pending = self.pending[:size], self.pending[size:]
        return data

    def _upload(self, line: bytes | None) -> bytes:
        """An ``<upload>`` element, from its first line to ``</upload>``; its contents are
        dropped past what a media may weigh (base64 takes 4 bytes for 3)."""
        limit = current_app.config["MAX_MEDIA_BYTES"] * 4 // 3 + 4096
        block: list[bytes] = []
        size = 0
        while line is not None:
            size += len(line)
            if size <= limit:
                block.append(line)
            if b"</upload>" in line:
                break
            line = next(self.lines, None)
        if size > limit:
            return b"<upload><filename>" + _filename(b"".join(block)) + b"</filename></upload>"
        return b"".join(block)


def _filename(block: bytes) -> bytes:
    start = block.find(b"<filename>")
    end = block.find(b"</filename>", start)
    return block[start + len(b"<filename>") : end] if 0 <= start < end else b"?"


def _child_text(element: ElementTree.Element, tag: str) -> str:
    child = element.find(tag)
    return (child.text or "").strip() if child is not None else ""


class _Reader:
    def __init__(self, dump: Any, license_: str) -> None:
        self.dump = dump
        self.license = license_
        self.result = ImportPlan(source="MediaWiki")
        self.prefixes: dict[str, int] = dict(_CANONICAL)
        for namespace in dump.site_info.namespaces or []:
            if namespace.name:
                self.prefixes[namespace.name.lower()] = namespace.id
        self.taken: set[str] = set()
        self.redirects: dict[str, str] = {}
        self.links: list[tuple[str, str]] = []
        self.context = mediawiki_markup.Context(page_slug=self.slug, namespace=self.namespace)

    def plan(self) -> ImportPlan:
        base = getattr(self.dump.site_info, "dbname", None) or "MediaWiki"
        for page in self.dump:
            self._page(page)
        imported = {page.slug for page in self.result.pages}
        for slug, target in self.redirects.items():
            if target in imported and slug not in imported:
                self.result.redirects[slug] = target
            else:
                self.result.skipped.append(
                    Skipped(slug, gettext("a redirect to a page that is not imported"))
                )
        self.result.raw["site"] = base
        known = imported | set(self.result.redirects)
        self.result.broken_links = [
            (title, target) for title, target in self.links if self.slug(target) not in known
        ]
        return self.result

    def namespace(self, title: str) -> tuple[str, str]:
        prefix, _, name = title.partition(":")
        number = self.prefixes.get(prefix.strip().lower()) if name else None
        if number == _FILE:
            return "file", name.strip()
        if number == _CATEGORY:
            return "category", name.strip()
        return "", title

    def slug(self, title: str) -> str:
        """A page's address here; files' description pages keep their namespace."""
        namespace, name = self.namespace(title)
        words = gettext("file %(name)s", name=name) if namespace == "file" else title
        return slugify(words.replace("_", " "))[:MAX_SLUG_LENGTH].rstrip("-")

    def _page(self, page: Any) -> None:
        title = str(page.title)
        if page.namespace not in (_MAIN, _FILE):
            reason = gettext("in the namespace %(number)s, not imported", number=page.namespace)
            self.result.skipped.append(Skipped(title, reason))
            return
        slug = self.slug(title)
        if not slug or slug in self.taken:
            self.result.skipped.append(Skipped(title, gettext("its address is taken")))
            return
        self.taken.add(slug)
        if page.redirect:
            self.redirects[slug] = self.slug(str(page.redirect))
            return
        revisions, tags, links = [], [], set()
        for revision in page:
            conversion = mediawiki_markup.convert(revision.text or "", self.context)
            for construct in conversion.unconverted:
                if (title, construct) not in self.result.unconverted:
                    self.result.unconverted.append((title, construct))
            tags, links = conversion.categories, conversion.links
            revisions.append(
                PlannedRevision(
                    author=self._author(revision.user),
                    created_at=datetime.fromtimestamp(revision.timestamp.unix(), UTC),
                    body=conversion.markdown,
                    summary=(revision.comment or "")[:200],
                    minor=bool(revision.minor),
                )
            )
        if not revisions:
            self.result.skipped.append(Skipped(title, gettext("no revision in the dump")))
            return
        shown = title.replace("_", " ")
        if self.namespace(title)[0] == "file":
            shown = gettext("File: %(name)s", name=self.namespace(title)[1])
        planned = PlannedPage(
            slug,
            shown,
            self.license,
            revisions,
            url=self._url(title),
            tags=tags,
        )
        add_page(self.result, planned, title)
        self.links.extend((title, target) for target in sorted(links))

    def _url(self, title: str) -> str | None:
        """The page's address on the wiki, from the dump's main page address (``<base>``):
        each imported revision names it as its origin."""
        base = str(getattr(self.dump.site_info, "base", None) or "")
        if not base.startswith(("http://", "https://")) or "/" not in base.split("//", 1)[1]:
            return None
        url = base.rsplit("/", 1)[0] + "/" + quote(title.replace(" ", "_"), safe=":/")
        return url if len(url) <= 500 else None

    def _author(self, user: Any) -> str:
        """The user name; an IP address (or a hidden user) becomes "anonymous"."""
        return author_name(str(user.text) if user is not None and user.text else None)
