"""SQLAlchemy 2.0 typed models: users, pages, append-only revisions, tags, links."""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db
from .text import tag_key


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns timezone-aware UTC (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use UTC-aware datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Role(enum.StrEnum):
    READER = "reader"
    MEMBER = "member"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


class Kind(enum.StrEnum):
    TOOL = "tool"
    EXPERIMENT = "experiment"
    SYNTHESIS = "synthesis"
    PAGE = "page"


class Action(enum.StrEnum):
    CREATE = "create"
    EDIT = "edit"
    REVERT = "revert"
    RENAME = "rename"
    DELETE = "delete"
    RESTORE = "restore"
    IMPORT = "import"
    MERGE = "merge"


def new_session_key() -> str:
    """A random value that every session and remember-me cookie of a user must carry."""
    return secrets.token_hex(16)


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    #: The name folded for comparison (NFKC + casefold, see ``auth.name_key``): "Élodie"
    #: and "ÉLODIE" are one account, on SQLite as on PostgreSQL.
    name_key: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER.value)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Preferred interface language; None follows the browser.
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Part of every session and remember-me cookie; a new one on logout ends them all.
    session_key: Mapped[str] = mapped_column(String(32), default=new_session_key)

    # flask-login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return not self.blocked

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """What the cookies carry: the id and the session key, checked by the user loader."""
        return f"{self.id}:{self.session_key}"

    def has_role(self, role: Role) -> bool:
        return not self.blocked and Role(self.role).rank >= role.rank


class TokenScope(enum.StrEnum):
    """What an API token may do: read (GET only) or also write."""

    READ = "read"
    WRITE = "write"


class LicenseAgreement(db.Model):
    """A contributor agreed to release their contributions under ``license``, as the
    terms of ``terms_version`` say; asked again when the licence or the terms change."""

    __tablename__ = "license_agreements"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    license: Mapped[str] = mapped_column(String(32), primary_key=True)
    terms_version: Mapped[str] = mapped_column(String(32))
    agreed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImportLog(db.Model):
    """One bundle imported: who, from where, when, and what it created, merged or skipped
    (MediaWiki's import log); administrators read it."""

    __tablename__ = "import_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: None for the command line (or an account deleted since).
    importer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    importer_name: Mapped[str | None] = mapped_column(String(80))
    #: The exporting commons' address, when the bundle says it.
    source: Mapped[str | None] = mapped_column(String(2000))
    on_conflict: Mapped[str] = mapped_column(String(8))
    #: ``{"created": [slug...], "merged": [...], "skipped": [...], "media_created": ...}``.
    changes: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    scope: Mapped[str] = mapped_column(String(8), default=TokenScope.WRITE.value)
    #: sha256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class PageTag(db.Model):
    __tablename__ = "page_tags"

    page_id: Mapped[int] = mapped_column(
        ForeignKey("pages.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    __table_args__ = (Index("ix_page_tags_tag_id", "tag_id"),)


class Tag(db.Model):
    """A tag as first written ("ESS", "Gard"); pages find it by its folded ``key``."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    #: The name without case or accents (``text.tag_key``): "ESS", "ess" and "Éss" are one tag.
    key: Mapped[str] = mapped_column(
        String(64),
        unique=True,
        index=True,
        default=lambda context: tag_key(context.get_current_parameters()["name"]),
    )


class Theme(db.Model):
    """A theme of the thesaurus: a stable key, stored by pages, and its labels."""

    __tablename__ = "themes"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    label_fr: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class PageFacet(db.Model):
    """What a page's current sheet is found by: ``("departement", "30")``, ``("theme",
    "habitat")``… (see ``sheets.facets``), for filters, facet counts and the map."""

    __tablename__ = "page_facets"

    page_id: Mapped[int] = mapped_column(
        ForeignKey("pages.id", ondelete="CASCADE"), primary_key=True
    )
    facet: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_page_facets_facet_value", "facet", "value"),)


class Page(db.Model):
    """A page's current state; its history lives in ``Revision`` rows."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default=Kind.PAGE.value, index=True)
    license: Mapped[str] = mapped_column(String(32), default="CC-BY-SA-4.0")
    #: The revision shown by default; every save moves it.
    current_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("revisions.id", use_alter=True, name="fk_pages_current_revision_id")
    )
    #: Number of revisions so far, so the next one is numbered without a query.
    revision_count: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    #: Protected pages can be edited by editors and admins only.
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Parties the licensor asks to credit, e.g. ["Réseau de la coopération"].
    attribution_parties: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The work this page adapts: {title, authors, url, license} or None.
    source: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: The experiment this page replicates, when it is a page of this commons.
    replicates_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"), index=True)
    #: The replicated experiment's address, kept when it lives in another commons.
    replicates_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    current_revision: Mapped[Revision | None] = relationship(
        foreign_keys=[current_revision_id], post_update=True
    )
    tags: Mapped[list[Tag]] = relationship(secondary="page_tags", order_by="Tag.key")

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self.tags]


class Revision(db.Model):
    """An immutable snapshot of a page; rename, delete and revert are revisions too."""

    __tablename__ = "revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="RESTRICT"))
    #: 1, 2, 3... within the page.
    number: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("revisions.id"))
    action: Mapped[str] = mapped_column(String(16))
    slug: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    license: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    #: sha256 of the body (hex), to detect no-op saves and check bundle integrity.
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(String(500), default="")
    minor: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: The author's name as it was at save time (or an external author's name).
    author_name: Mapped[str] = mapped_column(String(200))
    #: Co-authors credited with this revision (free text: people, organisations).
    coauthors: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The kind's typed fields (an experiment's territory, period, status…), see sheets.py.
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Where the revision came from when imported (the other commons' page URL).
    origin: Mapped[str | None] = mapped_column(String(500))
    #: The account that imported the revision, by its name then (None for local saves and
    #: command-line imports): imported authors cannot be checked, the importer can.
    imported_by: Mapped[str | None] = mapped_column(String(80))
    #: The contributor accepted to release this revision under ``license``.
    license_accepted: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Hidden by an admin (e.g. personal data); the row stays, the body is withheld.
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    page: Mapped[Page] = relationship(foreign_keys=[page_id])
    author: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("page_id", "number", name="uq_revisions_page_number"),
        Index("ix_revisions_created_at", "created_at"),
    )


class VisibilityChange(db.Model):
    """An admin hid or showed again a revision's content: the moderation log.

    Hiding makes no revision, so every process's search index reads this log as it
    reads the revisions, and stops matching the hidden words as soon as it is written.
    """

    __tablename__ = "visibility_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"), index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id", ondelete="CASCADE"))
    hidden: Mapped[bool] = mapped_column(Boolean)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Link(db.Model):
    """A wiki link from a page's current revision to a slug (which may not exist)."""

    __tablename__ = "links"

    source_id: Mapped[int] = mapped_column(
        ForeignKey("pages.id", ondelete="CASCADE"), primary_key=True
    )
    target_slug: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class Redirect(db.Model):
    """An old slug left behind by a rename, pointing at the page."""

    __tablename__ = "redirects"

    slug: Mapped[str] = mapped_column(String(200), primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"), index=True)


class RenderedRevision(db.Model):
    """Rendered HTML of a revision, so page views never re-run Markdown."""

    __tablename__ = "rendered_revisions"

    revision_id: Mapped[int] = mapped_column(
        ForeignKey("revisions.id", ondelete="CASCADE"), primary_key=True
    )
    #: Version of the rendering pipeline; a change invalidates older rows.
    renderer: Mapped[int] = mapped_column(Integer)
    html: Mapped[str] = mapped_column(Text)
    toc: Mapped[str] = mapped_column(Text, default="")


class LoginAttempt(db.Model):
    """Failed logins, shared by every worker process, for throttling."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class RegistrationAttempt(db.Model):
    """Accounts created, by client address, shared by every worker process, for throttling."""

    __tablename__ = "registration_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Media(db.Model):
    """A picture or document with its own name, licence and credits; files live on disk."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Normalised file name, also its address: "affiche-atelier.png".
    name: Mapped[str] = mapped_column(String(200), unique=True)
    #: "image" or "document".
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    license: Mapped[str] = mapped_column(String(32), default="CC-BY-SA-4.0")
    #: The work this file comes from: {title, authors, url, license} or None.
    source: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("media_versions.id", use_alter=True, name="fk_media_current_version_id")
    )
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    current_version: Mapped[MediaVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )


class MediaVersion(db.Model):
    """One uploaded file of a media; new uploads add versions, old ones stay."""

    __tablename__ = "media_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="RESTRICT"))
    number: Mapped[int] = mapped_column(Integer)
    #: sha256 of the file: its address in the content-addressed store.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    license: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(String(500), default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    author_name: Mapped[str] = mapped_column(String(200))
    #: The people or organisations who made the file (photographer, designer...).
    creators: Mapped[list[str]] = mapped_column(JSON, default=list)
    origin: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    media: Mapped[Media] = relationship(foreign_keys=[media_id])
    author: Mapped[User | None] = relationship()

    __table_args__ = (UniqueConstraint("media_id", "number", name="uq_media_versions_number"),)


class PasswordResetRequest(db.Model):
    """A "forgot your password" request, by address asked and by client, for throttling."""

    __tablename__ = "password_reset_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The email address as typed, case-folded: known or not, it is throttled alike.
    email_key: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class WatchTarget(enum.StrEnum):
    """What a user can follow: one page (by id, so renames keep it), a tag, a kind."""

    PAGE = "page"
    TAG = "tag"
    KIND = "kind"


class Watch(db.Model):
    """A user follows a page, a tag or a kind, and is told about their changes."""

    __tablename__ = "watches"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    target_type: Mapped[str] = mapped_column(String(8))
    #: The page's id (as text), the tag's name or the kind.
    target: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("user_id", "target_type", "target", name="uq_watches_user_target"),
        Index("ix_watches_target", "target_type", "target"),
    )


class NotificationFrequency(enum.StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"
    OFF = "off"


class NotificationSettings(db.Model):
    """How and when a user hears about what they follow; absent means the defaults."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    frequency: Mapped[str] = mapped_column(
        String(16), default=NotificationFrequency.IMMEDIATE.value
    )
    #: Follow the pages one creates.
    watch_created: Mapped[bool] = mapped_column(Boolean, default=True)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PendingNotification(db.Model):
    """A change a user is to be told about; ``sent_at`` is set when its batch left."""

    __tablename__ = "pending_notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    revision: Mapped[Revision] = relationship()

    __table_args__ = (
        UniqueConstraint("user_id", "revision_id", name="uq_pending_notifications_revision"),
        Index("ix_pending_notifications_user_sent", "user_id", "sent_at"),
    )


class VerifiedEmail(db.Model):
    """The address a user proved to read, by a mailed link; it is verified while it is
    still ``User.email``."""

    __tablename__ = "verified_emails"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(String(254))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
