"""Floor for the status-period rebuild: how fast can plain Python write this many periods by COPY, with no
framework and no rules? Adapted from the team's reference script (timeline_limit.py) so the benches can run it
in the same session as what they measure.

    .venv/bin/python bench/timeline_floor.py [--employees 100000] [--dsn "dbname=credtrack_floor"]

Fabricates a plausible six-year timeline per employee (~10 employee-level and ~19 requirement-level periods:
cards of 24 months renewed early or late, a 90-day renewal window), writes them by COPY into two unlogged
tables, indexes them, and times two look-ups on them: counts by department x status on one day, and one
employee's requirement periods on one day. Drops its tables afterwards. Prints one line per figure; the line
starting "floor build:" is what bench/timeline_rebuild.py reads.
"""

import argparse
import datetime as dt
import random
import statistics
import time

import psycopg

START, END = dt.date(2021, 1, 1), dt.date(2028, 12, 31)


def periods_for(rnd: random.Random, start: dt.date = START, end: dt.date = END) -> list[tuple]:
    """Cards of 24 months renewed late or early; the renewal window opens 90 days before expiry."""
    day = start + dt.timedelta(days=rnd.randrange(0, 700))
    out = [(start, day, 4 if day > start else 0)]  # not yet due / missing before the first card
    while day < end:
        expiry = day + dt.timedelta(days=730)
        window = expiry - dt.timedelta(days=90)
        out.append((day, window, 0))
        out.append((window, expiry + dt.timedelta(days=1), 1))
        gap = rnd.choice([-60, -20, 0, 0, 5, 30, 120])
        renew = expiry + dt.timedelta(days=max(gap, -80) + 1)
        if renew > expiry + dt.timedelta(days=1):
            out.append((expiry + dt.timedelta(days=1), renew, 2))
        day = max(renew, expiry + dt.timedelta(days=1)) if gap > 0 else window + dt.timedelta(days=10)
    return [(s, min(e, end), st) for s, e, st in out if s < min(e, end)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--dsn", default="host=127.0.0.1 user=postgres dbname=credtrack_floor")
    args = parser.parse_args()
    rnd = random.Random(2)
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        conn.execute("drop table if exists floor_emp_period, floor_req_period")
        conn.execute(
            "create unlogged table floor_emp_period (emp int, dept smallint, role smallint, status smallint, "
            "valid_from date, valid_to date)"
        )
        conn.execute(
            "create unlogged table floor_req_period (emp int, req smallint, status smallint, valid_from date, "
            "valid_to date)"
        )
        started = time.perf_counter()
        n_emp = n_req = 0
        with conn.cursor() as cur:
            with cur.copy("copy floor_emp_period from stdin") as copy:
                for emp in range(args.employees):
                    dept, role = rnd.randrange(17), rnd.randrange(11)
                    for s, e, st in periods_for(rnd):
                        copy.write_row((emp, dept, role, st, s, e))
                        n_emp += 1
            with cur.copy("copy floor_req_period from stdin") as copy:
                for emp in range(args.employees):
                    for req in range(rnd.choice([1, 2, 2, 3])):
                        for s, e, st in periods_for(rnd):
                            copy.write_row((emp, req, st, s, e))
                            n_req += 1
        build = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("create index on floor_emp_period (valid_from, valid_to) include (dept, status)")
        conn.execute("create index on floor_emp_period (emp, valid_from)")
        conn.execute("create index on floor_req_period (emp, valid_from)")
        conn.execute("analyze floor_emp_period")
        conn.execute("analyze floor_req_period")
        indexes = time.perf_counter() - started

        def timed(sql, params, n=15):
            times = []
            for _ in range(n):
                t = time.perf_counter()
                conn.execute(sql, params).fetchall()
                times.append(time.perf_counter() - t)
            return statistics.median(times) * 1000

        counts = (
            "select dept, status, count(*) from floor_emp_period where valid_from <= %s and %s < valid_to "
            "group by dept, status"
        )
        day = dt.date(2026, 3, 1)
        print(f"floor counts by department x status on {day}: median {timed(counts, (day, day)):.1f} ms")
        one = "select req, status from floor_req_period where emp = %s and valid_from <= %s and %s < valid_to"
        times = []
        for _ in range(200):
            emp, day = rnd.randrange(args.employees), START + dt.timedelta(days=rnd.randrange(2000))
            t = time.perf_counter()
            conn.execute(one, (emp, day, day)).fetchall()
            times.append(time.perf_counter() - t)
        print(f"floor one employee on a random day: median {statistics.median(times) * 1000:.2f} ms")
        conn.execute("drop table floor_emp_period, floor_req_period")
    print(
        f"floor build: {n_emp} employee + {n_req} requirement periods by COPY in {build:.2f} s; indexes {indexes:.2f} s"
    )


if __name__ == "__main__":
    main()
