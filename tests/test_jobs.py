"""The job queue: after the commit only, RQ on a real Redis (and its worker), or threads."""

from __future__ import annotations

import os
import uuid

import pytest

from commons import jobs, mail, transaction
from commons.extensions import db
from commons.models import Tag

REDIS_URL = os.environ.get("COMMONS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_answers() -> bool:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        return bool(Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except RedisError:
        return False


@pytest.fixture
def redis_app(app):
    """The app on a real Redis, on a queue of its own; skipped when no Redis answers."""
    if not _redis_answers():
        pytest.skip(f"no Redis answers at {REDIS_URL}")
    app.config.update(REDIS_URL=REDIS_URL, JOB_QUEUE=f"commons-test-{uuid.uuid4().hex}")
    yield app
    jobs.redis_queue(app).delete(delete_jobs=True)


def _test_mail(to="ana@example.org"):
    return mail.compose(to=to, subject="Bonjour", text="texte", html="<p>texte</p>")


def test_a_job_waits_for_the_commit(app, smtp_server):
    url, mailbox = smtp_server
    app.config["SMTP_URL"] = url
    db.session.add(Tag(name="pending"))
    db.session.flush()
    mail.send(_test_mail())
    assert jobs.wait(5)
    assert mailbox.messages == []
    transaction.commit()
    assert jobs.wait(30)
    assert len(mailbox.messages) == 1


def test_a_rolled_back_transaction_drops_its_jobs(app, smtp_server):
    url, mailbox = smtp_server
    app.config["SMTP_URL"] = url
    db.session.add(Tag(name="undone"))
    db.session.flush()
    mail.send(_test_mail())
    transaction.rollback()
    transaction.commit()
    assert jobs.wait(30)
    assert mailbox.messages == []


def test_with_redis_jobs_wait_in_the_queue_for_a_worker(redis_app, runner, smtp_server):
    url, mailbox = smtp_server
    redis_app.config["SMTP_URL"] = url
    mail.send(_test_mail("one@example.org"))
    mail.send(_test_mail("two@example.org"))
    assert jobs.wait(5)
    queue = jobs.redis_queue(redis_app)
    assert queue.count == 2
    assert mailbox.messages == []
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert sorted(message["To"] for message in mailbox.messages) == [
        "one@example.org",
        "two@example.org",
    ]
    assert queue.count == 0


def test_with_redis_a_failed_job_is_kept_for_a_retry(redis_app, runner):
    from rq.registry import FailedJobRegistry

    redis_app.config.update(SMTP_URL="smtp://127.0.0.1:1", JOB_RETRY_DELAYS=[])
    mail.send(_test_mail())
    runner.invoke(args=["worker", "--burst"])
    queue = jobs.redis_queue(redis_app)
    assert FailedJobRegistry(queue=queue).count == 1


def test_the_worker_needs_redis(runner):
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code != 0
    assert "COMMONS_REDIS_URL" in result.output
