"""Benchmark: pages and API answered from the stored status periods, under load, on the demo workforce.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/credtrack_timeline
    .venv/bin/python bench/timeline_load.py [--employees 100000] [--duration 30] [--concurrency 4] [--workers 2]

Seeds the demo workforce with `seed_demo` if the database holds fewer employees, rebuilds the status periods unless
they reach today's horizon, signs the demo HR login in (a session made directly in the store) and issues it an API
token. Then starts gunicorn on 127.0.0.1 (production settings, DEBUG off) and cycles `--concurrency` keep-alive
connections over: the HR dashboard today, the dashboard for a past day (a different day each time), the 90-day
forecast page, the API's department roll-up as of a past day, and one employee's compliance as of a past day (a
different person and day each time). Loopback only; bounded by time and by number of requests. The last line reads:
timeline: dashboard p95 X ms, past day p95 Y ms, forecast p95 Z ms, api as_of p95 W ms, employee as_of p95 V ms
"""

import argparse
import datetime
import random
import sys
import time

import loadgen
from _common import django_setup

loadgen.use_production_settings(API_THROTTLE_TOKEN="1000000/minute")
django_setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from apps.api.models import ApiToken  # noqa: E402
from apps.api.services import api_token_issue, api_token_revoke  # noqa: E402
from apps.compliance import periods, selectors, services, timeline_store  # noqa: E402
from apps.core import clock  # noqa: E402
from apps.demo import workforce  # noqa: E402
from apps.organisation.models import Employee  # noqa: E402

TOKEN_NAME = "timeline-load-benchmark"
SAMPLE = 2000


def hr_session(hr) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(hr.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = hr.get_session_auth_hash()
    session.create()
    return session.session_key


def hr_token(hr) -> str:
    for token in ApiToken.objects.active().filter(name=TOKEN_NAME):
        api_token_revoke(token=token, revoked_by=hr)
    _, secret = api_token_issue(name=TOKEN_NAME, user=hr, created_by=hr)
    return secret


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=100_000)
    loadgen.add_load_arguments(parser)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("warning: not PostgreSQL; set DATABASE_URL for figures that mean anything", file=sys.stderr)
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # production settings serve hashed names
    if Employee.objects.count() < args.employees:
        call_command("seed_demo", employees=args.employees, replace=True, skip_scan=True, verbosity=0)
    if selectors.current_run() is None:  # /healthz, which the load waits for, wants a completed scan
        services.scan_run()
    today = clock.today()
    if not periods.covers(today + datetime.timedelta(days=90)):
        started = time.perf_counter()
        timeline_store.rebuild_all()
        print(f"rebuilt the status periods in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh statistics, as autovacuum would have gathered after a bulk load
    hr = get_user_model().objects.get(username=workforce.HR_USERNAME)
    rng = random.Random(12)
    past = [today - datetime.timedelta(days=rng.randint(1, 900)) for _ in range(200)]
    ids = list(Employee.objects.order_by("?").values_list("id", flat=True)[:SAMPLE])
    web = {
        "dashboard today": ["/dashboard/"],
        "dashboard past day": [f"/dashboard/?as_of={day}" for day in past],
        "forecast 90 days": ["/forecast/?days=90"],
    }
    api = {
        "api departments as_of": [f"/api/v1/compliance/departments/?as_of={day}" for day in past],
        "api employee as_of": [f"/api/v1/employees/{pk}/compliance/?as_of={rng.choice(past)}" for pk in ids],
    }
    cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={hr_session(hr)}"}
    bearer = {"Authorization": f"Bearer {hr_token(hr)}", "Accept": "application/json"}
    results = {}
    with loadgen.gunicorn(args.workers) as port:
        for endpoints, headers in ((web, cookie), (api, bearer)):
            loadgen.run_load(port, endpoints, headers, duration=5, max_requests=4 * len(endpoints), connections=1)
            result = loadgen.run_load(
                port,
                endpoints,
                headers,
                duration=args.duration,
                max_requests=args.max_requests,
                connections=args.concurrency,
            )
            result.raise_for_failures()
            results.update(result.summaries(overall="_"))
    results.pop("_", None)
    print(f"\n{Employee.objects.count()} employees, gunicorn {args.workers} workers, {args.concurrency} connections\n")
    print("| request | requests | median | p95 | req/s |\n|---|---|---|---|---|")
    for name, n in results.items():
        print(f"| {name} | {n.requests} | {n.median_ms:.0f} ms | {n.p95_ms:.0f} ms | {n.per_second:.1f} |")
    p95 = {name: numbers.p95_ms for name, numbers in results.items()}
    print(
        f"timeline: dashboard p95 {p95['dashboard today']:.0f} ms, past day p95 {p95['dashboard past day']:.0f} ms, "
        f"forecast p95 {p95['forecast 90 days']:.0f} ms, api as_of p95 {p95['api departments as_of']:.0f} ms, "
        f"employee as_of p95 {p95['api employee as_of']:.0f} ms"
    )


if __name__ == "__main__":
    main()
