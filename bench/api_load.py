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
import sys
import time

import loadgen
from _common import django_setup

# The load comes from one token: lift its budget so the figures measure the server, not the throttle.
loadgen.use_production_settings(API_THROTTLE_TOKEN="1000000/minute")
django_setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Q  # noqa: E402

from apps.api.models import ApiToken  # noqa: E402
from apps.api.services import api_token_issue, api_token_revoke  # noqa: E402
from apps.compliance import services  # noqa: E402
from apps.core import clock  # noqa: E402
from apps.demo import workforce  # noqa: E402
from apps.organisation.models import Employee  # noqa: E402

TOKEN_NAME = "api-load-benchmark"
SAMPLE = 2000
PAGE = 50
DEEP_PAGE = 200


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
    hr = get_user_model().objects.get(username=workforce.HR_USERNAME)
    for token in ApiToken.objects.active().filter(name=TOKEN_NAME):
        api_token_revoke(token=token, revoked_by=hr)
    _, secret = api_token_issue(name=TOKEN_NAME, user=hr, created_by=hr)
    return secret


def paths_to_load(findings: int) -> dict[str, list[str]]:
    """Per endpoint, the URLs the clients cycle through."""
    deep_page = min(DEEP_PAGE, max(1, -(-findings // PAGE)))  # a small demo has fewer pages than that
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
        f"findings: page {deep_page}": [f"/api/v1/findings/?page={deep_page}&page_size={PAGE}"],
        "employee compliance": [f"/api/v1/employees/{pk}/compliance/" for pk in ids],
        "employee compliance as_of": [f"/api/v1/employees/{pk}/compliance/?as_of={audit_day}" for pk in ids],
    }


def table_row(name: str, numbers: loadgen.Summary | None) -> str:
    if numbers is None:
        return f"| {name} | 0 | - | - | - |"
    return (
        f"| {name} | {numbers.requests} | {numbers.median_ms:.1f} ms | {numbers.p95_ms:.1f} ms "
        f"| {numbers.per_second:.1f} |"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=100_000)
    loadgen.add_load_arguments(parser)
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
    headers = {"Authorization": f"Bearer {bench_token()}", "Accept": "application/json"}
    endpoints = paths_to_load(run.result_count)

    with loadgen.gunicorn(args.workers) as port:
        # Warm-up: every worker has imported what it serves and opened its database connection.
        loadgen.run_load(port, endpoints, headers, duration=5, max_requests=4 * len(endpoints), connections=1)
        result = loadgen.run_load(
            port,
            endpoints,
            headers,
            duration=args.duration,
            max_requests=args.max_requests,
            connections=args.concurrency,
        )

    print(
        f"\nAPI load: {Employee.objects.count()} employees, gunicorn {args.workers} workers, "
        f"{args.concurrency} keep-alive connections, {result.wall:.1f} s\n"
    )
    print("| endpoint | requests | median | p95 | req/s |\n|---|---|---|---|---|")
    for name, numbers in result.summaries(overall="all").items():
        print(table_row(name, numbers))
    result.raise_for_failures()


if __name__ == "__main__":
    main()
