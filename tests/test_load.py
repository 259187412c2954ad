"""Nothing is lost under load: gunicorn with two workers, twenty clients (bench/load.py)."""

from __future__ import annotations

import os

import pytest

from bench import load
from commons.extensions import db
from tests.conftest import TEST_DATABASE_URL, make_app

SECONDS = float(os.environ.get("COMMONS_LOAD_SECONDS", "60"))


@pytest.mark.slow
def test_concurrent_clients_lose_nothing(tmp_path) -> None:
    app = make_app(tmp_path)  # an empty schema on the test database
    with app.app_context():
        db.engine.dispose()
    url = TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'commons.db'}"
    report, problems = load.run(url, clients=20, duration=SECONDS)
    assert problems == []
    assert report.saves and report.merged
    assert set(report.statuses) <= {200, 409}


@pytest.mark.slow
def test_a_worker_killed_mid_save_leaves_no_partial_revision(tmp_path) -> None:
    app = make_app(tmp_path)
    with app.app_context():
        db.engine.dispose()
    url = TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'commons.db'}"
    report, problems = load.run(url, clients=8, duration=8, kill_worker_after=3)
    assert problems == []
    assert report.interrupted > 0, "the worker was killed while serving requests"
    assert report.saves
