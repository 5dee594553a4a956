"""Bulk import of staff and credentials: check the whole file, then write all of it or nothing.

A run reads the file twice. The first pass checks every row against the catalogue, the stored records
and the rest of the file, and classifies it as new, changed or unchanged; a dry run stops there. If no
row is wrong, the second pass runs in one transaction: it checks each batch again against the database
as it is now and writes it with bulk inserts and updates that record history with the importing user.
An error in that pass (someone changed the data in between) rolls the whole import back.

Memory stays bounded: rows are streamed in batches of BATCH_SIZE, each batch looks up what it refers
to in a fixed number of queries, and only the keys that catch duplicates within the file are kept.

Rows match stored records on a key (the employee number; employee + certification + issue date, or the
card number when given), so importing the same file twice writes nothing the second time. A blank cell
keeps the stored value. Once the import commits, the affected employees' compliance is recomputed once.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.contrib.auth import get_permission_codename
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from apps.compliance import tasks as compliance_tasks
from apps.core import clock
from apps.core.bulk import insert_rows
from apps.notifications import tasks as notification_tasks
from apps.organisation.scoping import is_hr_admin

from .parsing import Column, FileError, ImportFile, SourceRow, cell_date, read_table
from .report import CHANGED, NEW, PREVIEW_ROWS, UNCHANGED, ImportOptions, ImportReport, RowChange

BATCH_SIZE = 1000
_IMPORT_LOCK_KEY = 0x696D7074  # "impt"

Progress = Callable[[str, int], None]


def can_import(user, model: type[models.Model]) -> bool:
    """HR admins who may also add and change `model` (superusers may do everything)."""
    opts = model._meta
    return is_hr_admin(user) and all(
        user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}") for action in ("add", "change")
    )


class _RolledBack(Exception):
    def __init__(self, report: ImportReport):
        self.report = report


def run_import(importer, *, file, user, dry_run, previewed, options, progress) -> ImportReport:
    """Check the whole file, then write it in one transaction.

    `previewed` says a dry run of this very file just passed (the admin's confirm step): the separate
    checking pass is then skipped. Nothing is lost: the writing pass checks every batch again before
    writing it and rolls the whole import back at the first error.
    """
    if not dry_run and user is None:
        raise ValueError("A real import needs the importing user: the history records who made each change.")
    options = options or ImportOptions()
    if dry_run or not previewed:
        checked = importer(file=file, user=user, options=options, dry_run=dry_run).run(write=False, progress=progress)
        if dry_run or not checked.ok:
            return checked
    try:
        with transaction.atomic():
            _lock_imports()
            report = importer(file=file, user=user, options=options, dry_run=False).run(write=True, progress=progress)
            if not report.ok:
                raise _RolledBack(report)
    except _RolledBack as rolled_back:
        return rolled_back.report
    except IntegrityError as error:
        refused = ImportReport(kind=importer.kind, file_name=file.name, dry_run=False)
        refused.add_error(None, None, f"The database refused the import, so nothing was imported: {error}")
        return refused
    report.committed = True
    return report


def _reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` ids of `model`'s table, taken from its sequence as an INSERT would take them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def _lock_imports() -> None:
    """One import at a time (PostgreSQL): two at once could each insert what the other just checked was absent."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK_KEY])


def _batches(rows: Iterable[SourceRow]) -> Iterator[list[SourceRow]]:
    batch: list[SourceRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def display(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


class Codes:
    """The codes of a catalogue table: an exact match, or a case-insensitive one when that is unambiguous."""

    def __init__(self, pairs: Iterable[tuple[str, int]]):
        self.ids = dict(pairs)
        self.codes = {pk: code for code, pk in self.ids.items()}
        folded: dict[str, set[int]] = defaultdict(set)
        for code, pk in self.ids.items():
            folded[code.casefold()].add(pk)
        self.folded = {code: next(iter(pks)) for code, pks in folded.items() if len(pks) == 1}

    def get(self, code: str) -> int | None:
        return self.ids.get(code) or self.folded.get(code.casefold())

    def listing(self, limit: int = 20) -> str:
        codes = sorted(self.ids)
        return ", ".join(codes[:limit]) + (", ..." if len(codes) > limit else "") if codes else "(none yet)"


class RowCheck:
    """Reads one row's cells, collecting every problem with its column rather than stopping at the first."""

    def __init__(self, row: SourceRow, options: ImportOptions):
        self.row = row
        self.options = options
        self.errors: list[tuple[str | None, str]] = list(row.problems)

    def error(self, column: str | None, message: str) -> None:
        self.errors.append((column, message))

    def text(self, column: str, *, required: bool = False) -> str:
        value = self.row.text(column)
        if required and not value:
            self.error(column, "Required, but blank.")
        return value

    def date(self, column: str, *, required: bool = False) -> datetime.date | None:
        try:
            value = cell_date(self.row.cells.get(column), self.options.date_format)
        except ValueError as error:
            self.error(column, str(error))
            return None
        if value is None and required:
            self.error(column, "Required, but blank.")
        return value

    def validate(self, instance: models.Model, *, exclude: list[str], columns: dict[str, str]) -> None:
        """Field lengths, email syntax and the model's clean(), without full_clean's per-row queries:
        foreign keys and uniqueness are checked for the whole batch instead."""
        for step in (lambda: instance.clean_fields(exclude=exclude), instance.clean):
            try:
                step()
            except ValidationError as error:
                for name, messages in error.message_dict.items():
                    for message in messages:
                        self.error(columns.get(name, name) if name != "__all__" else None, message)


@dataclass
class Planned:
    row: SourceRow
    action: str
    instance: models.Model | None
    fields: list[str]
    before: dict[str, str] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)
    manager_pairs: set[tuple[int, int]] = field(default_factory=set)
    pk: int | None = None
    # Credentials only: the field values of a new card, or what changes on a stored one.
    changes: dict = field(default_factory=dict)


class Importer:
    kind: str
    columns: tuple[Column, ...]
    model: type[models.Model]
    update_fields: list[str]

    def __init__(self, *, file: ImportFile, user, options: ImportOptions, dry_run: bool):
        self.file = file
        self.user = user
        self.options = options
        self.report = ImportReport(kind=self.kind, file_name=file.name, dry_run=dry_run)
        self.affected: set[int] = set()
        self.now = clock.now()
        self.reason = f"Imported from {file.name}"[:100]

    def run(self, *, write: bool, progress: Progress | None) -> ImportReport:
        self.prepare()
        stage = "importing" if write else "checking"
        try:
            for batch in _batches(read_table(self.file, self.columns, encoding=self.options.encoding)):
                planned = self.plan(batch)
                if write and self.report.ok:
                    self.write([p for p in planned if p.action != UNCHANGED])
                if progress:
                    progress(stage, len(batch))
        except FileError as error:
            for row, column, message in error.problems:
                self.report.add_error(row, column, message)
        self.conclude(write=write and self.report.ok)
        return self.report

    def plan(self, batch: list[SourceRow]) -> list[Planned]:
        found = self.look_up(batch)
        results = []
        for row in batch:
            self.report.rows += 1
            check = RowCheck(row, self.options)
            results.append((check, self.plan_row(check, found)))
        self.recheck(results)
        planned = []
        for check, result in results:
            row = check.row
            if check.errors or result is None:
                cells = {column.name: row.text(column.name) for column in self.columns}
                for column, message in check.errors:
                    self.report.add_error(row.number, column, message, cells)
                continue
            self.count(result)
            planned.append(result)
        return planned

    def count(self, planned: Planned) -> None:
        report = self.report
        if planned.action == UNCHANGED:
            report.unchanged += 1
            return
        if planned.action == NEW:
            report.new += 1
        else:
            report.changed += 1
        if len(report.changes) < PREVIEW_ROWS:
            cells = {column.name: planned.row.text(column.name) for column in self.columns}
            cells.update(planned.shown)
            report.changes.append(RowChange(planned.row.number, planned.action, cells, planned.before))

    def code(self, check: RowCheck, column: str, codes: Codes, label: str) -> int | None:
        text = check.text(column, required=True)
        if not text:
            return None
        found = codes.get(text)
        if found is None:
            check.error(column, f"Unknown {label} {text!r}; the codes are: {codes.listing()}.")
        return found

    @staticmethod
    def once(check: RowCheck, column: str | None, seen: dict, key, what: str) -> None:
        first = seen.setdefault(key, check.row.number)
        if first != check.row.number:
            check.error(column, f"{what} appears again in this file (first on row {first}).")

    def write_rows(self, planned: list[Planned]) -> list[models.Model]:
        new = [p.instance for p in planned if p.action == NEW and p.instance is not None]
        changed = [p.instance for p in planned if p.action == CHANGED and p.fields and p.instance is not None]
        if new:
            fields = [f for f in self.model._meta.concrete_fields if not f.primary_key]
            prepare = connection.vendor == "postgresql"  # COPY takes values as the database stores them
            rows = [
                {
                    f.attname: f.get_db_prep_save(value, connection) if prepare else value
                    for f in fields
                    for value in [f.pre_save(instance, True)]
                }
                for instance in new
            ]
            for instance, pk in zip(new, self.create_with_history(rows), strict=True):
                instance.pk = pk
                instance._state.adding = False
        if changed:
            bulk_update_with_history(
                changed,
                self.model,
                self.update_fields,
                batch_size=BATCH_SIZE,
                default_user=self.user,
                default_change_reason=self.reason,
            )
        return [*new, *changed]

    def create_with_history(self, rows: list[dict]) -> list[int]:
        """New rows (each a dict of attname -> value; a field left out takes its default) and their history
        rows ('+', the importing user, the file's name); returns their ids in order.

        On PostgreSQL by COPY of plain tuples, ids reserved from the table's sequence first so that the history
        rows carry them: building a model instance and an INSERT of every value was most of an import's
        time. Elsewhere, simple_history's bulk_create_with_history, which these rows are identical to.
        """
        if connection.vendor != "postgresql":
            created = bulk_create_with_history(
                [self.model(**row) for row in rows],
                self.model,
                batch_size=BATCH_SIZE,
                default_user=self.user,
                default_change_reason=self.reason,
            )
            return [instance.pk for instance in created]
        fields = [f for f in self.model._meta.concrete_fields if not f.primary_key]
        # A field a row leaves out gets what a new instance would store (its default, auto_now_add's now).
        blank = self.model()
        defaults = {f.attname: f.get_db_prep_save(f.pre_save(blank, True), connection) for f in fields}
        names = [f.attname for f in fields]
        ids = _reserve_ids(self.model, len(rows))
        prepared = [(pk, *[row.get(name, defaults[name]) for name in names]) for pk, row in zip(ids, rows, strict=True)]
        columns = (self.model._meta.pk.attname, *names)
        history = (clock.now(), self.reason, "+", self.user.pk if self.user else None)
        # COPY goes to psycopg directly: its refusal (a card that appeared since the check) must reach
        # run_import as Django's IntegrityError, like an INSERT's would.
        with connection.wrap_database_errors:
            insert_rows(self.model, columns, prepared)
            insert_rows(
                self.model.history.model,  # type: ignore[attr-defined]  # simple-history's HistoricalRecords
                (*columns, "history_date", "history_change_reason", "history_type", "history_user_id"),
                (row + history for row in prepared),
            )
        return ids

    def conclude(self, *, write: bool) -> None:
        if write and self.affected:
            compliance_tasks.queue_recompute(employee_ids=self.affected)
            self.report.employees_to_recompute = len(self.affected)
            if self.options.backfill:
                ids = sorted(self.affected)
                transaction.on_commit(lambda: compliance_tasks.send_task(notification_tasks.plan_backfill, ids))

    def prepare(self) -> None:
        raise NotImplementedError

    def look_up(self, batch: list[SourceRow]):
        raise NotImplementedError

    def plan_row(self, check: RowCheck, found) -> Planned | None:
        raise NotImplementedError

    def recheck(self, results: list[tuple[RowCheck, Planned | None]]) -> None:
        """Checks that need the whole batch planned first; they add to the rows' errors."""

    def write(self, planned: list[Planned]) -> None:
        raise NotImplementedError
