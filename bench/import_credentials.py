"""Benchmark: import a large credential file, dry run then real run, and report time and peak memory.

    .venv/bin/python bench/import_credentials.py --rows 50000

Uses DATABASE_URL like the application (run it on PostgreSQL, on a database of its own). When the
database has no employees it seeds the demo workforce first, in a subprocess so that seeding does not
count towards this process's peak memory. It then writes a CSV file of `--rows` new cards for those
employees (renewals of every certification, fresh card numbers), checks it (dry run) and imports it
through the same service the admin and the import_credentials command use.

The compliance recompute the import queues is counted but not run: in production it is a Celery
task on a worker, not part of the import. Before the import, the floor: the same file parsed with csv.reader
and each row COPYed twice (as a card and as its history row) into temporary tables, with no checks. On a
loaded machine the CPU time of this process is the steadier figure. The last line reads:
import: N rows in X s (dry run D s + import I s), peak RSS M MB.
"""

import argparse
import csv
import datetime
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, django_setup

os.environ.setdefault("SECRET_KEY", "benchmark-only-not-a-secret")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000, help="Rows in the credential file (default 50,000).")
    parser.add_argument(
        "--employees", type=int, default=10_000, help="Demo employees to seed into an empty database (default 10,000)."
    )
    parser.add_argument("--seed", type=int, default=1, help="Same seed, same file (a second run is all unchanged).")
    args = parser.parse_args()

    django_setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    from apps.certifications.models import CertificationType
    from apps.compliance import tasks as compliance_tasks
    from apps.core import clock
    from apps.imports.credentials import credentials_import
    from apps.imports.parsing import ImportFile
    from apps.organisation.models import Employee

    if not Employee.objects.exists():
        print(f"Seeding {args.employees:,} demo employees (subprocess)...", file=sys.stderr)
        subprocess.run(
            [sys.executable, "manage.py", "seed_demo", "--employees", str(args.employees), "--skip-scan", "-v", "0"],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    numbers = list(Employee.objects.order_by("employee_number").values_list("employee_number", flat=True))
    codes = list(CertificationType.objects.order_by("code").values_list("code", flat=True))
    user, _ = get_user_model().objects.get_or_create(
        username="bench-hr", defaults={"is_staff": True, "is_superuser": True}
    )

    queued: list[int] = []
    compliance_tasks.queue_recompute = lambda *, employee_ids: queued.append(len(set(employee_ids)))

    # A file past the admin's limits (500,000 rows, 40 MB) is for measuring memory: let it through.
    settings.IMPORT_MAX_ROWS = max(settings.IMPORT_MAX_ROWS, args.rows)
    settings.IMPORT_MAX_BYTES = max(settings.IMPORT_MAX_BYTES, args.rows * 100)

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "credentials.csv"
        write_file(path, rows=args.rows, numbers=numbers, codes=codes, today=clock.today(), seed=args.seed)
        file = ImportFile.from_path(path)
        floor_s = floor(path)
        baseline = reset_peak_rss()
        started, cpu = time.perf_counter(), time.process_time()
        checked = credentials_import(file=file, user=user, dry_run=True)
        dry_run, dry_cpu = time.perf_counter() - started, time.process_time() - cpu
        started, cpu = time.perf_counter(), time.process_time()
        report = credentials_import(file=file, user=user, previewed=checked.ok)
        real_run, real_cpu = time.perf_counter() - started, time.process_time() - cpu

    if not report.ok:
        sys.exit("\n".join(str(error) for error in report.errors[:20]))
    print(
        f"{connection.vendor}: {args.rows:,} rows for {len(numbers):,} employees: dry run {dry_run:.1f} s "
        f"({checked.new:,} new, {checked.changed:,} changed, {checked.unchanged:,} unchanged), "
        f"import {real_run:.1f} s, total {dry_run + real_run:.1f} s; peak RSS {peak_rss():.0f} MB "
        f"(before the dry run, after Django setup, the file and the floor: {baseline:.0f} MB); recompute queued "
        f"{len(queued)} time(s) for {sum(queued):,} employees"
    )
    print(
        f"CPU of this process: dry run {dry_cpu:.1f} s + import {real_cpu:.1f} s; floor (csv.reader, then COPY of "
        f"every row twice, as card and history row, into temporary tables): {floor_s:.2f} s"
    )
    print(
        f"import: {args.rows} rows in {dry_run + real_run:.1f} s (dry run {dry_run:.1f} s + import {real_run:.1f} s), "
        f"peak RSS {peak_rss():.0f} MB"
    )


def reset_peak_rss() -> float:
    """Start measuring the peak from here (Linux: VmHWM is reset to the current RSS); returns the current RSS."""
    Path("/proc/self/clear_refs").write_text("5")
    return peak_rss()


def peak_rss() -> float:
    """The peak RSS in MB since reset_peak_rss (the import's own, not writing the file or the floor's)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024


def floor(path: Path) -> float:
    """What the machine does with the file and no checks: parse it, COPY each row as a card and a history row."""
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table in ("floor_cards", "floor_history"):
            cursor.execute(
                f"CREATE TEMP TABLE {table} (id bigint, employee_number text, certification text, issued_on date, "
                "issuer text, card_number text) ON COMMIT DROP"
            )
        for table in ("floor_cards", "floor_history"):
            with (
                path.open(newline="", encoding="utf-8") as stream,
                cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy,
            ):
                rows = csv.reader(stream)
                next(rows)
                for n, row in enumerate(rows):
                    copy.write_row((n, *row))
    return time.perf_counter() - started


def write_file(path: Path, *, rows: int, numbers: list[str], codes: list[str], today, seed: int) -> None:
    """Renewals issued within the last two years, each (employee, certification, issue day) once.

    Unique by construction (row i: employee i mod E; then certification and day from i div E, the days
    31 apart modulo 730), so that writing 500,000 rows keeps no set of them in this process's memory."""
    rng = random.Random(seed)
    numbers, codes = rng.sample(numbers, len(numbers)), rng.sample(codes, len(codes))
    if rows > len(numbers) * len(codes) * 730:
        sys.exit(f"At most {len(numbers) * len(codes) * 730:,} distinct renewals for these employees.")
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["employee_number", "certification", "issued_on", "issuer", "card_number"])
        for i in range(rows):
            j = i // len(numbers)
            day = today - datetime.timedelta(days=1 + (j // len(codes) * 31 + seed * 7) % 730)
            number, code = numbers[i % len(numbers)], codes[j % len(codes)]
            writer.writerow([number, code, day.isoformat(), "American Heart Association", f"B{seed:03d}{i:09d}"])


if __name__ == "__main__":
    main()
