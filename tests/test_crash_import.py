"""A killed import leaves nothing half-imported: the whole bundle or nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench import corpus
from commons import bundles, integrity
from commons.extensions import db
from commons.models import Page, Revision
from tests.conftest import TEST_DATABASE_URL, make_app

COMMAND = Path(sys.executable).with_name("commons")


def _bundle(tmp_path: Path) -> Path:
    source = make_app(tmp_path / "source", DATABASE_URL=f"sqlite:///{tmp_path / 'source.db'}")
    path = tmp_path / "bundle.zip"
    with source.app_context():
        corpus.generate(100, seed=3)
        with path.open("wb") as out:
            bundles.export_bundle(out, bundles.Selection(everything=True, history=True))
        db.session.remove()
        db.engine.dispose()
    return path


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [1.5, 4.0])
def test_an_import_killed_midway_leaves_nothing(tmp_path, kill_after: float) -> None:
    bundle = _bundle(tmp_path)
    target = make_app(tmp_path)
    with target.app_context():
        db.engine.dispose()
    url = TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'commons.db'}"
    env = {
        **os.environ,
        "COMMONS_DATABASE_URL": url,
        "COMMONS_INDEX_DIR": str(tmp_path / "index"),
        "COMMONS_SECRET_KEY": "crash",
    }
    process = subprocess.Popen(
        [str(COMMAND), "import", str(bundle)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(kill_after)
    assert process.poll() is None, "the import finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with target.app_context():
        assert db.session.scalar(select(func.count(Page.id))) == 0
        assert db.session.scalar(select(func.count(Revision.id))) == 0
        assert integrity.check() == []
        db.session.remove()
        db.engine.dispose()
    finished = subprocess.run(
        [str(COMMAND), "import", str(bundle)], env=env, capture_output=True, timeout=600
    )
    assert finished.returncode == 0, finished.stderr
    with target.app_context():
        assert db.session.scalar(select(func.count(Page.id))) == 100
        assert integrity.check() == []
        db.session.remove()
        db.engine.dispose()
