"""Benchmark: the findings and employee-compliance API endpoints over the demo workforce, under load.

    createdb -h 127.0.0.1 -U postgres credtrack_apibench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credtrack_apibench \\
        .venv/bin/python bench/api_load.py [--employees 100000] [--duration 30] [--max-requests 3000] \\
        [--concurrency 4] [--workers 2]

Seeds the demo workforce with `seed_demo` (once: a second run with as many employees reuses it), runs the
compliance scan, and issues an API token to the demo HR login. Then starts gunicorn on 127.0.0.1 (production
settings: DEBUG off), sends a bounded load from `--concurrency` keep-alive connections, each cycling through
the findings list (who is not current; a department's renewals due within 60 days; a deep page) and the
compliance of one employee (a different person each time, stored results and as of a past day), stops
gunicorn, and prints median and p95 latency and requests per second per endpoint and overall.
Loopback only; bounded by time and by number of requests.
"""

import argparse
import datetime
import http.client
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SERVER_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": os.environ.get("SECRET_KEY") or "api-bench-" + secrets.token_urlsafe(32),
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback; TLS is the proxy's job in production
    "CONN_MAX_AGE": "60",
    "LOG_LEVEL": "WARNING",
    # The load comes from one token: lift its budget so the figures measure the server, not the throttle.
    "API_THROTTLE_TOKEN": "1000000/minute",
}
os.environ.update(SERVER_ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credtrack.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Q  # noqa: E402

from apps.api.models import ApiToken  # noqa: E402
from apps.api.services import api_token_issue, api_token_revoke  # noqa: E402
from apps.compliance import services  # noqa: E402
from apps.core import clock  # noqa: E402
from apps.organisation import demo  # noqa: E402
from apps.organisation.models import Employee  # noqa: E402

TOKEN_NAME = "api-load-benchmark"
SAMPLE = 2000
PAGE = 50


def seed(employees: int) -> None:
    have = Employee.objects.count()
    if have >= employees:
        print(f"reusing {have} employees")
        return
    started = time.perf_counter()
    call_command("seed_demo", employees=employees, replace=have > 0, skip_scan=True, verbosity=0)
    print(f"seed_demo --employees {employees}: {time.perf_counter() - started:.1f} s")


def bench_token() -> str:
    """A fresh token for the demo HR login (revoking the previous run's)."""
    hr = get_user_model().objects.get(username=demo.HR_USERNAME)
    for token in ApiToken.objects.active().filter(name=TOKEN_NAME):
        api_token_revoke(token=token, revoked_by=hr)
    _, secret = api_token_issue(name=TOKEN_NAME, user=hr, created_by=hr)
    return secret


def paths_to_load() -> dict[str, list[str]]:
    """Per endpoint, the URLs the clients cycle through."""
    today = clock.today()
    employed = Employee.objects.filter(Q(terminated_on__isnull=True) | Q(terminated_on__gte=today))
    ids = list(employed.order_by("?").values_list("id", flat=True)[:SAMPLE])
    department = Employee.objects.values_list("department__code", flat=True).first()
    audit_day = today - datetime.timedelta(days=365)
    return {
        "findings: not current": [f"/api/v1/findings/?compliant=false&page_size={PAGE}"],
        "findings: dept, due in 60 days": [
            f"/api/v1/findings/?department={department}&expiring_within=60&page_size={PAGE}"
        ],
        "findings: page 200": [f"/api/v1/findings/?page=200&page_size={PAGE}"],
        "employee compliance": [f"/api/v1/employees/{pk}/compliance/" for pk in ids],
        "employee compliance as_of": [f"/api/v1/employees/{pk}/compliance/?as_of={audit_day}" for pk in ids],
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, **SERVER_ENV, "DJANGO_SETTINGS_MODULE": "credtrack.settings"}
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "credtrack.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            probe.request("GET", "/healthz")
            if probe.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def load(port: int, secret: str, endpoints: dict[str, list[str]], duration: float, max_requests: int, clients: int):
    """Each client cycles through the endpoints on its own keep-alive connection until time or requests run out."""
    timings: dict[str, list[float]] = {name: [] for name in endpoints}
    failures: list[str] = []
    budget = threading.Semaphore(max_requests)
    lock = threading.Lock()
    stop_at = time.monotonic() + duration
    headers = {"Authorization": f"Bearer {secret}", "Host": "127.0.0.1", "Accept": "application/json"}
    names = list(endpoints)

    def client(offset: int):
        chooser = random.Random(offset)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        turn = offset
        while time.monotonic() < stop_at and budget.acquire(blocking=False):
            name = names[turn % len(names)]
            turn += 1
            path = chooser.choice(endpoints[name])
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                if response.status == 200:
                    timings[name].append(elapsed)
                else:
                    failures.append(f"{path}: {response.status}")
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings, failures, time.perf_counter() - started


def summary(name: str, seconds: list[float], wall: float) -> str:
    if not seconds:
        return f"| {name} | 0 | - | - | - |"
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered))) - 1)]
    return (
        f"| {name} | {len(ordered)} | {statistics.median(ordered) * 1000:.1f} ms | {p95 * 1000:.1f} ms "
        f"| {len(ordered) / wall:.1f} |"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=30, help="seconds of load (after a short warm-up)")
    parser.add_argument("--max-requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=4, help="client connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("warning: not PostgreSQL; set DATABASE_URL for figures that mean anything", file=sys.stderr)

    call_command("migrate", verbosity=0)
    seed(args.employees)
    started = time.perf_counter()
    run = services.scan_run()
    print(f"compliance scan: {time.perf_counter() - started:.1f} s ({run.result_count} requirement results)")
    if connection.vendor == "postgresql":
        # Fresh statistics, as autovacuum would have gathered on a live database after a bulk load.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    secret = bench_token()
    endpoints = paths_to_load()

    port = free_port()
    server = start_gunicorn(port, args.workers)
    try:
        load(port, secret, endpoints, duration=5, max_requests=4 * len(endpoints), clients=1)  # warm-up
        timings, failures, wall = load(port, secret, endpoints, args.duration, args.max_requests, args.concurrency)
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(
        f"\nAPI load: {Employee.objects.count()} employees, gunicorn {args.workers} workers, "
        f"{args.concurrency} keep-alive connections, {wall:.1f} s\n"
    )
    print("| endpoint | requests | median | p95 | req/s |\n|---|---|---|---|---|")
    for name, seconds in timings.items():
        print(summary(name, seconds, wall))
    print(summary("all", [s for seconds in timings.values() for s in seconds], wall))
    if failures:
        raise SystemExit(f"{len(failures)} failed requests, e.g. {failures[:3]}")


if __name__ == "__main__":
    main()
