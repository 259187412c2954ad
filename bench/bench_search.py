"""Search benchmark: full reindex, query latency, and time from save to searchable.

On the generated corpus of ``bench.corpus`` (French pages of 2–8 KB with history):

    python -m bench.bench_search --pages 10000
    python -m bench.bench_search --pages 10000 --database postgresql+psycopg://...

Without ``--database`` the corpus goes to a SQLite file in a temporary folder, which is
kept between runs when ``--work`` names a folder (generating 10,000 pages takes a while).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable

from sqlalchemy import func, select

from commons import create_app, pages, search, transaction
from commons.extensions import db
from commons.models import Page, User

from .corpus import KINDS, WORDS, generate


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def _typo(word: str, rng: random.Random) -> str:
    """The word with one letter dropped, as people type in a hurry."""
    if len(word) < 5:
        return word
    cut = rng.randrange(1, len(word) - 1)
    return word[:cut] + word[cut + 1 :]


def queries(count: int, seed: int = 7) -> list[dict]:
    """Varied queries: words, accents left out, plurals, phrases, exclusions, typos, filters."""
    rng = random.Random(seed)
    makers: list[Callable[[], dict]] = [
        lambda: {"query": rng.choice(WORDS)},
        lambda: {"query": " ".join(rng.sample(WORDS, 2))},
        lambda: {"query": " ".join(rng.sample(WORDS, 3))},
        lambda: {"query": search.fold(rng.choice(WORDS))},
        lambda: {"query": rng.choice(WORDS) + "s"},
        lambda: {"query": '"' + " ".join(rng.sample(WORDS, 2)) + '"'},
        lambda: {"query": f"{rng.choice(WORDS)} -{rng.choice(WORDS)}"},
        lambda: {"query": _typo(rng.choice(WORDS), rng)},
        lambda: {"query": rng.choice(WORDS), "kind": rng.choice(KINDS)},
        lambda: {"query": rng.choice(WORDS), "sort": "recent"},
        lambda: {"query": rng.choice(["ess", "scop", "tiers-lieu", "monnaie locale", "amap"])},
    ]
    return [rng.choice(makers)() for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--database", help="SQLAlchemy URL (default: SQLite in --work)")
    parser.add_argument("--work", help="folder for the database and the index")
    parser.add_argument("--keep-index", action="store_true", help="skip the full reindex")
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="bench-search-")
    os.makedirs(work, exist_ok=True)
    database = args.database or f"sqlite:///{os.path.join(work, f'corpus-{args.pages}.db')}"
    app = create_app(
        {
            "DATABASE_URL": database,
            "INDEX_DIR": os.path.join(work, "index"),
            "MEDIA_DIR": os.path.join(work, "media"),
            "SECRET_KEY": "bench",
        }
    )
    with app.app_context():
        db.create_all()
        if not db.session.scalar(select(func.count(Page.id))):
            started = time.perf_counter()
            generate(args.pages)
            print(f"corpus: {args.pages} pages in {time.perf_counter() - started:.0f} s")

        if not args.keep_index:
            started = time.perf_counter()
            indexed = search.reindex()
            elapsed = time.perf_counter() - started
            print(f"reindex: {indexed} pages in {elapsed:.1f} s ({indexed / elapsed:.0f} pages/s)")

        search.search("warm up")
        timings, cpu, totals = [], [], []
        for item in queries(args.queries):
            started, started_cpu = time.perf_counter(), time.process_time()
            results = search.search(
                item["query"], kind=item.get("kind"), sort=item.get("sort", "relevance")
            )
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            totals.append(results.total)
        # CPU time too: on a shared machine, wall time also measures the neighbours.
        print(
            f"queries: {len(timings)}, p50 {_percentile(timings, 0.5):.1f} ms, "
            f"p95 {_percentile(timings, 0.95):.1f} ms, max {max(timings):.1f} ms "
            f"(CPU p50 {_percentile(cpu, 0.5):.1f} ms, p95 {_percentile(cpu, 0.95):.1f} ms), "
            f"median results {statistics.median(totals):.0f}, load {os.getloadavg()[0]:.1f}"
        )

        author = db.session.scalar(select(User).order_by(User.id))
        run = random.randrange(10**9)
        delays = []
        for number in range(20):
            word = f"zorglub{run}x{number}"
            started = time.perf_counter()
            pages.save(None, title=f"Essai {run} {number}", body=f"Le mot {word}.", author=author)
            transaction.commit()
            while not search.search(word).total:
                time.sleep(0.001)
            delays.append((time.perf_counter() - started) * 1000)
        print(
            f"save to searchable (save included): p50 {_percentile(delays, 0.5):.0f} ms, "
            f"max {max(delays):.0f} ms"
        )


if __name__ == "__main__":
    main()
