"""Benchmark: make the logins of 100k employees at once, as an import or the first deployment does.

    createdb -h 127.0.0.1 -U postgres credtrack_provbench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credtrack_provbench .venv/bin/python bench/provision_accounts.py

On a database of its own: it migrates it, removes the employees and logins an earlier run made (numbers
starting "PB"), writes `--employees` new employees with COPY, then times accounts_provision for them all
(first run: every login made and linked), again (nothing to do), after 1% of addresses changed, and the
nightly leavers check after 1% left. In the same run it measures the floor: the same 100k login rows
COPYed into a bare copy of the user table and linked with one UPDATE ... FROM, with no framework at all.
The last lines hold the figures.
"""

import argparse
import datetime
import os
import time

from _common import django_setup, peak_rss_mb

os.environ.setdefault("SECRET_KEY", "benchmark-only-not-a-secret")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    args = parser.parse_args()

    django_setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.provisioning import accounts_deactivate_leavers, accounts_provision
    from apps.core import clock
    from apps.core.bulk import insert_rows
    from apps.organisation.models import Department, Employee, Role

    call_command("migrate", verbosity=0)
    # Plain SQL: the ORM's delete would write a history row per employee, one at a time.
    with connection.cursor() as cursor:
        for table, column in [
            ("organisation_historicalemployee", "employee_number"),
            ("organisation_employee", "employee_number"),
            ("auth_user", "username"),
        ]:
            cursor.execute(f"DELETE FROM {table} WHERE {column} LIKE 'PB%%'")
    role, _ = Role.objects.get_or_create(code="pb-rn", defaults={"name": "Bench nurse"})
    department, _ = Department.objects.get_or_create(code="pb-ed", defaults={"name": "Bench ED"})
    hired = datetime.date(2020, 1, 6)
    n = args.employees
    insert_rows(
        Employee,
        ("employee_number", "first_name", "last_name", "email", "role_id", "department_id", "hired_on", "assigned_on"),
        (
            (f"PB{i:07d}", f"First{i}", f"Last{i}", f"pb{i}@example.org", role.pk, department.pk, hired, hired)
            for i in range(n)
        ),
    )
    ids = list(Employee.objects.filter(employee_number__startswith="PB").values_list("pk", flat=True))

    def timed(label, work):
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            result = work()
            seconds = time.perf_counter() - start
        print(f"{label}: {seconds:.2f} s, {len(queries)} queries -> {result}")
        return seconds

    first = timed(f"first provisioning of {n:,} (everyone)", accounts_provision)
    again = timed("the same again (nothing to do)", accounts_provision)
    changed = ids[::100]
    Employee.objects.filter(pk__in=changed).update(email=f"changed-{time.time_ns()}@example.org")
    follow = timed(f"{len(changed):,} changed addresses (everyone checked)", accounts_provision)
    by_id = timed(f"all {n:,} by id, as imports pass them", lambda: accounts_provision(employee_ids=ids))
    Employee.objects.filter(pk__in=changed).update(terminated_on=clock.today() - datetime.timedelta(days=1))
    leavers = timed(f"nightly check, {len(changed):,} leavers", accounts_deactivate_leavers)
    floor = _floor(connection, n)
    print(f"floor (COPY {n:,} login rows into a bare table + one UPDATE ... FROM to link): {floor:.2f} s")
    print(
        f"provisioned {n:,} in {first:.2f} s ({first / floor:.1f}x the floor of {floor:.2f} s measured in this run); "
        f"again {again:.2f} s; changes {follow:.2f} s; by id {by_id:.2f} s; leavers {leavers:.2f} s; "
        f"peak RSS {peak_rss_mb():.0f} MB; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


def _floor(connection, n: int) -> float:
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("DROP TABLE IF EXISTS floor_users, floor_employees")
        raw.execute("CREATE TEMP TABLE floor_users (LIKE auth_user INCLUDING ALL)")
        raw.execute(
            "CREATE TEMP TABLE floor_employees AS SELECT id, employee_number, NULL::int AS user_id "
            "FROM organisation_employee WHERE employee_number LIKE 'PB%'"
        )
        raw.execute("CREATE UNIQUE INDEX ON floor_employees (employee_number)")
        start = time.perf_counter()
        joined = datetime.datetime.now(datetime.UTC)
        with raw.copy(
            "COPY floor_users (id, username, email, first_name, last_name, password, is_active, is_staff, "
            "is_superuser, date_joined) FROM STDIN"
        ) as copy:
            for i in range(n):
                copy.write_row(
                    (
                        i + 1,
                        f"PB{i:07d}",
                        f"pb{i}@example.org",
                        f"First{i}",
                        f"Last{i}",
                        "!x",
                        True,
                        False,
                        False,
                        joined,
                    )
                )
        raw.execute(
            "UPDATE floor_employees e SET user_id = u.id FROM floor_users u WHERE u.username = e.employee_number"
        )
        return time.perf_counter() - start


if __name__ == "__main__":
    main()
