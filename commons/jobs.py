"""Background work: RQ on Redis when ``COMMONS_REDIS_URL`` is set, else threads of this process.

Both run the same code path, :func:`run`: it resolves a job's function by name, calls it
inside an application context and is the job's transaction boundary (the function only
flushes; :func:`run` commits, or rolls back and lets the attempt fail).

A job enqueued inside a transaction leaves only when that transaction commits (and never
if it rolls back): a worker must not look for rows it cannot see yet, nor act on work
that was undone. A failed attempt is retried after each delay of
``COMMONS_JOB_RETRY_DELAYS``.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from . import transaction
from .extensions import db

_PENDING = "commons.pending_jobs"


@dataclass(frozen=True)
class Job:
    """A function, by its importable name, and its arguments (plain, picklable values)."""

    function: str
    args: tuple[Any, ...]
    delay: float = 0


@dataclass
class ThreadRunner:
    """Jobs of a process without Redis, each in its own thread, with a way to wait for them."""

    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, app: Flask, job: Job) -> None:
        thread = threading.Thread(target=_run_with_retries, args=(app, job), daemon=False)
        with self.lock:
            self.threads = [alive for alive in self.threads if alive.is_alive()]
            self.threads.append(thread)
        thread.start()

    def wait(self, timeout: float = 30) -> bool:
        """Wait for the running jobs and those they enqueue; False if some still run."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                running = [thread for thread in self.threads if thread.is_alive()]
            if not running:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            running[0].join(remaining)


def init_app(app: Flask) -> None:
    app.extensions["commons_jobs"] = ThreadRunner()


def function_name(function: Callable[..., Any]) -> str:
    return f"{function.__module__}:{function.__qualname__}"


def enqueue(function: Callable[..., Any], *args: Any, delay: float = 0) -> None:
    """Run ``function(*args)`` in the background, ``delay`` seconds after the commit."""
    job = Job(function_name(function), args, delay)
    session = db.session()
    if session.in_transaction():
        session.info.setdefault(_PENDING, []).append(job)
    else:
        _dispatch(current_app._get_current_object(), job)


def enqueue_committed(app: Flask, function: Callable[..., Any], *args: Any) -> None:
    """Run ``function(*args)`` in the background now: for listeners of a signal sent after
    the commit (such as ``pages_changed``), whose data is already there for every process."""
    _dispatch(app, Job(function_name(function), args))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for job in session.info.pop(_PENDING, []):
        _dispatch(current_app._get_current_object(), job)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def retry_delays(app: Flask) -> list[int]:
    return [int(delay) for delay in app.config["JOB_RETRY_DELAYS"]]


def _dispatch(app: Flask, job: Job) -> None:
    if app.config.get("REDIS_URL"):
        from rq import Retry

        queue = redis_queue(app)
        delays = retry_delays(app)
        retry = Retry(max=len(delays), interval=delays) if delays else None
        if job.delay:
            queue.enqueue_in(timedelta(seconds=job.delay), run, job.function, job.args, retry=retry)
        else:
            queue.enqueue(run, job.function, job.args, retry=retry)
    else:
        app.extensions["commons_jobs"].start(app, job)


def redis_queue(app: Flask) -> Any:
    """The RQ queue of this wiki (``COMMONS_JOB_QUEUE`` on ``COMMONS_REDIS_URL``)."""
    from redis import Redis
    from rq import Queue

    return Queue(app.config["JOB_QUEUE"], connection=Redis.from_url(app.config["REDIS_URL"]))


def run(function: str, args: tuple[Any, ...]) -> None:
    """Run one job in the current application context, and commit what it did."""
    module, _, name = function.partition(":")
    target: Any = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    try:
        target(*args)
        transaction.commit()
    except BaseException:
        transaction.rollback()
        raise


def _run_with_retries(app: Flask, job: Job) -> None:
    """A job's thread: wait its delay, then try it once and after each retry delay."""
    time.sleep(job.delay)
    delays = retry_delays(app)
    with app.app_context():
        for attempt in range(len(delays) + 1):
            try:
                run(job.function, job.args)
                return
            except Exception:
                app.logger.exception("job %s failed (attempt %s)", job.function, attempt + 1)
                if attempt < len(delays):
                    time.sleep(delays[attempt])
            finally:
                db.session.remove()
        app.logger.error("job %s abandoned after %s attempts", job.function, len(delays) + 1)


def wait(timeout: float = 30) -> bool:
    """Wait for this process's job threads (tests and commands that must see the result)."""
    return current_app.extensions["commons_jobs"].wait(timeout)


def work(*, burst: bool = False) -> None:
    """Run an RQ worker on this wiki's queue, in this process and its application context."""
    from rq import SimpleWorker

    queue = redis_queue(current_app)
    SimpleWorker([queue], connection=queue.connection).work(burst=burst, with_scheduler=True)
