"""Credits of a page with 5,000 revisions: aggregated in SQL, they must stay fast.

python -m bench.bench_credits [--revisions 5000] [--database URL]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, update

from commons import create_app, credits
from commons.attribution import content_hash
from commons.extensions import db
from commons.models import Page, Revision


def build(revisions: int) -> None:
    """One page whose history has ``revisions`` revisions by 40 authors and some imports."""
    db.session.execute(
        insert(Page),
        [{"id": 1, "slug": "longue", "title": "Longue", "kind": "page", "revision_count": 0}],
    )
    start = datetime(2020, 1, 1, tzinfo=UTC)
    rows = []
    for number in range(1, revisions + 1):
        body = f"Version {number}\n"
        rows.append(
            {
                "id": number,
                "page_id": 1,
                "number": number,
                "parent_id": number - 1 or None,
                "action": "edit",
                "slug": "longue",
                "title": "Longue",
                "kind": "page",
                "tags": [],
                "license": "CC-BY-SA-4.0",
                "body": body,
                "sha256": content_hash(body),
                "size": len(body),
                "author_name": f"auteur{number % 40}",
                "coauthors": [f"atelier{number % 7}"] if number % 10 == 0 else [],
                "origin": "https://ailleurs.example/wiki/longue" if number < 500 else None,
                "created_at": start + timedelta(hours=number),
            }
        )
    db.session.execute(insert(Revision), rows)
    db.session.execute(
        update(Page)
        .where(Page.id == 1)
        .values(current_revision_id=revisions, revision_count=revisions)
    )
    db.session.commit()


def timed(call, runs: int = 20) -> float:  # noqa: ANN001
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--revisions", type=int, default=5000)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/credits.db"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        build(args.revisions)
        page = db.session.get(Page, 1)
        client = app.test_client()
        figures = {
            "contributors (SQL aggregate)": timed(lambda: credits.contributors(page)),
            "modification notices": timed(lambda: credits.modification_notices(page)),
            "credits page, whole request": timed(lambda: client.get("/wiki/longue/credits")),
        }
    print(f"page with {args.revisions} revisions, median of 20 runs:")
    for label, ms in figures.items():
        print(f"  {label}: {ms:.1f} ms")


if __name__ == "__main__":
    main()
