"""Benchmark: a manager's dashboard and people list for a 10,000-employee department, under load.

    createdb -h 127.0.0.1 -U postgres credtrack_webbench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credtrack_webbench \\
        .venv/bin/python bench/web_load.py [--employees 10000] [--duration 30] [--max-requests 3000] \\
        [--concurrency 4] [--workers 2]

Seeds the catalogue and one department of that many nurses with their cards (once: a second run reuses
them), runs the compliance scan, adds twelve weeks of snapshots for the trend chart, and signs a manager
in by creating a session directly. Then starts gunicorn on 127.0.0.1 (production settings: DEBUG off,
whitenoise with collected static files), sends a bounded load to the dashboard and the first and a deep
page of the people list from `--concurrency` keep-alive connections, stops gunicorn, and prints median and
p95 latency and requests per second, per page and overall. Loopback only; bounded by time and requests.
"""

import argparse
import datetime
import http.client
import os
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
    "SECRET_KEY": os.environ.get("SECRET_KEY") or "web-bench-" + secrets.token_urlsafe(32),
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback; TLS is the proxy's job in production
    "CONN_MAX_AGE": "60",
    "LOG_LEVEL": "WARNING",
}
os.environ.update(SERVER_ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credtrack.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from apps.certifications.models import CertificationType, Credential  # noqa: E402
from apps.compliance import services  # noqa: E402
from apps.compliance.models import Snapshot  # noqa: E402
from apps.core import clock  # noqa: E402
from apps.organisation.models import Department, Employee, Role  # noqa: E402

DEPARTMENT = "ED"
MANAGER = "bench-manager"
BATCH = 5000


def seed(employees: int) -> Department:
    """The catalogue, and `employees` ED nurses with BLS and ACLS cards whose expiries spread over four years."""
    if not CertificationType.objects.exists():
        call_command("loaddata", str(ROOT / "fixtures" / "catalogue.json"), verbosity=0)
    department = Department.objects.get(code=DEPARTMENT)
    have = Employee.objects.filter(department=department).count()
    if have >= employees:
        print(f"reusing {have} employees in {department}")
        return department
    nurse = Role.objects.get(code="registered-nurse")
    bls, acls = CertificationType.objects.get(code="BLS"), CertificationType.objects.get(code="ACLS")
    today = clock.today()
    started = time.perf_counter()
    for first in range(have, employees, BATCH):
        people = Employee.objects.bulk_create(
            Employee(
                employee_number=f"WB{number:07d}",
                first_name=f"Nurse{number}",
                last_name=f"Bench{number:05d}",
                email=f"wb{number}@bench.example",
                role=nurse,
                department=department,
                hired_on=today - datetime.timedelta(days=400 + number % 3000),
                assigned_on=today - datetime.timedelta(days=400 + number % 3000),
            )
            for number in range(first, min(first + BATCH, employees))
        )
        cards = []
        for person in people:
            number = int(person.employee_number[2:])
            issued = today - datetime.timedelta(days=(number * 37) % 800)
            if number % 23:  # about 4% never uploaded a BLS card
                cards.append(_card(person, bls, issued, number))
            if number % 11:
                cards.append(_card(person, acls, issued - datetime.timedelta(days=number % 5), number))
        Credential.objects.bulk_create(cards, batch_size=BATCH)
    print(f"seeded {employees - have} employees in {time.perf_counter() - started:.1f} s")
    return department


def _card(person, kind, issued, number) -> Credential:
    return Credential(
        employee=person,
        certification_type=kind,
        issued_on=issued,
        expires_on=issued + datetime.timedelta(days=730),
        card_number=f"{kind.code}-{number:07d}",
        verification=Credential.Verification.PENDING if number % 97 == 0 else Credential.Verification.VERIFIED,
    )


def weekly_snapshots(department: Department) -> None:
    """Twelve past weeks of department snapshots, so the trend chart draws what a real one would."""
    today = clock.today()
    current = Snapshot.objects.get(day=today, dimension=Snapshot.Dimension.DEPARTMENT, key=department.pk)
    Snapshot.objects.filter(dimension=Snapshot.Dimension.DEPARTMENT, key=department.pk, day__lt=today).delete()
    Snapshot.objects.bulk_create(
        Snapshot(
            day=today - datetime.timedelta(weeks=week),
            dimension=Snapshot.Dimension.DEPARTMENT,
            key=department.pk,
            total=current.total,
            counts={**current.counts, "compliant": max(0, current.counts.get("compliant", 0) - week * 40)},
        )
        for week in range(1, 13)
    )


def manager_session(department: Department) -> str:
    """A signed-in session for the department's manager, created directly in the session store."""
    manager, _ = get_user_model().objects.get_or_create(username=MANAGER)
    department.managers.add(manager)
    session = SessionStore()
    session[SESSION_KEY] = str(manager.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = manager.get_session_auth_hash()
    session.create()
    return session.session_key


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
            connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection_.request("GET", "/healthz")
            if connection_.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def load(port: int, cookie: str, paths: list[str], duration: float, max_requests: int, concurrency: int):
    """Each worker cycles through the paths on its own keep-alive connection until time or requests run out."""
    timings: dict[str, list[float]] = {path: [] for path in paths}
    failures: list[str] = []
    budget = threading.Semaphore(max_requests)
    lock = threading.Lock()
    stop_at = time.monotonic() + duration
    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}", "Host": "127.0.0.1"}

    def worker(offset: int):
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        turn = offset
        while time.monotonic() < stop_at and budget.acquire(blocking=False):
            path = paths[turn % len(paths)]
            turn += 1
            started = time.perf_counter()
            client.request("GET", path, headers=headers)
            response = client.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                if response.status == 200:
                    timings[path].append(elapsed)
                else:
                    failures.append(f"{path}: {response.status}")
        client.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings, failures, time.perf_counter() - started


def summary(name: str, seconds: list[float], wall: float) -> str:
    if not seconds:
        return f"{name:<28} no successful requests"
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered))) - 1)]
    return (
        f"{name:<28} {len(ordered):>5} requests  median {statistics.median(ordered) * 1000:7.1f} ms  "
        f"p95 {p95 * 1000:7.1f} ms  {len(ordered) / wall:6.1f} req/s"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=30, help="seconds of load (after a short warm-up)")
    parser.add_argument("--max-requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=4, help="client connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("warning: not PostgreSQL; set DATABASE_URL for figures that mean anything", file=sys.stderr)

    call_command("migrate", verbosity=0)
    department = seed(args.employees)
    started = time.perf_counter()
    services.scan_run()
    print(f"compliance scan: {time.perf_counter() - started:.1f} s")
    weekly_snapshots(department)
    if connection.vendor == "postgresql":
        # Fresh bulk-loaded tables have no planner statistics yet; autovacuum would gather them within minutes.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    cookie = manager_session(department)
    call_command("collectstatic", interactive=False, verbosity=0)
    last_page = -(-Employee.objects.filter(department=department).count() // 50)
    paths = ["/dashboard/", "/employees/", f"/employees/?page={last_page // 2}"]

    port = free_port()
    server = start_gunicorn(port, args.workers)
    try:
        load(port, cookie, paths, duration=3, max_requests=3 * len(paths), concurrency=1)  # warm-up
        timings, failures, wall = load(port, cookie, paths, args.duration, args.max_requests, args.concurrency)
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(
        f"\nweb load: {args.employees} employees in one department, gunicorn {args.workers} workers, "
        f"{args.concurrency} keep-alive connections, {wall:.1f} s"
    )
    for path, seconds in timings.items():
        print(summary(path, seconds, wall))
    print(summary("all pages", [s for seconds in timings.values() for s in seconds], wall))
    if failures:
        raise SystemExit(f"{len(failures)} failed requests, e.g. {failures[:3]}")


if __name__ == "__main__":
    main()
