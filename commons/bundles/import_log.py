"""The import log: who imported which bundle, from where, when, and what it did
(MediaWiki's Special:Log/import); written in the import's own transaction."""

from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import ImportLog, User
from .import_report import ImportReport


def record(report: ImportReport, importer: User | None) -> None:
    """Record the import in the import log, in its transaction."""
    db.session.add(
        ImportLog(
            importer_id=importer.id if importer else None,
            importer_name=importer.name if importer else None,
            source=(report.source or "")[:2000] or None,
            on_conflict=report.on_conflict,
            changes={
                "created": [item.slug for item in report.created],
                "merged": [item.slug for item in report.merged],
                "skipped": [item.slug for item in report.skipped],
                "media_created": [item.name for item in report.media_created],
                "media_merged": [item.name for item in report.media_merged],
                "media_skipped": [item.name for item in report.media_skipped],
            },
        )
    )


def list_imports(*, offset: int = 0, limit: int = 50) -> tuple[list[ImportLog], int]:
    """The import log, newest first, with its length."""
    total = db.session.scalar(select(func.count(ImportLog.id))) or 0
    query = select(ImportLog).order_by(ImportLog.created_at.desc(), ImportLog.id.desc())
    return list(db.session.scalars(query.offset(offset).limit(limit))), total
