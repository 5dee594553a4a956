"""Benchmark: `export_credentials` of every card, against the floor of the same run.

    createdb -h 127.0.0.1 -U postgres credtrack_exportbench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credtrack_exportbench .venv/bin/python bench/export_credentials.py
    dropdb -h 127.0.0.1 -U postgres credtrack_exportbench

Seeds `--employees` demo employees (60,000: about 276k cards) with `seed_demo` when the database has none,
in a subprocess. Then, each in a fresh process:
- the floor: PostgreSQL writing the same rows, joined and ordered, as CSV (`COPY (SELECT ...) TO STDOUT`)
  straight into a file through psycopg, with no Python per row;
- `manage.py export_credentials` to CSV (and to XLSX with --xlsx), timed from start to exit, interpreter and
  Django start-up included, with its peak RSS;
- the export of a tenth of the cards in-process, to show the memory is flat: its peak RSS should be that of
  the whole export.
The last line reads: export: N cards in X s, peak RSS M MB.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, django_setup, peak_rss_mb

os.environ.setdefault("SECRET_KEY", "benchmark-only-not-a-secret")
# Not DEBUG: DEBUG keeps a log of every query, memory a real export never spends.
os.environ["DEBUG"] = "false"

ORDER = ("employee__employee_number", "certification_type__code", "issued_on")


def timed_process(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one child process, from its own rusage."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(command)} failed")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def floor(path: Path) -> float:
    """COPY of the export's query, the server writing the CSV: what the machine does with no Python per row."""
    from django.db import connection

    sql, params = _export_sql()
    connection.ensure_connection()
    started = time.perf_counter()
    with (
        connection.connection.cursor() as cursor,
        path.open("wb") as stream,
        cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)", params) as copy,
    ):
        for block in copy:
            stream.write(block)
    return time.perf_counter() - started


def _export_sql() -> tuple[str, tuple]:
    from apps.certifications.models import Credential

    columns = (
        "employee__employee_number",
        "certification_type__code",
        "issued_on",
        "expires_on",
        "issuer",
        "card_number",
        "verification",
        "rejection_reason",
        "notes",
    )
    return Credential.objects.order_by(*ORDER).values_list(*columns).query.sql_with_params()


def export_part(limit: int, path: Path) -> None:
    """In this process: the first `limit` cards as the admin's streamed download sends them."""
    from apps.certifications.models import Credential
    from apps.imports import exporting

    started = time.perf_counter()
    cards = Credential.objects.order_by(*ORDER)
    if limit < cards.count():  # the export filters its queryset, so a part is an id range rather than a slice
        cards = cards.filter(id__lte=Credential.objects.order_by("id").values_list("id", flat=True)[limit - 1])
    with path.open("wb") as stream:
        for piece in exporting.stream_table("csv", exporting.CREDENTIAL_HEADER, exporting.credential_rows(cards)):
            stream.write(piece)
    print(f"{cards.count()} {time.perf_counter() - started:.2f} {peak_rss_mb():.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=60_000, help="Demo employees to seed into an empty database.")
    parser.add_argument("--xlsx", action="store_true", help="Also time the XLSX export.")
    parser.add_argument("--part", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    django_setup()
    if args.part:
        export_part(args.part, Path(args.out))
        return

    from django.db import connection

    from apps.certifications.models import Credential
    from apps.organisation.models import Employee

    if not Employee.objects.exists():
        print(f"Seeding {args.employees:,} demo employees (subprocess)...", file=sys.stderr)
        subprocess.run(
            [sys.executable, "manage.py", "seed_demo", "--employees", str(args.employees), "--skip-scan", "-v", "0"],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        with connection.cursor() as cursor:
            # As autovacuum would soon: without statistics the planner takes the fresh tables for tiny.
            cursor.execute("ANALYZE")
    cards = Credential.objects.count()
    python = sys.executable
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        floor_s = floor(folder / "floor.csv")
        csv_s, csv_cpu, csv_mb = timed_process([python, "manage.py", "export_credentials", str(folder / "cards.csv")])
        tenth = max(cards // 10, 1)
        part = subprocess.run(
            [python, __file__, "--part", str(tenth), "--out", str(folder / "part.csv")],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        whole = subprocess.run(
            [python, __file__, "--part", str(cards), "--out", str(folder / "whole.csv")],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        sizes = {name: (folder / name).stat().st_size for name in ("floor.csv", "cards.csv")}
        xlsx = (
            timed_process([python, "manage.py", "export_credentials", str(folder / "cards.xlsx")])
            if args.xlsx
            else None
        )

    print(f"floor: COPY (SELECT ...) TO STDOUT CSV of {cards:,} cards into a file: {floor_s:.2f} s")
    print(
        "in-process, streamed as the admin sends it (no start-up): "
        f"{int(part[0]):,} cards {float(part[1]):.2f} s, peak RSS {float(part[2]):.0f} MB; "
        f"{int(whole[0]):,} cards {float(whole[1]):.2f} s, peak RSS {float(whole[2]):.0f} MB"
    )
    print(f"CSV sizes: floor {sizes['floor.csv']:,} bytes, export {sizes['cards.csv']:,} bytes")
    if xlsx:
        print(f"xlsx: {cards} cards in {xlsx[0]:.2f} s (CPU {xlsx[1]:.2f} s), peak RSS {xlsx[2]:.0f} MB")
    print(f"csv: CPU {csv_cpu:.2f} s of the command; floor {floor_s:.2f} s, ratio {csv_s / floor_s:.1f}")
    print(f"export: {cards} cards in {csv_s:.2f} s, peak RSS {csv_mb:.0f} MB")


if __name__ == "__main__":
    main()
