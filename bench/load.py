"""A bounded loopback load generator (threads + http.client) and a gunicorn launcher."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from http.cookies import SimpleCookie


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds used so far by the live processes of one process group."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[2]) == pgid:  # fields: state, ppid, pgrp, ..., utime (11), stime (12)
            total += int(fields[11]) + int(fields[12])
    return total / tick


class Server(int):
    """The port a :func:`gunicorn` serves on, with its process group for CPU accounting."""

    pgid: int

    def cpu_seconds(self) -> float:
        return group_cpu_seconds(self.pgid)


@contextmanager
def gunicorn(app_spec: str, env: dict, *, workers: int = 2, ready_path: str = "/",
             timeout: float = 30, pin: bool = False):
    """Serve ``app_spec`` with gunicorn sync workers on a free loopback port; yield the port
    (a :class:`Server`: an ``int`` that also reports the server's CPU time). ``pin`` puts
    each worker on its own core (``bench/pin_workers.py``)."""
    port = free_port()
    config = ["-c", "python:bench.pin_workers"] if pin else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "sync", *config,
         "--backlog", "512", "-b", f"127.0.0.1:{port}", app_spec],
        env={**os.environ, **env}, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=1)
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start: "
                                       + proc.stderr.read().decode()[-2000:]) from None
                time.sleep(0.1)
        server = Server(port)
        server.pgid = proc.pid  # start_new_session: the master leads its own group
        yield server
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


class Session:
    """Cookies + CSRF token for one client, over a reusable http.client connection."""

    def __init__(self, port: int):
        self.port = int(port)
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def call(self, method: str, path: str, body=None, headers: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        head = {"Content-Type": "application/json", **(headers or {})}
        if self.cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.csrf:
            head["X-CSRF-Token"] = self.csrf
        try:
            self.conn.request(method, path, body=data, headers=head)
            response = self.conn.getresponse()
        except (ConnectionError, http.client.HTTPException):
            self.conn.close()  # the server closed a kept-alive connection: one fresh try
            self.conn.request(method, path, body=data, headers=head)
            response = self.conn.getresponse()
        raw = response.read()
        for value in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(value)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        if response.will_close:
            self.conn.close()
        payload = json.loads(raw) if raw and response.headers.get_content_subtype().endswith(
            "json") else raw
        if isinstance(payload, dict) and payload.get("csrf_token"):
            self.csrf = payload["csrf_token"]
        return response.status, payload


def run_load(workers: list, request_fn, *, max_requests: int, max_seconds: float,
             warmup: int = 50) -> dict:
    """Each thread calls ``request_fn(worker_state, i)`` until the shared budget is spent.

    Returns the latencies (s), the measured seconds and the status counts (see
    :func:`summarize`). Bounded by both ``max_requests`` and ``max_seconds``; the first
    ``warmup`` requests are not counted.
    """
    lock = threading.Lock()
    counter = iter(range(max_requests + warmup))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    start_gate = threading.Barrier(len(workers) + 1)
    window = {}

    def loop(state):
        start_gate.wait()
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
                if i == warmup:
                    window["start"] = time.perf_counter()
            if i is None:
                return
            t0 = time.perf_counter()
            try:
                status = request_fn(state, i)
            except Exception as exc:
                status = 0
                errors.append(f"{type(exc).__name__}: {exc}")
            elapsed = time.perf_counter() - t0
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if i >= warmup:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=loop, args=(w,), daemon=True) for w in workers]
    for t in threads:
        t.start()
    start_gate.wait()
    for t in threads:
        t.join(max_seconds + 30)
    end = time.perf_counter()
    return {"latencies": latencies, "seconds": end - window.get("start", end),
            "statuses": statuses, "errors": errors[:5]}


def summarize(rounds: list[dict]) -> dict:
    """Merge rounds of :func:`run_load`: requests/s over the measured time, p50/p99 in ms."""
    latencies = sorted(x for r in rounds for x in r["latencies"])
    duration = sum(r["seconds"] for r in rounds)
    statuses: dict[int, int] = {}
    for r in rounds:
        for code, n in r["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    n = len(latencies)

    def pct(p):
        return round(latencies[min(n - 1, int(p * n))] * 1000, 2) if n else None

    return {"requests": n, "seconds": round(duration, 2),
            "rps": round(n / duration, 1) if duration > 0 else 0.0,
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "statuses": statuses,
            "errors": [e for r in rounds for e in r["errors"]][:5]}
