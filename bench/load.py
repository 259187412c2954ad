"""Bounded load test: concurrent clients edit, read and search; nothing may be lost.

The wiki runs under gunicorn (2 sync workers). Each client edits a few shared pages
(each client owns one paragraph of them, so concurrent saves must merge) and a page of
its own, reads random pages and searches. Afterwards:

- no response was a 5xx;
- every rejected save got a 409 that says which revision to start again from;
- every accepted save is a stored revision, by that client;
- no update was lost: each shared paragraph, and each client's own page, holds the
  last text its client saved;
- the search index (caught up from the revision log if a worker died) finds each
  client's page by the word of its last save;
- the integrity check of the database passes.

    python -m bench.load --database sqlite:////tmp/load.db --clients 20 --duration 60
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import signal
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from sqlalchemy import select

from commons import auth, create_app, integrity, page_queries, pages, search, transaction
from commons.extensions import db
from commons.models import Revision

from .serve import call_json, gunicorn, worker_pids

SHARED_PAGES = 3


def _paragraphs(clients: int) -> str:
    """One paragraph per client, separated by blank lines so edits of two do not touch,
    and a last one that every client edits, so that saves really collide."""
    owned = [f"Paragraphe {n} : initial" for n in range(clients)]
    return "\n\n".join([*owned, "Paragraphe commun : initial"]) + "\n"


@dataclass
class Report:
    """What the clients saw."""

    statuses: Counter = field(default_factory=Counter)
    saves: list[tuple[str, int, str]] = field(default_factory=list)
    merged: int = 0
    conflicts: int = 0
    unactionable_conflicts: int = 0
    errors: list[str] = field(default_factory=list)
    #: Requests cut off by a worker being killed (their save may or may not be stored).
    interrupted: int = 0
    #: For each (slug, client), the mark of its last accepted save.
    last_marks: dict[tuple[str, int], str] = field(default_factory=dict)
    #: Accepted saves of the paragraph everyone edits: (slug, revision, mark).
    contested: list[tuple[str, int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client(threading.Thread):
    def __init__(self, number: int, url: str, token: str, report: Report, deadline: float):
        super().__init__(daemon=True)
        self.number, self.token, self.report, self.deadline = number, token, report, deadline
        self.host = urlsplit(url).netloc
        self.rng = random.Random(number)
        self.clients = 0
        self.edits = 0

    def request(self, method: str, path: str, payload: dict | None = None) -> tuple[int, dict]:
        try:
            status, data = call_json(self.host, method, path, token=self.token, payload=payload)
        except (ConnectionError, http.client.HTTPException):
            with self.report.lock:
                self.report.interrupted += 1
            return 0, {}
        with self.report.lock:
            self.report.statuses[status] += 1
            if status >= 500:
                self.report.errors.append(f"{method} {path}: {status}")
        return status, data

    def run(self) -> None:
        while time.monotonic() < self.deadline:
            roll = self.rng.random()
            if roll < 0.3:
                self.read()
            elif roll < 0.4:
                self.request("GET", "/api/v1/search?q=" + quote("paragraphe initial"))
            elif roll < 0.65:
                self.edit_shared(f"partagee-{self.rng.randrange(SHARED_PAGES)}")
            elif roll < 0.75:
                self.edit_contested(f"partagee-{self.rng.randrange(SHARED_PAGES)}")
            else:
                self.edit_own()

    def read(self) -> None:
        slug = f"partagee-{self.rng.randrange(SHARED_PAGES)}"
        if self.rng.random() < 0.5:
            slug = f"client-{self.rng.randrange(self.clients)}"
        self.request("GET", f"/wiki/{slug}")

    def _save(self, slug: str, make_body, mark: str, *, contested: bool = False) -> None:
        status, page = self.request("GET", f"/api/v1/pages/{slug}")
        if status != 200:
            return
        for _attempt in range(3):
            payload = {"body": make_body(page["body"]), "base_revision": page["revision"]}
            status, answer = self.request("PUT", f"/api/v1/pages/{slug}", payload)
            if status == 200:
                with self.report.lock:
                    self.report.saves.append((slug, answer["revision"], mark))
                    self.report.merged += bool(answer.get("merged"))
                    if contested:
                        self.report.contested.append((slug, answer["revision"], mark))
                    else:
                        self.report.last_marks[(slug, self.number)] = mark
                return
            if status != 409:
                return
            with self.report.lock:
                self.report.conflicts += 1
                if not isinstance(answer.get("current_revision"), int):
                    self.report.unactionable_conflicts += 1
                    return
            page = answer["current"]

    def edit_shared(self, slug: str) -> None:
        self.edits += 1
        mark = f"client {self.number} édition {self.edits}"

        def change(body: str) -> str:
            lines = body.split("\n\n")
            lines[self.number] = f"Paragraphe {self.number} : {mark}"
            return "\n\n".join(lines)

        self._save(slug, change, mark)

    def edit_contested(self, slug: str) -> None:
        self.edits += 1
        mark = f"client {self.number} édition {self.edits}"

        def change(body: str) -> str:
            lines = body.split("\n\n")
            lines[-1] = f"Paragraphe commun : {mark}\n"
            return "\n\n".join(lines)

        self._save(slug, change, mark, contested=True)

    def edit_own(self) -> None:
        self.edits += 1
        # One searchable word per save: the index must find each page by its last one.
        mark = f"client {self.number} édition {self.edits} repere{self.number}x{self.edits}"
        self._save(f"client-{self.number}", lambda _body: f"{mark}\n", mark)


def _prepare(app, clients: int) -> list[str]:
    with app.app_context():
        db.create_all()
        tokens = []
        for number in range(clients):
            user = auth.create_user(f"client{number}", "mot de passe solide", role="member")
            tokens.append(auth.create_token(user, "load"))
            pages.save(None, title=f"Client {number}", body="initial\n", author=user)
        for number in range(SHARED_PAGES):
            pages.save(
                None,
                title=f"Partagée {number}",
                body=_paragraphs(clients),
                author=auth.find_user("client0"),
            )
        transaction.commit()
        db.session.remove()
    return tokens


def _found(word: str) -> list[str]:
    return [hit.slug for hit in search.search(word).hits]


def _verify(app, report: Report, clients: int) -> list[str]:
    problems = list(report.errors)
    if report.unactionable_conflicts:
        problems.append(f"{report.unactionable_conflicts} conflicts without a revision to use")
    with app.app_context():
        for slug, number, mark in report.saves:
            page = page_queries.get(slug)
            revision = db.session.scalar(
                select(Revision).where(Revision.page_id == page.id, Revision.number == number)
            )
            if revision is None or mark not in revision.body:
                problems.append(f"{slug} revision {number} does not hold its save ({mark})")
        for (slug, _client), mark in report.last_marks.items():
            body = page_queries.get(slug).current_revision.body
            if mark not in body:
                problems.append(f"lost update: {slug} lacks {mark!r}")
            word = mark.rsplit(" ", 1)[-1]
            if slug.startswith("client-") and slug not in _found(word):
                problems.append(f"search index behind: {word!r} does not find {slug}")
        latest: dict[str, tuple[int, str]] = {}
        for slug, number, mark in report.contested:
            latest[slug] = max(latest.get(slug, (0, "")), (number, mark))
        for slug, (_number, mark) in latest.items():
            if mark not in page_queries.get(slug).current_revision.body:
                problems.append(f"lost update: {slug} lacks the last common edit {mark!r}")
        expected = clients + SHARED_PAGES + len(report.saves)
        stored = db.session.scalar(select(db.func.count(Revision.id)))
        if not expected <= stored <= expected + report.interrupted:
            problems.append(f"{stored} revisions stored, {expected} expected")
        problems += integrity.check()
        db.session.remove()
        db.engine.dispose()
    return problems


def _kill_a_worker(master, after: float, report: Report, attempts: int = 5) -> threading.Timer:
    """SIGKILL a gunicorn worker ``after`` seconds from now, as a crash would.

    A worker can be between two requests when it is killed: then, up to ``attempts``
    times, another is killed half a second later, until one dies with a request in hand.
    """

    def kill(left: int) -> None:
        before = report.interrupted
        os.kill(worker_pids(master)[0], signal.SIGKILL)
        time.sleep(0.5)
        if report.interrupted == before and left > 1:
            kill(left - 1)

    timer = threading.Timer(after, kill, args=(attempts,))
    timer.start()
    return timer


def run(
    database_url: str,
    *,
    clients: int = 20,
    duration: float = 60.0,
    kill_worker_after: float | None = None,
) -> tuple[Report, list]:
    """Run the load test against an empty database; returns the report and the problems.

    With ``kill_worker_after``, a worker is killed with SIGKILL in the middle of the run.
    """
    workdir = Path(tempfile.mkdtemp(prefix="commons-load-"))
    settings = {
        "DATABASE_URL": database_url,
        "INDEX_DIR": str(workdir / "index"),
        "MEDIA_DIR": str(workdir / "media"),
        "SECRET_KEY": "load-test",
    }
    app = create_app(settings)
    tokens = _prepare(app, clients)
    env = {f"COMMONS_{key}": value for key, value in settings.items()}
    report = Report()
    with gunicorn(env=env) as (url, master):
        if kill_worker_after is not None:
            _kill_a_worker(master, kill_worker_after, report)
        deadline = time.monotonic() + duration
        threads = [Client(n, url, tokens[n], report, deadline) for n in range(clients)]
        for thread in threads:
            thread.clients = clients
            thread.start()
        for thread in threads:
            thread.join()
    return report, _verify(app, report, clients)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", required=True, help="SQLAlchemy URL of an empty database")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0)
    args = parser.parse_args()
    report, problems = run(args.database, clients=args.clients, duration=args.duration)
    print(f"responses by status: {dict(sorted(report.statuses.items()))}")
    print(
        f"accepted saves: {len(report.saves)} (merged with a concurrent save: {report.merged}),"
        f" conflicts answered with 409: {report.conflicts}"
    )
    print("problems:", *problems, sep="\n  ") if problems else print("no problem found")
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
