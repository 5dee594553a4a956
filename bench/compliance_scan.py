"""Benchmark: the full compliance scan over a seeded workforce, against the floors in docs/performance.md.

    .venv/bin/python bench/compliance_scan.py [--employees 100000] [--seed 1] [--sample 2000] [--reseed]

Runs against the configured database (DATABASE_URL; PostgreSQL for figures that mean anything). Seeds with
`seed_demo` unless the database already holds exactly that many employees. Then runs the scan as the nightly
job does (in this process, chunk after chunk; `--workers 2` runs it on that many Celery worker processes
instead, which needs REDIS_URL), and the naive per-employee ORM loop over a sample for comparison.
The last line reads: scan: N employees, M credentials, T s, Q queries, peak RSS R MB.
"""

import argparse
import os
import subprocess
import sys
import time

from _common import ROOT, django_setup, peak_rss_mb

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("CONN_MAX_AGE", "0")
django_setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from apps.certifications.models import Credential  # noqa: E402
from apps.compliance import engine, selectors, services  # noqa: E402
from apps.compliance.models import ComplianceRun, RequirementStatus  # noqa: E402
from apps.core import clock  # noqa: E402
from apps.organisation.models import Employee  # noqa: E402

FLOORS = "floor (docs/performance.md): read 500k credentials 0.41 s; evaluate 100k + write 141,626 rows 1.07 s, 227 MB"


def naive_orm_loop(sample: int, run: ComplianceRun) -> float:
    """What a straightforward implementation does: a query per employee for credentials, then a
    delete and a save() per result row. Rolled back afterwards, so the stored results stay as they were."""
    catalogue = selectors.load_catalogue()
    today = clock.today()
    started = time.perf_counter()
    with transaction.atomic():
        for employee in Employee.objects.order_by("id")[:sample]:
            credentials = tuple(
                engine.CredentialFact(c.id, c.certification_type_id, c.issued_on, c.expires_on, c.verification)
                for c in employee.credentials.all()
            )
            facts = engine.EmployeeFacts(
                employee.id,
                employee.role_id,
                employee.department_id,
                employee.assigned_on,
                employee.hired_on,
                employee.terminated_on,
                credentials,
            )
            result = engine.evaluate_employee(facts, catalogue, today)
            RequirementStatus.objects.filter(run=run, employee=employee).delete()
            for r in result.requirements if result else ():
                RequirementStatus(
                    run=run,
                    employee=employee,
                    requirement_id=r.requirement_id,
                    mandatory=r.mandatory,
                    status=r.status,
                    reason=r.reason,
                    credential_id=r.credential_id,
                    expires_on=r.expires_on,
                    due_on=r.due_on,
                    since=r.since,
                    computed_at=clock.now(),
                ).save()
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def scan_on_workers(workers: int) -> tuple[ComplianceRun, float]:
    """Start `workers` worker processes, queue the nightly task, time it until the run completes."""
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("--workers needs REDIS_URL (a real broker)")
    from apps.compliance import tasks

    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "credtrack",
            "worker",
            "-c",
            str(workers),
            "-l",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
    )
    try:
        from credtrack.celery import app

        while not app.control.ping(timeout=1):
            time.sleep(0.5)
        before = ComplianceRun.objects.order_by("-id").values_list("id", flat=True).first() or 0
        started = time.perf_counter()
        tasks.full_scan.delay()
        while True:
            run = ComplianceRun.objects.filter(id__gt=before).exclude(state=ComplianceRun.State.RUNNING).first()
            if run:
                return run, time.perf_counter() - started
            time.sleep(0.05)
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=int, default=2000, help="employees in the naive ORM loop")
    parser.add_argument("--reseed", action="store_true", help="replace the demo data even if the count matches")
    parser.add_argument("--workers", type=int, default=0, help="run the scan on N Celery worker processes")
    args = parser.parse_args()

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    if args.reseed or Employee.objects.count() != args.employees:
        started = time.perf_counter()
        call_command("seed_demo", employees=args.employees, seed=args.seed, replace=True, verbosity=0)
        print(f"seeded {args.employees} employees in {time.perf_counter() - started:.1f} s")
    employees, credentials = Employee.objects.count(), Credential.objects.count()

    if args.workers:
        run, elapsed = scan_on_workers(args.workers)
        print(f"scan on {args.workers} worker processes: run {run.id} {run.state}, {run.chunk_count} chunks")
        queries = "n/a (in workers)"
    else:
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            run = services.scan_run()
            elapsed = time.perf_counter() - started
        queries = len(captured)
    rss = peak_rss_mb()
    print(f"results: {run.employee_count} employee statuses, {run.result_count} requirement statuses")
    naive = naive_orm_loop(args.sample, run)
    per_employee = naive / args.sample
    print(
        f"naive per-employee ORM loop: {args.sample} employees in {naive:.2f} s "
        f"({per_employee * 1000:.2f} ms each; {per_employee * employees:.0f} s projected for {employees}, "
        f"{per_employee * employees / elapsed:.0f}x the scan)"
    )
    print(FLOORS)
    print(
        f"scan: {employees} employees, {credentials} credentials, {elapsed:.1f} s, {queries} queries, "
        f"peak RSS {rss:.0f} MB"
    )


if __name__ == "__main__":
    main()
