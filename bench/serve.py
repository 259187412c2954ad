"""Start the wiki (or another WSGI app) under gunicorn on a free loopback port."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextmanager
def gunicorn(
    app: str = "wsgi:app",
    *,
    env: dict[str, str] | None = None,
    workers: int = 2,
    probe: str = "/licenses",
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Serve ``app`` with ``workers`` sync workers; yields its URL and the master process."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--timeout",
            "60",
            app,
        ],  # fmt: skip
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + probe)
        yield url, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def worker_pids(master: subprocess.Popen) -> list[int]:
    """The worker processes of a gunicorn master (Linux)."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children")
    return [int(pid) for pid in children.read_text().split()]


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def call_json(
    url: str, method: str, path: str, *, token: str = "", payload: dict | None = None
) -> tuple[int, dict]:
    """One HTTP request with an optional JSON body and bearer token; status and JSON answer.

    Network failures (a worker killed mid-request) raise ConnectionError or HTTPException.
    """
    connection = http.client.HTTPConnection(urlsplit(url).netloc or url, timeout=60)
    headers = {"Accept-Language": "fr"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = None
    if payload is not None:
        body = json.dumps(payload).encode()
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    is_json = response.getheader("Content-Type", "").startswith("application/json")
    return response.status, (json.loads(raw) if is_json and raw else {})
