"""The benchmark suite: the wiki against a minimal Flask baseline, at 1,000 and 10,000 pages.

For each size it generates the corpus (bench/corpus.py) in a fresh SQLite database,
builds the search index, serves the wiki and the baseline with gunicorn (2 sync
workers) on loopback, and measures page views (visitors' and a logged-in member's),
the other endpoints, saves, searches, export and import, and the workers' memory. The
figures and their ratios to the baseline go to BENCHMARKS.md. Everything is bounded in time.

    .venv/bin/python -m bench.run                 # 1,000 and 10,000 pages
    .venv/bin/python -m bench.run --sizes 1000    # a quicker run
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from sqlalchemy import select

from commons import auth, create_app, transaction
from commons.extensions import db
from commons.models import Page, Tag

from . import corpus
from .serve import ROOT, gunicorn, rss_mb, worker_pids

CONCURRENCY = 8
THROUGHPUT_SECONDS = 10.0
WARM_UP_PASSES = 6
SAMPLES = 60
#: The ``commons`` command, run from the source tree even where the package (and so its
#: console script) is not installed.
COMMAND = [sys.executable, "-c", "from commons.cli import main; main()"]
MEMBER = ("mesure", "mot de passe de mesure")


@dataclass
class Latency:
    p50: float
    p95: float
    p99: float

    @classmethod
    def of(cls, seconds: list[float]) -> Latency:
        ordered = sorted(seconds)

        def at(share: float) -> float:
            return ordered[min(int(share * len(ordered)), len(ordered) - 1)] * 1000

        return cls(at(0.50), at(0.95), at(0.99))


def _get(host: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(host, timeout=60)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _timed(call) -> float:  # noqa: ANN001 - any callable
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def throughput(
    url: str,
    paths: list[str],
    seconds: float = THROUGHPUT_SECONDS,
    headers: dict[str, str] | None = None,
):
    """Requests per second and latencies with CONCURRENCY clients fetching ``paths``."""
    host = urlsplit(url).netloc
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    failures = []
    lock = threading.Lock()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        mine = []
        while time.monotonic() < deadline:
            path = rng.choice(paths)
            start = time.perf_counter()
            status, _ = _get(host, path, headers)
            mine.append(time.perf_counter() - start)
            if status != 200:
                failures.append((path, status))
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CONCURRENCY)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"failed requests: {failures[:5]}")
    return len(latencies) / elapsed, Latency.of(latencies)


def warm_up(url: str, paths: list[str], passes: int = WARM_UP_PASSES) -> None:
    """Fetch every path ``passes`` times from CONCURRENCY clients.

    As in a wiki that has run a while, each sampled page is then rendered and cached by
    both workers (a path missed by one worker after six passes has odds of 1 in 64).
    """
    host = urlsplit(url).netloc
    queue = [path for _ in range(passes) for path in paths]
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                if not queue:
                    return
                path = queue.pop()
            _check(_get(host, path), path)

    threads = [threading.Thread(target=client) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def sequential(url: str, paths: list[str]) -> Latency:
    host = urlsplit(url).netloc
    return Latency.of([_timed(lambda p=path: _check(_get(host, p), p)) for path in paths])


def _check(result: tuple[int, bytes], path: str) -> None:
    if result[0] != 200:
        raise RuntimeError(f"{path}: HTTP {result[0]}")


def member_session(url: str, name: str, password: str) -> dict[str, str]:
    """The headers of a member logged in through the login form, as a browser would be.

    The redirect after the login is followed, so the welcome message is shown and gone.
    """
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with browser.open(url + "/login") as response:
        form = response.read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    if token is None:
        raise RuntimeError("the login form has no CSRF token")
    fields = {"name": name, "password": password, "csrf_token": token.group(1)}
    with browser.open(url + "/login", urlencode(fields).encode()) as response:
        response.read()
    headers = {"Cookie": "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)}
    status, body = _get(urlsplit(url).netloc, "/", headers)
    if status != 200 or b'action="/logout"' not in body:
        raise RuntimeError("the member's session did not log in")
    return headers


def _put(host: str, token: str, slug: str, payload: dict) -> int:
    connection = http.client.HTTPConnection(host, timeout=60)
    try:
        connection.request(
            "PUT",
            f"/api/v1/pages/{slug}",
            body=json.dumps(payload).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def save_latency(url: str, token: str, slugs: list[str]) -> Latency:
    host = urlsplit(url).netloc
    timings = []
    for number, slug in enumerate(slugs):
        status, raw = _get(host, f"/api/v1/pages/{slug}")
        page = json.loads(raw)
        payload = {
            "body": page["body"] + f"\nAjout {number} pour la mesure.\n",
            "base_revision": page["revision"],
            "summary": "mesure",
        }
        start = time.perf_counter()
        status = _put(host, token, slug, payload)
        timings.append(time.perf_counter() - start)
        if status != 200:
            raise RuntimeError(f"save of {slug}: HTTP {status}")
    return Latency.of(timings)


def measured_command(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a CLI command; its wall time in seconds and peak memory in MB."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [*COMMAND, *args], cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"commons {' '.join(args)} failed")
    return elapsed, usage.ru_maxrss / 1024


def _prepare(size: int, workdir: Path) -> tuple[dict[str, str], str, list[str], list[str]]:
    settings = {
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "INDEX_DIR": str(workdir / "index"),
        "MEDIA_DIR": str(workdir / "media"),
        "SECRET_KEY": "bench",
    }
    env = {f"COMMONS_{key}": value for key, value in settings.items()}
    app = create_app(settings)
    with app.app_context():
        db.create_all()
        corpus.generate(size)
        user = auth.create_user(*MEMBER, role="member")
        token = auth.create_token(user, "bench")
        transaction.commit()
        rng = random.Random(7)
        slugs = rng.sample(list(db.session.scalars(select(Page.slug))), k=min(500, size))
        tags = list(db.session.scalars(select(Tag.name).limit(20)))
        db.session.remove()
        db.engine.dispose()
    subprocess.run([*COMMAND, "search", "reindex"], cwd=ROOT, env={**os.environ, **env},
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    return env, token, slugs, tags


def bench_size(size: int) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"commons-bench-{size}-"))
    env, token, slugs, tags = _prepare(size, workdir)
    figures: dict = {"pages": size}
    with gunicorn(env=env) as (url, master):
        views = [f"/wiki/{slug}" for slug in slugs]
        warm_up(url, views)
        # Measured just before the wiki's views, so both meet the same machine load.
        figures["baseline"] = measure_baseline()
        figures["views"] = throughput(url, views)
        figures["member_views"] = throughput(url, views, headers=member_session(url, *MEMBER))
        figures["history"] = sequential(url, [f"/wiki/{s}/history" for s in slugs[:SAMPLES]])
        figures["diff"] = sequential(url, [f"/wiki/{s}/diff" for s in slugs[:SAMPLES]])
        figures["credits"] = sequential(url, [f"/wiki/{s}/credits" for s in slugs[:SAMPLES]])
        figures["recent"] = sequential(url, ["/recent"] * SAMPLES)
        figures["tag"] = sequential(url, [f"/tag/{quote(t)}" for t in tags] * 3)
        words = ["coopération", "monnaie locale", "atelier", "circuits courts", "tiers-lieu"]
        figures["search"] = sequential(url, [f"/search?q={quote(w)}" for w in words] * 12)
        figures["save"] = save_latency(url, token, slugs[SAMPLES : SAMPLES * 2])
        figures["worker_mb"] = [round(rss_mb(pid), 1) for pid in worker_pids(master)]
    bundle = workdir / "all.zip"
    figures["export"] = measured_command(["export", str(bundle), "--all"], env)
    target = {
        **env,
        "COMMONS_DATABASE_URL": f"sqlite:///{workdir / 'imported.db'}",
        "COMMONS_INDEX_DIR": str(workdir / "imported-index"),
    }
    subprocess.run([*COMMAND, "db", "upgrade"], cwd=ROOT, env={**os.environ, **target},
                   check=True, capture_output=True)  # fmt: skip
    figures["import"] = measured_command(["import", str(bundle)], target)
    return figures


def measure_baseline() -> tuple[float, Latency]:
    with gunicorn("bench.baseline:app") as (url, _master):
        return throughput(url, ["/"])


def report(results: list[dict], command: str) -> str:
    """BENCHMARKS.md's figures section, as Markdown."""
    sizes = [r["pages"] for r in results]
    lines = [
        f"Command: `{command}`",
        "",
        "| measure | " + " | ".join(f"{s:,} pages" for s in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]

    def row(label: str, cell) -> None:  # noqa: ANN001
        lines.append(f"| {label} | " + " | ".join(cell(r) for r in results) + " |")

    row("baseline (minimal Flask + Jinja, 5 KB page): requests/s, p50 / p99 ms",
        lambda r: f"{r['baseline'][0]:.0f}, {r['baseline'][1].p50:.1f} / "
        f"{r['baseline'][1].p99:.1f}")  # fmt: skip
    for key, label in (("views", "page views"), ("member_views", "members' page views")):
        row(f"{label}/s (ratio to baseline)",
            lambda r, k=key: f"{r[k][0]:.0f} ({r[k][0] / r['baseline'][0]:.2f}×)")  # fmt: skip
        row(f"{label.replace('views', 'view')} p50 / p99 ms (p99 ratio)",
            lambda r, k=key: f"{r[k][1].p50:.1f} / {r[k][1].p99:.1f} "
            f"({r[k][1].p99 / r['baseline'][1].p99:.2f}×)")  # fmt: skip
    for key, label in (
        ("history", "history"),
        ("diff", "diff"),
        ("credits", "credits"),
        ("recent", "recent changes"),
        ("tag", "tag listing"),
    ):
        row(f"{label} p50 / p99 ms",
            lambda r, k=key: f"{r[k].p50:.1f} / {r[k].p99:.1f}")  # fmt: skip
    row("save p50 / p95 ms (with indexing)", lambda r: f"{r['save'].p50:.1f} / {r['save'].p95:.1f}")
    row("search p50 / p95 ms", lambda r: f"{r['search'].p50:.1f} / {r['search'].p95:.1f}")
    row("export of every page (current texts): s / peak MB",
        lambda r: f"{r['export'][0]:.1f} / {r['export'][1]:.0f}")  # fmt: skip
    row("import of that bundle: s / peak MB",
        lambda r: f"{r['import'][0]:.1f} / {r['import'][1]:.0f}")  # fmt: skip
    row("worker memory after the run, MB", lambda r: " + ".join(map(str, r["worker_mb"])))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.md"))
    args = parser.parse_args()
    command = "python -m bench.run " + " ".join(sys.argv[1:])
    results = []
    for size in args.sizes:
        print(f"measuring {size} pages...", flush=True)
        results.append(bench_size(size))
        # Written after each size, so a long run that is stopped keeps what it measured.
        text = report(results, command.strip())
        Path(args.output).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
