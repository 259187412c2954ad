"""A YesWiki site read into an import plan: pages with every revision, authors, dates,
comments, Bazar entries and attached files.

What YesWiki stores: one row per revision in ``<prefix>pages`` (``tag``, ``time`` in the
server's local time, ``body``, ``owner``, ``user`` — the editor's WikiName or IP
address —, ``latest``, ``comment_on`` for comments), read rights in ``<prefix>acls``,
Bazar markers in ``<prefix>triples`` (``fiche_bazar`` for entries, ``liste`` for lists),
Bazar forms in ``<prefix>nature`` (one field a line, its parts separated by ``***``).
Bazar entries and lists are pages whose body is JSON.

The choices made here (``docs/importing-a-wiki.md`` explains them to users):

- revisions keep their order and dates, converted from ``timezone`` to UTC; authors keep
  their WikiName, and IP addresses become "anonymous";
- system pages (headers, menus, styles, ``Gerer…`` pages…) are skipped;
- a page whose read rights are not "everyone" (``*``) is skipped, with a report line:
  this commons has no pages hidden from readers, and a page is never published by mistake;
- comments on a page become its discussion page, one revision per comment by its author;
- a Bazar entry becomes a page with its fields as a table (list values as their labels,
  files as the imported media), tagged with its form; its raw JSON goes to the import
  record; Bazar lists are used for those labels and not imported as pages;
- attached files become media under the licence given, by the author of the revision
  they were attached to; thumbnails and trashed files are skipped.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from .. import media
from ..bundles.layout import Progress
from ..errors import CommonsError, ValidationError
from ..slugs import MAX_SLUG_LENGTH, slugify
from . import yeswiki_markup
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
from .sqldump import Row
from .yeswiki_source import Attachment, Site, open_site

#: Pages YesWiki uses for its own layout and administration.
SYSTEM_PAGES = frozenset(
    {"PageHeader", "PageFooter", "PageMenuHaut", "PageMenu", "PageTitre", "PageCss",
     "PageRapideHaut", "PageColonneDroite", "PageLogin", "BazaR", "MotDePassePerdu",
     "ParametresUtilisateur", "TableauDeBordDeCeWiki", "DerniersChangements",
     "DerniersChangementsRSS", "DerniersCommentaires", "ReglesDeFormatage", "RechercheTexte",
     "PagesOrphelines", "PagesACreer", "WikiAdmin", "MesPages", "MesParametres"}
)  # fmt: skip
_SYSTEM_PREFIXES = ("Gerer", "Admin")
_TYPE = "http://outils-reseaux.org/_vocabulary/type"
_TAG = "http://outils-reseaux.org/_vocabulary/tag"
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-zß-ÿ0-9])(?=[A-ZÀ-Þ])")
_FIRST_HEADING = re.compile(r"^\s*={2,6}(.+?)={2,6}\s*$", re.M)
#: Bazar field types whose value is a list key (``liste``) or keys (``checkbox``).
_LIST_FIELDS = ("liste", "checkbox", "radio", "enumlistedeliste")


def read_yeswiki(
    path: str,
    *,
    prefix: str = "yeswiki_",
    files: str | None = None,
    timezone: str = "Europe/Paris",
    license: str = "CC-BY-SA-4.0",
    site_url: str | None = None,
    progress: Progress | None = None,
) -> ImportPlan:
    """Read a YesWiki backup into an import plan; writes nothing. ``progress(done, total)``
    follows the reading of the dump. ``site_url``, the site's address as its page
    addresses start (``https://exemple.org/?``), gives each page its origin.

    Raises ValidationError, naming the problem, for a backup that cannot be read, an
    unknown time zone, an address that is not http(s) or a licence that cannot enter
    this commons.
    """
    zone = _zone(timezone)
    spdx = checked_license(license)
    if site_url is not None and not site_url.startswith(("http://", "https://")):
        raise ValidationError(
            _l("“%(url)s” must be an http:// or https:// address.", url=site_url[:100]),
            code="site_url_invalid",
        )
    with open_site(path, prefix=prefix, files=files, progress=progress) as site:
        return _Reader(site, zone, spdx, site_url).plan()


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(
            _l("Unknown time zone “%(zone)s”: use a name like Europe/Paris.", zone=name[:60]),
            code="timezone_invalid",
        ) from error


def page_slug(tag: str) -> str:
    """The address of a YesWiki page here: ``AtelierCompost`` → ``atelier-compost``."""
    return slugify(_CAMEL_BOUNDARY.sub(" ", tag))[:MAX_SLUG_LENGTH].rstrip("-")


def author_name(user: str | None) -> str:
    """A revision's author: the WikiName, or "anonymous" for an IP address or nobody."""
    name = (user or "").strip()
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return name or gettext("anonymous")
    return gettext("anonymous")


class _Reader:
    def __init__(self, site: Site, zone: ZoneInfo, license_: str, site_url: str | None) -> None:
        self.site = site
        self.site_url = site_url
        self.zone = zone
        self.license = license_
        self.result = ImportPlan(source="YesWiki")
        self.types = {
            row["resource"]: row["value"]
            for row in site.tables["triples"]
            if row.get("property") == _TYPE
        }
        self.tags: dict[str, list[str]] = defaultdict(list)
        for row in site.tables["triples"]:
            if row.get("property") == _TAG and str(row.get("value") or "").strip():
                self.tags[row["resource"]].append(str(row["value"]))
        self.revisions: dict[str, list[Row]] = defaultdict(list)
        self.comments: dict[str, list[Row]] = defaultdict(list)
        for row in sorted(
            site.tables["pages"], key=lambda row: (str(row["time"]), row.get("id") or 0)
        ):
            self.revisions[row["tag"]].append(row)
        self.read_rights = {
            row["page_tag"]: row["list"]
            for row in site.tables["acls"]
            if row.get("privilege") == "read"
        }
        self.lists = self._lists()
        self.forms = {str(row["bn_id_nature"]): row for row in site.tables["nature"]}
        self.imported: set[str] = set()
        # (tag, file name) → (media name, kind), filled from the attachments first.
        self.media: dict[tuple[str, str], tuple[str, str]] = {}
        self.media_by_path: dict[str, tuple[str, str]] = {}

    def plan(self) -> ImportPlan:
        tags = self._page_tags()
        self.imported = set(tags)
        self._attachments()
        taken: set[str] = set()
        for tag in tags:
            slug = _free(page_slug(tag), taken)
            taken.add(slug)
            add_page(self.result, self._page(tag, slug), tag)
        for tag, comments in sorted(self.comments.items()):
            if tag in self.imported:
                discussion = self._discussion(tag, comments, taken)
                taken.add(discussion.slug)
                add_page(self.result, discussion, comments[0]["tag"])
                continue
            reason = str(_l("a comment on a page that is not imported"))
            self.result.skipped.extend(Skipped(row["tag"], reason) for row in comments)
        return self.result

    # Which pages ---------------------------------------------------------------------

    def _page_tags(self) -> list[str]:
        kept = []
        for tag, rows in self.revisions.items():
            comment_on = rows[-1].get("comment_on") or ""
            if comment_on:
                self.comments[comment_on].append(rows[-1])
                continue
            reason = self._skip_reason(tag, rows)
            if reason:
                self.result.skipped.append(Skipped(tag, str(reason)))
            else:
                kept.append(tag)
        return kept

    def _skip_reason(self, tag: str, rows: list[Row]) -> Any:
        if tag in SYSTEM_PAGES or tag.startswith(_SYSTEM_PREFIXES):
            return _l("a YesWiki system page")
        if self.types.get(tag) == "liste" or _json(rows[-1]["body"]).get("titre_liste"):
            return _l("a Bazar list: its values are shown in the entries that use it")
        rights = self.read_rights.get(tag, "*")
        if "*" not in [line.strip() for line in rights.splitlines()]:
            return _l(
                "readable only by “%(who)s” on YesWiki, and pages here are public",
                who=", ".join(rights.split())[:120],
            )
        if not rows[-1]["body"].strip():
            return _l("empty (deleted on YesWiki)")
        return None

    # Pages ---------------------------------------------------------------------------

    def _page(self, tag: str, slug: str) -> PlannedPage:
        rows = self.revisions[tag]
        if self.types.get(tag) == "fiche_bazar" or "id_typeannonce" in _json(rows[-1]["body"]):
            return self._entry(tag, slug, rows)
        title = _title(rows[-1]["body"], tag)
        revisions = [
            self._revision(row, _without_title(self._convert(tag, row["body"]), title))
            for row in rows
        ]
        return PlannedPage(
            slug, title, self.license, revisions, tags=self.tags[tag], url=self._url(tag)
        )

    def _convert(self, tag: str, body: str) -> str:
        context = yeswiki_markup.Context(
            page_slug=page_slug, media=lambda file: self._attached(tag, file)
        )
        conversion = yeswiki_markup.convert(body, context)
        self._note(tag, conversion)
        return conversion.markdown

    def _note(self, tag: str, conversion: yeswiki_markup.Conversion) -> None:
        """Report what the conversion of a page's text met, once per page and construct."""
        for construct in conversion.unconverted:
            if (tag, construct) not in self.result.unconverted:
                self.result.unconverted.append((tag, construct))
        for target in sorted(conversion.links):
            if target not in self.imported and (tag, target) not in self.result.broken_links:
                self.result.broken_links.append((tag, target))

    def _revision(self, row: Row, body: str) -> PlannedRevision:
        return PlannedRevision(
            author=author_name(row.get("user")), created_at=self._utc(row["time"]), body=body
        )

    def _discussion(self, tag: str, comments: list[Row], taken: set[str]) -> PlannedPage:
        """A page's comments as its discussion page: one revision per comment, by its author."""
        title = _title(self.revisions[tag][-1]["body"], tag)
        slug = _free(page_slug(tag)[: MAX_SLUG_LENGTH - 11] + "-discussion", taken)
        revisions: list[PlannedRevision] = []
        text = f"# {yeswiki_markup.escape(gettext('Discussion: %(title)s', title=title))}\n"
        for row in sorted(comments, key=lambda row: str(row["time"])):
            author = author_name(row.get("user"))
            moment = self._utc(row["time"])
            heading = f"\n## {yeswiki_markup.escape(author)}, {moment:%Y-%m-%d %H:%M} UTC\n\n"
            text += heading + self._convert(tag, row["body"])
            revisions.append(
                PlannedRevision(author, moment, text, summary=gettext("Comment from YesWiki"))
            )
        return PlannedPage(
            slug, gettext("Discussion: %(title)s", title=title), self.license, revisions
        )

    # Bazar ---------------------------------------------------------------------------

    def _lists(self) -> dict[str, dict[str, str]]:
        """Each Bazar list's labels by key; lists store them as an object or an array."""
        lists = {}
        for tag, rows in self.revisions.items():
            data = _json(rows[-1]["body"])
            labels = data.get("label")
            if "titre_liste" not in data or not isinstance(labels, dict | list):
                continue
            items = labels.items() if isinstance(labels, dict) else enumerate(labels)
            lists[tag] = {str(key): str(value) for key, value in items}
        return lists

    def _entry(self, tag: str, slug: str, rows: list[Row]) -> PlannedPage:
        revisions = []
        for row in rows:
            data = _json(row["body"])
            revisions.append(self._revision(row, self._entry_body(data)))
        latest = _json(rows[-1]["body"])
        form = self.forms.get(str(latest.get("id_typeannonce")))
        tags = list(self.tags[tag])
        if form and form.get("bn_label_nature"):
            tags.append(str(form["bn_label_nature"]))  # the form's name, as on YesWiki
        title = str(latest.get("bf_titre") or _CAMEL_BOUNDARY.sub(" ", tag))
        self.result.raw.setdefault("bazar_entries", {})[slug] = latest
        return PlannedPage(slug, title, self.license, revisions, tags=tags, url=self._url(tag))

    def _entry_body(self, data: dict[str, Any]) -> str:
        """A Bazar entry as a readable table of its form's fields, then any other value."""
        form = self.forms.get(str(data.get("id_typeannonce")))
        rows = []
        # The title is the page's; the others are Bazar's own bookkeeping.
        shown = {"bf_titre", "id_typeannonce", "id_fiche", "date_creation_fiche",
                 "date_maj_fiche", "statut_fiche", "createur", "categorie_fiche"}  # fmt: skip
        for field_type, key, label, list_name in _form_fields(form):
            value = data.get(key)
            if key in shown or value in (None, ""):
                continue
            shown.add(key)
            rows.append((label, self._field_value(field_type, list_name, value)))
        for key, value in data.items():
            if (
                key not in shown
                and value not in (None, "")
                and isinstance(value, str | int | float)
            ):
                rows.append((key, self._field_value("", "", value)))
        description = gettext("Bazar entry imported from YesWiki.")
        lines = [f"*{yeswiki_markup.escape(description)}*", ""]
        if rows:
            header = (gettext("Field"), gettext("Value"))
            lines += ["| {} | {} |".format(*header), "| --- | --- |"]
            lines += [f"| {_cell(label)} | {value} |" for label, value in rows]
        return "\n".join(lines) + "\n"

    def _field_value(self, field_type: str, list_name: str, value: Any) -> str:
        text = str(value)
        if field_type in _LIST_FIELDS and list_name in self.lists:
            labels = self.lists[list_name]
            return _cell(", ".join(labels.get(key.strip(), key.strip()) for key in text.split(",")))
        found = self.media_by_path.get(text)
        if found:
            name, kind = found
            return (
                f"![{_cell(name)}](media:{name})"
                if kind == "image"
                else f"[{_cell(name)}](media:{name})"
            )
        return _cell(text)

    # Files ---------------------------------------------------------------------------

    def _attachments(self) -> None:
        for path in self.site.other_files:
            self.result.skipped.append(Skipped(f"files/{path}", str(_l("not an attached file"))))
        latest: dict[tuple[str, str], Attachment] = {}
        for attachment in self.site.attachments:
            reason = self._file_skip_reason(attachment)
            if reason:
                self.result.skipped.append(Skipped(f"files/{attachment.path}", str(reason)))
                continue
            key = (attachment.tag, attachment.file_name.lower())
            older = latest.get(key)
            if older is not None and older.upload_date > attachment.upload_date:
                older, attachment = attachment, older
            latest[key] = attachment
            if older is not None:
                reason = str(_l("replaced by a later upload of the same file"))
                self.result.skipped.append(Skipped(f"files/{older.path}", reason))
        taken: set[str] = set()
        for key, attachment in sorted(latest.items()):
            planned = self._media(attachment, taken)
            if planned is not None:
                taken.add(planned.name)
                self.result.media.append(planned)
                self.media[key] = (planned.name, planned.kind)
                self.media_by_path[attachment.path.rsplit("/", 1)[-1]] = (
                    planned.name,
                    planned.kind,
                )

    def _file_skip_reason(self, attachment: Attachment) -> Any:
        if attachment.trashed:
            return _l("in YesWiki's trash")
        if attachment.thumbnail:
            return _l("a thumbnail YesWiki made")
        if attachment.tag not in self.imported:
            return _l("attached to a page that is not imported")
        return None

    def _media(self, attachment: Attachment, taken: set[str]) -> PlannedMedia | None:
        try:
            data = self.site.read(attachment)
            file_type = media_type(data)
        except CommonsError as error:
            self.result.skipped.append(Skipped(f"files/{attachment.path}", str(error.message)))
            return None
        stem = f"{page_slug(attachment.tag)}-{attachment.name}"
        name = media.clean_name(f"{stem}.{file_type.extension}", file_type)
        base, extension = name.rsplit(".", 1)
        name = _free(base, {item.rsplit(".", 1)[0] for item in taken}) + f".{extension}"
        uploaded = self._utc(_date14(attachment.upload_date))
        return PlannedMedia(
            name=name,
            kind=file_type.kind,
            title=attachment.name.replace("_", " ")[:200],
            license=self.license,
            data=data,
            author=self._uploader(attachment),
            created_at=uploaded,
        )

    def _uploader(self, attachment: Attachment) -> str:
        """Who attached a file: the author of the page's revision it was attached to."""
        moment = _date14(attachment.page_date)
        rows = self.revisions.get(attachment.tag, [])
        for row in rows:
            if str(row["time"]) == moment:
                return author_name(row.get("user"))
        return author_name(rows[-1].get("owner") if rows else None)

    def _attached(self, tag: str, file_name: str) -> tuple[str, str] | None:
        return self.media.get((tag, file_name.replace(" ", "_").lower()))

    def _url(self, tag: str) -> str | None:
        """A page's address on the YesWiki site, when the site's address was given."""
        url = f"{self.site_url}{tag}" if self.site_url else None
        return url if url and len(url) <= 500 else None

    def _utc(self, value: Any) -> datetime:
        """A YesWiki date (the server's local time, in ``self.zone``) in UTC."""
        try:
            local = datetime.fromisoformat(str(value)).replace(tzinfo=None)
        except ValueError as error:
            raise ValidationError(
                _l("The dump has a date that cannot be read: “%(date)s”.", date=str(value)[:40]),
                code="dump_invalid",
            ) from error
        return local.replace(tzinfo=self.zone).astimezone(UTC)


def _form_fields(form: Row | None) -> list[tuple[str, str, str, str]]:
    """A Bazar form's fields: (type, key in the entry's JSON, label, list name)."""
    if not form:
        return []
    fields = []
    for line in str(form.get("bn_template") or "").splitlines():
        parts = [part.strip() for part in line.split("***")]
        if len(parts) < 3 or not parts[0]:
            continue
        field_type, name, label = parts[0], parts[1], parts[2] or parts[1]
        if field_type in _LIST_FIELDS:
            key = parts[6] if len(parts) > 6 and parts[6] else f"{field_type}{name}"
            fields.append((field_type, key, label, name))
        elif field_type == "fichier" or field_type == "image":
            fields.append((field_type, f"{field_type}{name}", label, ""))
        else:
            fields.append((field_type, name, label, ""))
    return fields


def _json(body: str) -> dict[str, Any]:
    text = (body or "").strip()
    if not text.startswith("{"):
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _title(body: str, tag: str) -> str:
    heading = _FIRST_HEADING.search(body or "")
    title = re.sub(r"[*/_#@%\"]{2}", "", heading.group(1)).strip() if heading else ""
    return title or _CAMEL_BOUNDARY.sub(" ", tag)


def _without_title(markdown: str, title: str) -> str:
    """The text without its first line when that is the heading the page is titled by:
    the page shows its title already."""
    first, _, rest = markdown.partition("\n")
    heading = first.lstrip("#").strip()
    if first.startswith("# ") and heading == yeswiki_markup.escape(title) and rest.strip():
        return rest.lstrip("\n")
    return markdown


def _free(slug: str, taken: set[str]) -> str:
    """``slug``, or ``slug-2``, ``slug-3``… when taken."""
    candidate, number = slug or "page", 2
    while candidate in taken:
        suffix = f"-{number}"
        candidate = slug[: MAX_SLUG_LENGTH - len(suffix)] + suffix
        number += 1
    return candidate


def _date14(value: str) -> str:
    """``20240301101500`` as ``2024-03-01 10:15:00``."""
    return f"{value[:4]}-{value[4:6]}-{value[6:8]} {value[8:10]}:{value[10:12]}:{value[12:14]}"


def _cell(text: str) -> str:
    return yeswiki_markup.escape(" ".join(str(text).split())) or " "
