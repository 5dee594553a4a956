"""What the import_* and export_* commands share: options, the progress bar, the summary and exit status."""

import os
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import models
from tqdm import tqdm

from apps.imports import exporting
from apps.imports.importer import can_import
from apps.imports.parsing import ENCODINGS, ISO_DATE, FileError, ImportFile, check_date_format, estimate_rows, kind_for
from apps.imports.report import ImportOptions, ImportReport

# Below this many rows a progress bar is noise.
PROGRESS_FROM = 2000


class _Progress:
    """One tqdm bar per pass (checking, then importing), on stderr, for large files only."""

    def __init__(self, file: ImportFile, *, enabled: bool):
        self.total = estimate_rows(file) if enabled else None
        self.enabled = enabled and (self.total or 0) >= PROGRESS_FROM
        self.bars: dict[str, tqdm] = {}

    def __call__(self, stage: str, rows: int) -> None:
        if not self.enabled:
            return
        if stage not in self.bars:
            self.close()
            self.bars[stage] = tqdm(total=self.total, desc=stage, unit=" rows", file=sys.stderr)
        self.bars[stage].update(rows)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


class ImportCommand(BaseCommand):
    model: type[models.Model]

    def run_import(self, **kwargs) -> ImportReport:
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("file", help="A .csv or .xlsx file, in the layout the matching export command writes.")
        parser.add_argument("--dry-run", action="store_true", help="Check the file and say what would change.")
        parser.add_argument(
            "--encoding",
            choices=list(ENCODINGS),
            default="utf-8",
            help="How the CSV file was saved (default utf-8; a byte-order mark is skipped). Ignored for XLSX.",
        )
        parser.add_argument(
            "--date-format",
            default=ISO_DATE,
            help="strptime format of dates written as text, e.g. %%m/%%d/%%Y (default %%Y-%%m-%%d).",
        )
        parser.add_argument(
            "--backfill",
            action="store_true",
            help="Old records entered in bulk: lapses that began before today reach each manager as one summary "
            "instead of one escalation each.",
        )
        parser.add_argument(
            "--user",
            help="Username of the HR admin importing: recorded in the history (and as the verifier of "
            "imported credentials). Required unless --dry-run.",
        )

    def handle(self, *args, **options):
        try:
            import_options = ImportOptions(
                encoding=options["encoding"], date_format=options["date_format"], backfill=options["backfill"]
            )
            file = ImportFile.from_path(options["file"])
        except (ValueError, FileError) as error:
            raise CommandError(str(error)) from error
        if not Path(options["file"]).is_file():
            raise CommandError(f"No such file: {options['file']}")
        user = self.importing_user(options["user"], dry_run=options["dry_run"])
        progress = _Progress(file, enabled=options["verbosity"] >= 1)
        try:
            report = self.run_import(
                file=file, user=user, dry_run=options["dry_run"], options=import_options, progress=progress
            )
        finally:
            progress.close()
        for problem in report.errors:
            self.stderr.write(str(problem))
        if report.error_count > len(report.errors):
            self.stderr.write(f"... and {report.error_count - len(report.errors)} more.")
        for note in report.notes:
            self.stdout.write(note)
        if not report.ok:
            raise CommandError(report.summary())
        self.stdout.write(self.style.SUCCESS(report.summary()))

    def importing_user(self, username: str | None, *, dry_run: bool):
        if not username:
            if dry_run:
                return None
            raise CommandError("Say who imports with --user USERNAME: the history records it.")
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {username!r}.")
        if not can_import(user, self.model):
            raise CommandError(
                f"{username} may not import {self.model._meta.verbose_name_plural}: that takes an HR admin "
                "who may add and change them."
            )
        return user


class ExportCommand(BaseCommand):
    noun = ""

    def header_and_rows(self):
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("file", help="Where to write: a .csv or .xlsx file (replaced if it exists).")
        parser.add_argument(
            "--encoding",
            choices=list(ENCODINGS),
            default="utf-8",
            help="CSV only (default utf-8, with the byte-order mark Excel needs to show accented names).",
        )
        parser.add_argument(
            "--date-format", default=ISO_DATE, help="strftime format of dates in a CSV file (default %%Y-%%m-%%d)."
        )

    def handle(self, *args, **options):
        target = Path(options["file"])
        try:
            kind = kind_for(target.name)
            date_format = check_date_format(options["date_format"])
        except (ValueError, FileError) as error:
            raise CommandError(str(error)) from error
        header, rows = self.header_and_rows()
        # Written aside and moved into place: an interrupted export never leaves half a file under the name.
        partial = target.with_name(target.name + ".part")
        try:
            with partial.open("wb") as stream:
                count = exporting.write_table(
                    stream, kind, header, rows, encoding=options["encoding"], date_format=date_format
                )
            os.replace(partial, target)
        except exporting.ExportError as error:
            raise CommandError(str(error)) from error
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(self.style.SUCCESS(f"Wrote {count} {self.noun} to {target}."))
