"""Benchmark: the full rebuild of every employee's status periods, and the nightly sync, against a floor.

    .venv/bin/python bench/timeline_rebuild.py [--employees 100000] [--workers 2] [--nights 7] [--reseed]

Runs against the configured database (DATABASE_URL; PostgreSQL for figures that mean anything). Seeds with
`seed_demo` unless the database already holds exactly that many employees. Then:

1. the floor (bench/timeline_floor.py: plain Python writing a comparable number of periods by COPY, no
   framework and no rules) in a scratch database `<name>_floor`, measured before and after the rebuild;
2. the full rebuild in this process, chunk after chunk, counting queries and peak memory;
3. with `--workers N`, the same rebuild as the Celery tasks run it on N worker processes (needs REDIS_URL);
4. with `--nights K`, K nights in a row: each day 1% of staff renew a card (written with history, as an
   import would), the clock moves on a day, and the nightly sync runs; it prints each night's time.

The last line reads: rebuild: N employees, P periods, X s, Q queries, peak RSS M MB (floor F s).
"""

import argparse
import datetime
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, django_setup, peak_rss_mb

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("CONN_MAX_AGE", "0")
django_setup()

import psycopg  # noqa: E402
import time_machine  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from simple_history.utils import bulk_create_with_history  # noqa: E402

from apps.certifications.models import Credential  # noqa: E402
from apps.compliance import timeline_store  # noqa: E402
from apps.compliance.models import EmployeePeriod, RequirementPeriod, TimelineState  # noqa: E402
from apps.core import clock  # noqa: E402
from apps.organisation.models import Employee  # noqa: E402


def floor(employees: int) -> float:
    """Run the floor script in a scratch database next to ours; returns its build time in seconds."""
    params = connection.get_connection_params()
    name = f"{connection.settings_dict['NAME']}_floor"
    server = {k: v for k, v in params.items() if k in ("host", "port", "user", "password")}
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        if not admin.execute("select 1 from pg_database where datname = %s", [name]).fetchone():
            admin.execute(f'create database "{name}"')
    dsn = psycopg.conninfo.make_conninfo(dbname=name, **{k: str(v) for k, v in server.items()})
    output = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "timeline_floor.py"), "--employees", str(employees), "--dsn", dsn],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    print(output.strip())
    return float(re.search(r"by COPY in ([\d.]+) s", output).group(1))


def rebuild_on_workers(workers: int) -> tuple[float, float]:
    """Start `workers` worker processes, queue the rebuild task, time it until the horizon is published.

    Returns (seconds, the largest peak RSS among the worker processes in MB).
    """
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("--workers needs REDIS_URL (a real broker)")
    from apps.compliance import tasks
    from credtrack.celery import app

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "credtrack", "worker", "-c", str(workers), "-l", "WARNING"]
        + ["--without-gossip", "--without-mingle"],
        cwd=ROOT,
    )
    try:
        while not app.control.ping(timeout=1):
            time.sleep(0.5)
        before = TimelineState.objects.values_list("rebuilt_at", flat=True).first()
        started = time.perf_counter()
        tasks.timeline_rebuild.delay()
        while TimelineState.objects.values_list("rebuilt_at", flat=True).first() == before:
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        return elapsed, _peak_rss_of_children(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def _peak_rss_of_children(pid: int) -> float:
    """VmHWM (peak resident set) of the worker's pool processes, from /proc, in MB."""
    peaks = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        status = Path(f"/proc/{child}/status").read_text()
        peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024)
    return max(peaks, default=0.0)


def nights(count: int, share: float) -> list[tuple[float, object]]:
    """`count` nights: each day `share` of staff renew a card, the clock moves a day, the sync runs."""
    rng = random.Random(7)
    ids = list(Employee.objects.filter(terminated_on__isnull=True).values_list("id", flat=True))
    held = dict(
        Credential.objects.order_by("employee_id", "issued_on").values_list("employee_id", "certification_type_id")
    )
    results = []
    day = clock.today()
    for _ in range(count):
        day += datetime.timedelta(days=1)
        with time_machine.travel(datetime.datetime.combine(day, datetime.time(9), tzinfo=datetime.UTC)):
            renewing = [pk for pk in rng.sample(ids, int(len(ids) * share)) if pk in held]
            renewals = [
                Credential(
                    employee_id=pk,
                    certification_type_id=held[pk],
                    issued_on=day,
                    expires_on=day + datetime.timedelta(days=730),
                    verification=Credential.Verification.VERIFIED,
                )
                for pk in renewing
            ]
            bulk_create_with_history(renewals, Credential, batch_size=2000)
        with time_machine.travel(datetime.datetime.combine(day, datetime.time(23), tzinfo=datetime.UTC)):
            started = time.perf_counter()
            report = timeline_store.sync()
            results.append((time.perf_counter() - started, report))
        print(f"night {day}: {len(renewals)} people changed; sync {results[-1][0]:.2f} s ({report})")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reseed", action="store_true", help="replace the demo data even if the count matches")
    parser.add_argument("--workers", type=int, default=0, help="also rebuild on N Celery worker processes")
    parser.add_argument("--nights", type=int, default=0, help="then run the nightly sync for N simulated nights")
    parser.add_argument("--share", type=float, default=0.01, help="share of staff changed each night")
    args = parser.parse_args()

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    if args.reseed or Employee.objects.count() != args.employees:
        started = time.perf_counter()
        call_command("seed_demo", employees=args.employees, seed=args.seed, replace=True, skip_scan=True, verbosity=0)
        print(f"seeded {args.employees} employees in {time.perf_counter() - started:.1f} s")
    employees = Employee.objects.count()

    floor_before = floor(employees)
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        state = timeline_store.rebuild_all()
        elapsed = time.perf_counter() - started
    rss = peak_rss_mb()
    periods = EmployeePeriod.objects.count() + RequirementPeriod.objects.count()
    print(f"single process: {elapsed:.1f} s to {state.horizon}, {len(captured)} queries, peak RSS {rss:.0f} MB")
    if args.workers:
        on_workers, worker_rss = rebuild_on_workers(args.workers)
        print(
            f"on {args.workers} workers: {on_workers:.1f} s ({on_workers / elapsed:.0%} of one process), "
            f"peak RSS per worker {worker_rss:.0f} MB"
        )
    floor_after = floor(employees)
    best_floor = min(floor_before, floor_after)
    print(f"ratio to the floor: {elapsed / best_floor:.1f}x (floors {floor_before:.1f} s and {floor_after:.1f} s)")
    if args.nights:
        today = clock.today()
        try:
            times = [seconds for seconds, _ in nights(args.nights, args.share)]
        finally:  # the simulated renewals go, so the next run starts from the same data
            Credential.history.filter(issued_on__gt=today).delete()
            Credential.objects.filter(issued_on__gt=today)._raw_delete(Credential.objects.db)
        print(f"nightly: {len(times)} nights, median {statistics.median(times):.2f} s, worst {max(times):.2f} s")
    print(
        f"rebuild: {employees} employees, {periods} periods, {elapsed:.1f} s, {len(captured)} queries, "
        f"peak RSS {rss:.0f} MB (floor {best_floor:.1f} s)"
    )


if __name__ == "__main__":
    main()
