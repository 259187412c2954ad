"""Two instances, one database: separate processes with separate search indexes converge."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from bench.serve import call_json, gunicorn
from commons import auth, pages, transaction
from commons.extensions import db
from tests.conftest import TEST_DATABASE_URL, make_app


def _search(url: str, words: str) -> list[str]:
    _status, found = call_json(url, "GET", "/api/v1/search?q=" + quote(words))
    return [hit["slug"] for hit in found.get("results", [])]


@pytest.mark.slow
def test_an_edit_on_one_instance_is_found_on_the_other(tmp_path) -> None:
    app = make_app(tmp_path)
    with app.app_context():
        user = auth.create_user("marie", "mot de passe solide", role="member")
        token = auth.create_token(user, "instances")
        pages.save(None, title="Ferme partagée", body="Des vaches et des poules.\n", author=user)
        transaction.commit()
        db.session.remove()
        db.engine.dispose()
    database = TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'commons.db'}"
    common = {"COMMONS_DATABASE_URL": database, "COMMONS_SECRET_KEY": "instances"}
    first_env = {**common, "COMMONS_INDEX_DIR": str(tmp_path / "index-a")}
    second_env = {**common, "COMMONS_INDEX_DIR": str(tmp_path / "index-b")}
    with gunicorn(env=first_env) as (first, _), gunicorn(env=second_env) as (second, _):
        assert _search(second, "vaches") == ["ferme-partagee"]
        status, page = call_json(first, "GET", "/api/v1/pages/ferme-partagee")
        payload = {"body": "Des chèvres et un potager.\n", "base_revision": page["revision"]}
        status, _saved = call_json(
            first, "PUT", "/api/v1/pages/ferme-partagee", token=token, payload=payload
        )
        assert status == 200
        deadline = time.monotonic() + 10
        while _search(second, "chevres") != ["ferme-partagee"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _search(second, "chevres") == ["ferme-partagee"]
        assert _search(second, "vaches") == []
        _status, seen = call_json(second, "GET", "/api/v1/pages/ferme-partagee")
        assert seen["body"] == "Des chèvres et un potager.\n"
