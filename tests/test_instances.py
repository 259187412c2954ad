"""Two instances, one database: separate processes with separate search indexes converge."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import quote, urlsplit

import pytest

from bench.serve import gunicorn
from commons import auth, pages
from commons.extensions import db
from tests.conftest import TEST_DATABASE_URL, make_app


def _call(url: str, method: str, path: str, token: str = "", payload: dict | None = None):
    connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=30)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = None
    if payload is not None:
        body = json.dumps(payload).encode()
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def _search(url: str, words: str) -> list[str]:
    _status, found = _call(url, "GET", "/api/v1/search?q=" + quote(words))
    return [hit["slug"] for hit in found.get("results", [])]


@pytest.mark.slow
def test_an_edit_on_one_instance_is_found_on_the_other(tmp_path) -> None:
    app = make_app(tmp_path)
    with app.app_context():
        user = auth.create_user("marie", "mot de passe solide", role="member")
        token = auth.create_token(user, "instances")
        pages.save(None, title="Ferme partagée", body="Des vaches et des poules.\n", author=user)
        db.session.remove()
        db.engine.dispose()
    database = TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'commons.db'}"
    common = {"COMMONS_DATABASE_URL": database, "COMMONS_SECRET_KEY": "instances"}
    first_env = {**common, "COMMONS_INDEX_DIR": str(tmp_path / "index-a")}
    second_env = {**common, "COMMONS_INDEX_DIR": str(tmp_path / "index-b")}
    with gunicorn(env=first_env) as (first, _), gunicorn(env=second_env) as (second, _):
        assert _search(second, "vaches") == ["ferme-partagee"]
        status, page = _call(first, "GET", "/api/v1/pages/ferme-partagee")
        payload = {"body": "Des chèvres et un potager.\n", "base_revision": page["revision"]}
        status, _saved = _call(first, "PUT", "/api/v1/pages/ferme-partagee", token, payload)
        assert status == 200
        deadline = time.monotonic() + 10
        while _search(second, "chevres") != ["ferme-partagee"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _search(second, "chevres") == ["ferme-partagee"]
        assert _search(second, "vaches") == []
        _status, seen = _call(second, "GET", "/api/v1/pages/ferme-partagee")
        assert seen["body"] == "Des chèvres et un potager.\n"
