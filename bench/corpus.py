"""A deterministic corpus for benchmarks: N pages of French text with history.

Each page has 2–8 KB of text with wiki links, a table and a code block, and 1–20
revisions by 1–10 authors. The same seed always gives the same corpus. Rows are written
with bulk inserts (the page service would take far longer for 100,000 revisions), with
the same columns the service fills, so the application cannot tell the difference.

    python -m bench.corpus --pages 1000 --database sqlite:////tmp/bench.db
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, update

from commons import auth
from commons.attribution import content_hash
from commons.extensions import db
from commons.models import Link, Page, PageTag, Revision, Tag, User
from commons.slugs import slugify

WORDS = [
    "coopération",
    "économie",
    "sociale",
    "solidaire",
    "atelier",
    "territoire",
    "réseau",
    "association",
    "coopérative",
    "habitants",
    "circuits",
    "courts",
    "alimentation",
    "monnaie",
    "locale",
    "tiers-lieu",
    "gouvernance",
    "partagée",
    "bénévoles",
    "salariés",
    "financement",
    "subvention",
    "épargne",
    "solidaire",
    "insertion",
    "emploi",
    "mutualisation",
    "outil",
    "expérience",
    "synthèse",
    "groupe",
    "projet",
    "commun",
    "licence",
    "partage",
    "savoir",
    "formation",
    "accompagnement",
    "collectivité",
    "commune",
    "région",
    "marché",
    "producteurs",
    "paysans",
    "épicerie",
    "cantine",
    "mobilité",
    "logement",
    "énergie",
    "citoyenne",
    "recyclage",
    "réemploi",
    "réparation",
    "culture",
    "éducation",
    "populaire",
    "jeunesse",
    "quartier",
    "rural",
    "démarche",
    "participative",
    "décision",
    "consentement",
    "assemblée",
    "comité",
    "budget",
    "bilan",
]
KINDS = ["tool", "experiment", "synthesis", "page"]
START = datetime(2024, 1, 1, tzinfo=UTC)


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(3, 6)))


def _body(rng: random.Random, titles: list[str], size: int) -> str:
    """Markdown of about ``size`` bytes with links, a table and some code."""
    parts = [f"## {_sentence(rng)[:40]}", _paragraph(rng)]
    links = rng.sample(titles, k=min(3, len(titles)))
    parts.append("Voir aussi " + ", ".join(f"[[{title}]]" for title in links) + ".")
    parts.append("| étape | durée | coût |\n|---|--:|--:|\n| préparation | 2 h | 0 € |\n")
    parts.append("```\nbudget = subvention + cotisations\n```")
    while len("\n\n".join(parts).encode()) < size:
        if rng.random() < 0.2:
            parts.append(f"### {_sentence(rng)[:30]}")
        parts.append(_paragraph(rng))
    return "\n\n".join(parts) + "\n"


def generate(
    pages: int, *, seed: int = 1, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Fill the current app's empty database; returns counts of what was written."""
    rng = random.Random(seed)
    users = [
        {
            "id": n,
            "name": f"auteur{n}",
            "name_key": auth.name_key(f"auteur{n}"),
            "password_hash": "!",
            "role": "member",
        }
        for n in range(1, 51)
    ]
    db.session.execute(insert(User), users)
    tag_names = [f"{rng.choice(WORDS)}-{n}" for n in range(200)]
    db.session.execute(insert(Tag), [{"id": n + 1, "name": t} for n, t in enumerate(tag_names)])
    titles = [f"{_sentence(rng)[:50].rstrip('.')} {n}" for n in range(pages)]
    revision_id = 0
    revisions_total = 0
    batch = 500
    for first in range(0, pages, batch):
        page_rows, revision_rows, link_rows, tag_rows, pointers = [], [], [], [], []
        for number in range(first, min(first + batch, pages)):
            page_id = number + 1
            title, kind = titles[number], KINDS[number % len(KINDS)]
            slug = slugify(title)
            tags = rng.sample(range(1, len(tag_names) + 1), k=rng.randint(1, 4))
            authors = rng.sample(users, k=rng.randint(1, 10))
            count = rng.randint(1, 20)
            when = START + timedelta(minutes=rng.randint(0, 500_000))
            body = _body(rng, titles, rng.randint(2000, 6000))
            parent = None
            for n in range(1, count + 1):
                revision_id += 1
                if n > 1:
                    body = body + "\n" + _paragraph(rng) + "\n"
                    if len(body.encode()) > 8000:
                        body = body[:2000] + "\n"
                author = rng.choice(authors)
                revision_rows.append(
                    {
                        "id": revision_id,
                        "page_id": page_id,
                        "number": n,
                        "parent_id": parent,
                        "action": "create" if n == 1 else "edit",
                        "slug": slug,
                        "title": title,
                        "kind": kind,
                        "tags": [tag_names[t - 1] for t in tags],
                        "license": "CC-BY-SA-4.0",
                        "body": body,
                        "sha256": content_hash(body),
                        "size": len(body.encode()),
                        "summary": _sentence(rng)[:80],
                        "author_id": author["id"],
                        "author_name": author["name"],
                        "coauthors": [],
                        "created_at": when,
                    }
                )
                parent = revision_id
                when += timedelta(hours=rng.randint(1, 400))
            page_rows.append(
                {
                    "id": page_id,
                    "slug": slug,
                    "title": title,
                    "kind": kind,
                    "license": "CC-BY-SA-4.0",
                    "revision_count": count,
                    "attribution_parties": [],
                    "created_at": revision_rows[-count]["created_at"],
                    "updated_at": revision_rows[-1]["created_at"],
                }
            )
            pointers.append({"id": page_id, "current_revision_id": revision_id})
            tag_rows += [{"page_id": page_id, "tag_id": t} for t in tags]
            targets = {slugify(t) for t in rng.sample(titles, k=3)} - {slug}
            link_rows += [{"source_id": page_id, "target_slug": t} for t in targets]
        db.session.execute(insert(Page), page_rows)
        db.session.execute(insert(Revision), revision_rows)
        db.session.execute(update(Page), pointers)
        db.session.execute(insert(PageTag), tag_rows)
        db.session.execute(insert(Link), link_rows)
        db.session.commit()
        revisions_total += len(revision_rows)
        if progress is not None:
            progress(len(page_rows))
    _reset_sequences()
    return {"pages": pages, "revisions": revisions_total, "users": len(users)}


def _reset_sequences() -> None:
    """Explicit ids leave PostgreSQL's sequences behind: move them past the last id."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in ("users", "tags", "pages", "revisions"):
        db.session.execute(
            db.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )
    db.session.commit()


def main() -> None:
    import click

    from commons import create_app

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", required=True, help="SQLAlchemy URL of an empty database")
    args = parser.parse_args()
    app = create_app({"DATABASE_URL": args.database})
    with app.app_context():
        db.create_all()
        with click.progressbar(length=args.pages, label="Generating pages") as bar:
            counts = generate(args.pages, seed=args.seed, progress=bar.update)
    print(counts)


if __name__ == "__main__":
    main()
