"""A killed import leaves nothing half-imported: the whole bundle or nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench import corpus
from commons import bundles, integrity
from commons.extensions import db
from commons.models import Page, Revision
from tests.conftest import TEST_DATABASE_URL, make_app

COMMAND = Path(sys.executable).with_name("commons")
WRITING = "revisions written, not committed"


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


#: Runs ``commons import`` and stops it for good once ``sys.argv[1]`` revisions have
#: reached the database, inside the import's transaction: the kill then lands in the
#: middle of the writing, however loaded the machine is. Pages are written in batches of
#: ten, so that by then several batches went to the database, as in a large import.
PAUSING_IMPORT = f"""
import sys
import zipfile
from sqlalchemy import event
from sqlalchemy.orm import Session
from commons.bundles import importer
from commons.cli import main
from commons.models import Revision

importer.WRITE_BATCH = 10
wanted, written = int(sys.argv[1]), 0

@event.listens_for(Session, "after_flush")
def pause(session, context):
    global written
    written += sum(isinstance(item, Revision) for item in session.new)
    if written >= wanted:
        print("{WRITING}", flush=True)
        sys.stdin.readline()  # never answered: waits for the kill

main(args=sys.argv[2:], prog_name="commons")
"""


def _revisions_in(bundle: Path) -> int:
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    return sum(len(page["revisions"]) for page in manifest["pages"])


@pytest.mark.slow
@pytest.mark.parametrize("share", [0.0, 0.6])
def test_an_import_killed_midway_leaves_nothing(tmp_path, share: float) -> None:
    bundle = _bundle(tmp_path)
    # The first revision written, or most of them.
    wanted = max(1, int(share * _revisions_in(bundle)))
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
        [sys.executable, "-c", PAUSING_IMPORT, str(wanted), "import", str(bundle)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert any(WRITING in line for line in process.stdout), "the import never wrote"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        process.stdin.close()
        process.stdout.close()
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
