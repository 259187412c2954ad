"""What an import did, page by page and media by media: the report the views, the API
and the command line show."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


class _ReportLine:
    """A line of an import report, as JSON: its first two fields (what it is, its title)
    always, the others when they say something."""

    def to_json(self) -> dict[str, Any]:
        values = [(item.name, getattr(self, item.name)) for item in fields(self)]
        return dict(values[:2]) | {key: value for key, value in values[2:] if value}


@dataclass
class ImportedPage(_ReportLine):
    """One page line of an import report."""

    slug: str
    title: str
    revisions: int = 0
    #: The bundle's address for a page imported under a new one.
    original_slug: str | None = None
    #: Why a page was skipped: "exists", "identical", "hidden" (no text to merge) or
    #: "deleted" (deleted here: a merge leaves it deleted).
    reason: str | None = None


@dataclass
class ImportedMedia(_ReportLine):
    """One media line of an import report."""

    name: str
    title: str
    versions: int = 0
    #: The bundle's name for a media imported under a new one.
    original_name: str | None = None
    #: Why a media was skipped: "identical" (same current file here), "exists" or
    #: "license" (its licence cannot follow the one here, so it cannot be merged).
    reason: str | None = None


@dataclass
class ImportReport:
    """What an import did: pages and media created (possibly under a new address or name),
    merged, skipped."""

    source: str | None
    on_conflict: str
    #: A preview: what an import would do; nothing was written.
    preview: bool = False
    created: list[ImportedPage] = field(default_factory=list)
    merged: list[ImportedPage] = field(default_factory=list)
    skipped: list[ImportedPage] = field(default_factory=list)
    media_created: list[ImportedMedia] = field(default_factory=list)
    media_merged: list[ImportedMedia] = field(default_factory=list)
    media_skipped: list[ImportedMedia] = field(default_factory=list)

    @property
    def revisions(self) -> int:
        return sum(item.revisions for item in (*self.created, *self.merged))

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "on_conflict": self.on_conflict,
            "created": [item.to_json() for item in self.created],
            "merged": [item.to_json() for item in self.merged],
            "skipped": [item.to_json() for item in self.skipped],
            "revisions": self.revisions,
            "media": {
                "created": [item.to_json() for item in self.media_created],
                "merged": [item.to_json() for item in self.media_merged],
                "skipped": [item.to_json() for item in self.media_skipped],
            },
        }
