"""Load generation for the load benchmarks: credtrack under gunicorn, and keep-alive HTTP clients against it.

It only ever targets 127.0.0.1: gunicorn binds there and every client connects there. It stops by itself: a
load ends when its duration has passed or its request budget is spent, whichever comes first, and gunicorn is
terminated when the `gunicorn` block is left, whether the load finished or failed.
"""

import argparse
import contextlib
import http.client
import os
import random
import secrets
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from _common import ROOT, free_port

LOOPBACK = "127.0.0.1"
STARTUP_SECONDS = 60
REQUEST_TIMEOUT_SECONDS = 120  # gunicorn's own worker timeout, below


def use_production_settings(**extra_env: str) -> None:
    """Production settings (DEBUG off) for plain HTTP on loopback, in this process's environment.

    Call it before django_setup(): what the script writes (sessions, tokens) is then signed with the same
    SECRET_KEY as the gunicorn it starts, which inherits this environment.
    """
    os.environ.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-" + secrets.token_urlsafe(32),
            "ALLOWED_HOSTS": LOOPBACK,
            "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback; TLS is the proxy's job in production
            "CONN_MAX_AGE": "60",
            "LOG_LEVEL": "WARNING",
            **extra_env,
        }
    )


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, default=30, help="seconds of load (after a short warm-up)")
    parser.add_argument("--max-requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=4, help="client connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")


@contextlib.contextmanager
def gunicorn(workers: int) -> Iterator[int]:
    """credtrack under gunicorn on a free loopback port, yielded once /healthz answers; terminated on leaving."""
    port = free_port()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "credtrack.wsgi",
            "--bind",
            f"{LOOPBACK}:{port}",
            "--workers",
            str(workers),
            "--timeout",
            str(REQUEST_TIMEOUT_SECONDS),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "credtrack.settings"},
    )
    try:
        _wait_until_healthy(server, port)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_until_healthy(server: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {server.returncode} before answering /healthz")
        probe = http.client.HTTPConnection(LOOPBACK, port, timeout=2)
        try:
            probe.request("GET", "/healthz")
            if probe.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            probe.close()
        time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer /healthz within {STARTUP_SECONDS} s")


@dataclass(frozen=True)
class Summary:
    requests: int
    median_ms: float
    p95_ms: float
    per_second: float


def summary(seconds: list[float], wall: float) -> Summary | None:
    """Latency and throughput of these successful requests over `wall` seconds; None when there were none."""
    if not seconds:
        return None
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    return Summary(len(ordered), statistics.median(ordered) * 1000, p95 * 1000, len(ordered) / wall)


@dataclass(frozen=True)
class LoadResult:
    timings: dict[str, list[float]]  # per endpoint, the seconds each successful (200) request took
    failures: list[str]
    wall: float

    def summaries(self, overall: str) -> dict[str, Summary | None]:
        """Per endpoint, then under `overall` for all endpoints together."""
        summaries = {name: summary(seconds, self.wall) for name, seconds in self.timings.items()}
        summaries[overall] = summary([s for seconds in self.timings.values() for s in seconds], self.wall)
        return summaries

    def raise_for_failures(self) -> None:
        if self.failures:
            raise SystemExit(f"{len(self.failures)} failed requests, e.g. {self.failures[:3]}")


def run_load(
    port: int,
    endpoints: dict[str, list[str]],
    headers: dict[str, str],
    *,
    duration: float,
    max_requests: int,
    connections: int,
) -> LoadResult:
    """GET requests from `connections` keep-alive connections until `duration` seconds or `max_requests` run out.

    Each connection takes the endpoints in turn (starting at a different one) and requests one of that
    endpoint's paths, picked at random (reproducibly: seeded by the connection's number).
    """
    timings: dict[str, list[float]] = {name: [] for name in endpoints}
    failures: list[str] = []
    budget = threading.Semaphore(max_requests)
    lock = threading.Lock()
    stop_at = time.monotonic() + duration
    headers = {"Host": LOOPBACK, **headers}
    names = list(endpoints)

    def connection(number: int) -> None:
        chooser = random.Random(number)
        client = http.client.HTTPConnection(LOOPBACK, port, timeout=REQUEST_TIMEOUT_SECONDS)
        turn = number
        while time.monotonic() < stop_at and budget.acquire(blocking=False):
            name = names[turn % len(names)]
            turn += 1
            path = chooser.choice(endpoints[name])
            started = time.perf_counter()
            try:
                client.request("GET", path, headers=headers)
                response = client.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as error:
                # Counted rather than left to end the thread, which would quietly lower the concurrency.
                with lock:
                    failures.append(f"{path}: {error!r}")
                client.close()
                continue
            elapsed = time.perf_counter() - started
            with lock:
                if response.status == 200:
                    timings[name].append(elapsed)
                else:
                    failures.append(f"{path}: {response.status}")
        client.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=connection, args=(number,)) for number in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LoadResult(timings, failures, time.perf_counter() - started)
