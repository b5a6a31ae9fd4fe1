"""A real server for tests: gunicorn on the test database, and a small cookie JSON client."""

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
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, *, workers: int = 2, env: dict | None = None):
    """gunicorn (sync workers) serving Ebb on the given database; yields (base_url, process)."""
    port = free_port()
    full_env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "live-tests",
                "RATELIMIT_ENABLED": "false", "SQLITE_SYNCHRONOUS": "FULL", **(env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--graceful-timeout", "2", "backend.wsgi:app"], env=full_env, cwd=ROOT,
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/api/v1/instruments", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("gunicorn did not start: " + proc.stderr.read().decode()[-2000:])
    try:
        yield base, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn workers: processes whose parent is the master."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == master_pid:
            pids.append(int(entry.name))
    return pids


class Http:
    """A tiny cookie-keeping JSON client for a real server (one connection at a time)."""

    def __init__(self, base: str, timeout: float = 10):
        self.base = base
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None

    def _headers(self, body: bytes | None, extra: dict | None) -> dict:
        headers = {"Content-Type": "application/json", "Connection": "close", **(extra or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        headers["Content-Length"] = str(len(body or b""))
        return headers

    def call(self, method: str, path: str, body: dict | None = None,
             headers: dict | None = None):
        """Send a request and return (status, parsed JSON); network errors propagate."""
        data = json.dumps(body).encode() if body is not None else None
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=data, headers=self._headers(data, headers))
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            for key, morsel in SimpleCookie(value).items():
                self.cookies[key] = morsel.value
        payload = json.loads(raw) if raw else None
        if isinstance(payload, dict) and payload.get("csrf_token"):
            self.csrf = payload["csrf_token"]
        return response.status, payload

    def send_and_drop(self, method: str, path: str, body: dict) -> None:
        """Send a whole request, then close the socket without reading the answer."""
        data = json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in self._headers(data, None).items())
        with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
            sock.sendall(head.encode() + b"\r\n" + data)
            sock.shutdown(socket.SHUT_WR)


def signed_in(base: str, user: dict) -> Http:
    """A clinician's client, signed in."""
    staff = Http(base)
    status, _ = staff.call("POST", "/api/v1/auth/login",
                           {"email": user["email"], "password": user["password"]})
    assert status == 200
    return staff


def enrolled_phone(base: str, staff: Http, timeout: float = 10) -> Http:
    """A new patient created by ``staff`` and a phone enrolled from their invite."""
    _, created = staff.call("POST", "/api/v1/patients", {})
    phone = Http(base, timeout=timeout)
    status, _ = phone.call("POST", "/api/v1/enroll", {"token": created["invite"]["token"]})
    assert status == 201
    return phone
