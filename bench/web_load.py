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
import sys
import time

import loadgen
from _common import ROOT, django_setup

loadgen.use_production_settings()
django_setup()

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


def aligned_line(name: str, numbers: loadgen.Summary | None) -> str:
    if numbers is None:
        return f"{name:<28} no successful requests"
    return (
        f"{name:<28} {numbers.requests:>5} requests  median {numbers.median_ms:7.1f} ms  "
        f"p95 {numbers.p95_ms:7.1f} ms  {numbers.per_second:6.1f} req/s"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=10_000)
    loadgen.add_load_arguments(parser)
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
    endpoints = {path: [path] for path in paths}
    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"}

    with loadgen.gunicorn(args.workers) as port:
        # Warm-up: every worker has imported what it serves and opened its database connection.
        loadgen.run_load(port, endpoints, headers, duration=3, max_requests=3 * len(paths), connections=1)
        result = loadgen.run_load(
            port,
            endpoints,
            headers,
            duration=args.duration,
            max_requests=args.max_requests,
            connections=args.concurrency,
        )

    print(
        f"\nweb load: {args.employees} employees in one department, gunicorn {args.workers} workers, "
        f"{args.concurrency} keep-alive connections, {result.wall:.1f} s"
    )
    for name, numbers in result.summaries(overall="all pages").items():
        print(aligned_line(name, numbers))
    result.raise_for_failures()


if __name__ == "__main__":
    main()
