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

import contextlib
import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_permission_codename, get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from apps.certifications.dates import default_expiry
from apps.certifications.models import CertificationType, Credential
from apps.compliance import services as compliance_services
from apps.core import clock, plausible
from apps.notifications import tasks as notification_tasks
from apps.organisation.models import Department, Employee, Role
from apps.organisation.scoping import is_hr_admin

from .layouts import CREDENTIAL_COLUMNS, STAFF_COLUMNS
from .parsing import (
    ENCODINGS,
    ISO_DATE,
    Column,
    FileError,
    ImportFile,
    SourceRow,
    cell_date,
    check_date_format,
    read_table,
)

BATCH_SIZE = 1000
MAX_REPORTED_ERRORS = 500
PREVIEW_ROWS = 200
NEW, CHANGED, UNCHANGED = "new", "changed", "unchanged"
Verification = Credential.Verification
_VERIFICATIONS = {
    **{choice.value: choice for choice in Verification},
    **{str(choice.label).casefold(): choice for choice in Verification},
}
_IMPORT_LOCK_KEY = 0x696D7074  # "impt"

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class ImportOptions:
    encoding: str = "utf-8"
    date_format: str = ISO_DATE
    # Old records entered in bulk (a first load, a merger): lapses that began before today reach each
    # manager as one summary instead of one escalation each (docs/notifications.md, "Backfill").
    backfill: bool = False

    def __post_init__(self):
        if self.encoding not in ENCODINGS:
            raise ValueError(f"Unknown encoding {self.encoding!r}; choose one of {', '.join(ENCODINGS)}.")
        check_date_format(self.date_format)


@dataclass(frozen=True)
class RowError:
    row: int | None
    column: str | None
    message: str

    def __str__(self):
        where = [f"Row {self.row}" if self.row else "", f"column {self.column}" if self.column else ""]
        where = ", ".join(part for part in where if part)
        return f"{where}: {self.message}" if where else self.message


@dataclass
class RowChange:
    """A new or changed row for the preview: the row's cells, and the stored values it replaces."""

    row: int
    action: str
    cells: dict[str, str]
    before: dict[str, str]


@dataclass
class ImportReport:
    kind: str
    file_name: str
    dry_run: bool
    rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_cells: dict[int, dict[str, str]] = field(default_factory=dict)
    changes: list[RowChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    employees_to_recompute: int = 0
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.error_count

    def add_error(self, row: int | None, column: str | None, message: str, cells: dict[str, str] | None = None):
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(row, column, message))
            if row is not None and cells is not None:
                self.error_cells[row] = cells

    def summary(self) -> str:
        counts = (
            f"{self.file_name}: {self.rows} row(s): {self.new} new, {self.changed} changed, "
            f"{self.unchanged} unchanged, {self.error_count} error(s)."
        )
        if self.error_count:
            return f"{counts} Nothing was imported."
        if self.dry_run:
            return f"{counts} Dry run: nothing was written."
        if not (self.new or self.changed):
            return f"{counts} Everything was up to date: nothing was written."
        return f"{counts} Imported; compliance recompute queued for {self.employees_to_recompute} employee(s)."


def can_import(user, model: type[models.Model]) -> bool:
    """HR admins who may also add and change `model` (superusers may do everything)."""
    opts = model._meta
    return is_hr_admin(user) and all(
        user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}") for action in ("add", "change")
    )


def staff_import(
    *,
    file: ImportFile,
    user=None,
    dry_run: bool = False,
    previewed: bool = False,
    options: ImportOptions | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Create and update employees from a staff file (layout: layouts.STAFF_COLUMNS)."""
    return _import(
        _StaffImport, file=file, user=user, dry_run=dry_run, previewed=previewed, options=options, progress=progress
    )


def credentials_import(
    *,
    file: ImportFile,
    user=None,
    dry_run: bool = False,
    previewed: bool = False,
    options: ImportOptions | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Create and update credentials from a file (layout: layouts.CREDENTIAL_COLUMNS); HR's cards count as verified."""
    return _import(
        _CredentialImport,
        file=file,
        user=user,
        dry_run=dry_run,
        previewed=previewed,
        options=options,
        progress=progress,
    )


class _RolledBack(Exception):
    def __init__(self, report: ImportReport):
        self.report = report


def _import(importer, *, file, user, dry_run, previewed, options, progress) -> ImportReport:
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


def _display(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


class _Codes:
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


class _Check:
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
class _Planned:
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


class _Import:
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

    def plan(self, batch: list[SourceRow]) -> list[_Planned]:
        found = self.look_up(batch)
        planned = []
        for row in batch:
            self.report.rows += 1
            check = _Check(row, self.options)
            result = self.plan_row(check, found)
            if check.errors or result is None:
                cells = {column.name: row.text(column.name) for column in self.columns}
                for column, message in check.errors:
                    self.report.add_error(row.number, column, message, cells)
                continue
            self.count(result)
            planned.append(result)
        return planned

    def count(self, planned: _Planned) -> None:
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

    def code(self, check: _Check, column: str, codes: _Codes, label: str) -> int | None:
        text = check.text(column, required=True)
        if not text:
            return None
        found = codes.get(text)
        if found is None:
            check.error(column, f"Unknown {label} {text!r}; the codes are: {codes.listing()}.")
        return found

    @staticmethod
    def once(check: _Check, column: str | None, seen: dict, key, what: str) -> None:
        first = seen.setdefault(key, check.row.number)
        if first != check.row.number:
            check.error(column, f"{what} appears again in this file (first on row {first}).")

    def write_rows(self, planned: list[_Planned]) -> list[models.Model]:
        new = [p.instance for p in planned if p.action == NEW]
        changed = [p.instance for p in planned if p.action == CHANGED and p.fields]
        history = {"batch_size": BATCH_SIZE, "default_user": self.user, "default_change_reason": self.reason}
        if new:
            new = bulk_create_with_history(new, self.model, **history)
        if changed:
            bulk_update_with_history(changed, self.model, self.update_fields, **history)
        return [*new, *changed]

    def conclude(self, *, write: bool) -> None:
        if write and self.affected:
            compliance_services.queue_recompute(employee_ids=self.affected)
            self.report.employees_to_recompute = len(self.affected)
            if self.options.backfill:
                ids = sorted(self.affected)
                transaction.on_commit(lambda: compliance_services.send_task(notification_tasks.plan_backfill, ids))

    def prepare(self) -> None:
        raise NotImplementedError

    def look_up(self, batch: list[SourceRow]):
        raise NotImplementedError

    def plan_row(self, check: _Check, found) -> _Planned | None:
        raise NotImplementedError

    def write(self, planned: list[_Planned]) -> None:
        raise NotImplementedError


@dataclass
class _StaffLookups:
    users: dict[str, int]
    owners: dict[str, str]
    employees: dict[str, Employee]


def _logins(text: str) -> list[str]:
    return [name.strip() for name in text.replace(",", ";").split(";") if name.strip()]


class _StaffImport(_Import):
    kind = "staff"
    columns = STAFF_COLUMNS
    model = Employee
    update_fields = [
        "first_name",
        "last_name",
        "email",
        "user",
        "role",
        "department",
        "hired_on",
        "assigned_on",
        "terminated_on",
    ]
    field_columns = {"user": "username", "user_id": "username", "role_id": "role", "department_id": "department"}

    def prepare(self):
        self.roles = _Codes(Role.objects.values_list("code", "id"))
        self.departments = _Codes(Department.objects.values_list("code", "id"))
        self.manager_pairs = set(Department.managers.through.objects.values_list("department_id", "user_id"))
        self.added_managers: dict[int, set[str]] = defaultdict(set)
        self.seen_numbers: dict[str, int] = {}
        self.seen_logins: dict[str, int] = {}

    def look_up(self, batch):
        numbers = {row.text("employee_number") for row in batch} - {""}
        logins = {row.text("username") for row in batch} - {""}
        managers = {name for row in batch for name in _logins(row.text("manager"))}
        users = {}
        if logins | managers:
            users = dict(get_user_model().objects.filter(username__in=logins | managers).values_list("username", "id"))
        owners = {}
        if logins:
            owners = dict(
                Employee.objects.filter(user__username__in=logins).values_list("user__username", "employee_number")
            )
        employees = {}
        if numbers:
            employees = {
                e.employee_number: e
                for e in Employee.objects.filter(employee_number__in=numbers).order_by().select_related("user")
            }
        return _StaffLookups(users=users, owners=owners, employees=employees)

    def plan_row(self, check, found):
        number = check.text("employee_number", required=True)
        values = {
            "first_name": check.text("first_name", required=True),
            "last_name": check.text("last_name", required=True),
            "role_id": self.code(check, "role", self.roles, "role"),
            "department_id": self.code(check, "department", self.departments, "department"),
            "hired_on": check.date("hired_on", required=True),
        }
        if email := check.text("email"):
            values["email"] = email
        if login := check.text("username"):
            values["user_id"] = self.login(check, login, number, found)
        if assigned_on := check.date("assigned_on"):
            values["assigned_on"] = assigned_on
        if terminated_on := check.date("terminated_on"):
            values["terminated_on"] = terminated_on
        managers = {name: self.manager(check, name, found) for name in _logins(check.text("manager"))}
        if number:
            self.once(check, "employee_number", self.seen_numbers, number, f"Employee number {number}")
        if check.errors:
            return None

        existing = found.employees.get(number)
        if existing is None:
            employee = Employee(employee_number=number, **values)
            planned = _Planned(check.row, NEW, employee, fields=[])
            if employee.assigned_on is None:
                employee.assigned_on = employee.hired_on
                planned.shown["assigned_on"] = _display(employee.assigned_on)
        else:
            employee = existing
            changed = [name for name, value in values.items() if getattr(employee, name) != value]
            if {"role_id", "department_id"} & set(changed) and assigned_on is None:
                check.error("assigned_on", "The role or department changes: give the day the new assignment starts.")
            before = {self.field_columns.get(name, name): self.stored(employee, name) for name in changed}
            for name in changed:
                setattr(employee, name, values[name])
            planned = _Planned(check.row, CHANGED if changed else UNCHANGED, employee, changed, before)
        check.validate(employee, exclude=["role", "department", "user"], columns=self.field_columns)
        if check.errors:
            return None

        for name, user_id in managers.items():
            pair = (employee.department_id, user_id)
            if pair not in self.manager_pairs:
                self.manager_pairs.add(pair)
                self.added_managers[employee.department_id].add(name)
                planned.manager_pairs.add(pair)
        if planned.manager_pairs and planned.action == UNCHANGED:
            planned.action = CHANGED
            planned.before["manager"] = ""
        return planned

    def stored(self, employee: Employee, name: str) -> str:
        if name == "role_id":
            return self.roles.codes.get(employee.role_id, "")
        if name == "department_id":
            return self.departments.codes.get(employee.department_id, "")
        if name == "user_id":
            return employee.user.username if employee.user_id else ""
        return _display(getattr(employee, name))

    def login(self, check: _Check, login: str, number: str, found: _StaffLookups) -> int | None:
        user_id = found.users.get(login)
        if user_id is None:
            check.error("username", f"Unknown login {login!r}: create the user first, or leave the cell blank.")
            return None
        owner = found.owners.get(login)
        if owner and owner != number:
            check.error("username", f"The login {login!r} already belongs to employee {owner}.")
        self.once(check, "username", self.seen_logins, login, f"The login {login!r}")
        return user_id

    def manager(self, check: _Check, name: str, found: _StaffLookups) -> int | None:
        user_id = found.users.get(name)
        if user_id is None:
            check.error("manager", f"Unknown manager {name!r}: no login has that username.")
        return user_id

    def write(self, planned):
        self.affected.update(employee.pk for employee in self.write_rows(planned))
        through = Department.managers.through
        pairs = [pair for p in planned for pair in p.manager_pairs]
        if pairs:
            through.objects.bulk_create(
                [through(department_id=department_id, user_id=user_id) for department_id, user_id in pairs],
                ignore_conflicts=True,
            )

    def conclude(self, *, write):
        if self.added_managers:
            departments = Department.objects.in_bulk(list(self.added_managers))
            for department_id, names in sorted(self.added_managers.items()):
                listed = ", ".join(sorted(names))
                self.report.notes.append(f"{listed} will manage {departments[department_id]}.")
                if write:
                    # Department has no history table; the admin log records who granted manager access.
                    LogEntry.objects.log_actions(
                        self.user.pk,
                        [departments[department_id]],
                        CHANGE,
                        change_message=f"Added manager(s) {listed} ({self.reason.lower()})",
                        single_object=True,
                    )
        super().conclude(write=write)


class _Stored(NamedTuple):
    """A stored credential, only as much as matching and comparing need: model instances cost too much
    when a batch looks at thousands of cards, and the few that change are loaded whole when written."""

    id: int
    employee_id: int
    certification_type_id: int
    issued_on: datetime.date
    expires_on: datetime.date | None
    issuer: str
    card_number: str
    verification: str
    rejection_reason: str
    notes: str


def _stored_credentials_matching(keys: set[tuple]) -> Iterable[tuple]:
    """Stored cards of the same person and certification as a key (employee, type, issue day, card
    number), with the same issue day or card number: the only ones a row can match."""
    if not keys:
        return []
    stored = Credential.objects.order_by().values_list(*_Stored._fields)
    employee_ids, type_ids, days, cards = (list(part) for part in zip(*keys, strict=True))
    if connection.vendor == "postgresql":
        # One probe of the (employee, certification, issue day) index per key. Filtering on each part
        # separately would fetch every card of every person in the batch (years of renewals), and a plain
        # join gets planned as a scan of the whole table: OFFSET 0 stops PostgreSQL flattening the lateral
        # subquery into one.
        table = connection.ops.quote_name(Credential._meta.db_table)
        matching = RawSQL(
            "SELECT m.id FROM unnest(%s::bigint[], %s::bigint[], %s::date[], %s::text[]) "
            "AS k(employee_id, type_id, issued_on, card_number) CROSS JOIN LATERAL ("
            f"SELECT c.id FROM {table} c WHERE c.employee_id = k.employee_id AND c.certification_type_id = k.type_id "
            "AND (c.issued_on = k.issued_on OR (k.card_number <> '' AND c.card_number = k.card_number)) OFFSET 0) AS m",
            [employee_ids, type_ids, days, cards],
        )
        return stored.filter(id__in=matching)
    return stored.filter(
        Q(issued_on__in=set(days) - {None}) | Q(card_number__in=set(cards) - {""}),
        employee_id__in=set(employee_ids),
        certification_type_id__in=set(type_ids),
    )


@dataclass
class _CredentialLookups:
    employees: dict[str, int]
    by_issue: dict[tuple[int, int, datetime.date], _Stored]
    by_card: dict[tuple[int, int, str], list[_Stored]]


class _CredentialImport(_Import):
    kind = "credentials"
    columns = CREDENTIAL_COLUMNS
    model = Credential
    update_fields = [
        "issued_on",
        "expires_on",
        "issuer",
        "card_number",
        "verification",
        "verified_by",
        "verified_at",
        "rejection_reason",
        "notes",
    ]
    text_fields = ("issuer", "card_number", "notes")

    def prepare(self):
        rows = CertificationType.objects.values_list("code", "id", "expires", "validity_months", "expires_at_month_end")
        self.types = _Codes((code, pk) for code, pk, *_ in rows)
        self.validity = {pk: (months if expires else None, month_end) for _, pk, expires, months, month_end in rows}
        self.max_lengths = {
            name: Credential._meta.get_field(name).max_length
            for name in self.text_fields
            if Credential._meta.get_field(name).max_length
        }
        self.today = clock.today()
        self.seen_issues: dict[tuple, int] = {}
        self.seen_cards: dict[tuple, int] = {}
        self.seen_credentials: dict[int, int] = {}

    def look_up(self, batch):
        numbers = {row.text("employee_number") for row in batch} - {""}
        employees = {}
        if numbers:
            employees = dict(
                Employee.objects.filter(employee_number__in=numbers).order_by().values_list("employee_number", "id")
            )
        keys = set()
        for row in batch:
            employee_id = employees.get(row.text("employee_number"))
            type_id = self.types.get(row.text("certification"))
            if employee_id and type_id:
                with contextlib.suppress(ValueError):
                    day = cell_date(row.cells.get("issued_on"), self.options.date_format)
                    keys.add((employee_id, type_id, day, row.text("card_number")))
        by_issue, by_card = {}, defaultdict(list)
        for stored in _stored_credentials_matching(keys):
            stored = _Stored(*stored)
            key = (stored.employee_id, stored.certification_type_id)
            by_issue[(*key, stored.issued_on)] = stored
            if stored.card_number:
                by_card[(*key, stored.card_number)].append(stored)
        return _CredentialLookups(employees=employees, by_issue=by_issue, by_card=by_card)

    def plan_row(self, check, found):
        number = check.text("employee_number", required=True)
        type_id = self.code(check, "certification", self.types, "certification code")
        issued_on = check.date("issued_on", required=True)
        expires_on = check.date("expires_on")
        texts = {name: check.text(name) for name in self.text_fields}
        verification = self.verification(check)
        reason = check.text("rejection_reason")
        employee_id = found.employees.get(number)
        if number and employee_id is None:
            check.error("employee_number", f"No employee has the number {number!r}; import the staff file first.")
        if issued_on and issued_on > self.today:
            check.error("issued_on", f"The issue date {issued_on} is in the future.")
        elif issued_on and (problem := plausible.event_problem(issued_on, today=self.today)):
            check.error("issued_on", problem)
            issued_on = None  # nothing below may do arithmetic with it
        if issued_on and expires_on and expires_on < issued_on:
            check.error("expires_on", f"The expiry date {expires_on} is before the issue date {issued_on}.")
        elif issued_on and expires_on and (problem := plausible.expiry_problem(expires_on, issued_on=issued_on)):
            check.error("expires_on", problem)
        for name, limit in self.max_lengths.items():
            if len(texts[name]) > limit:
                check.error(name, f"Longer than {limit} characters ({len(texts[name])}).")
        code = check.row.text("certification")
        if number and type_id and issued_on:
            key = (number, type_id, issued_on)
            self.once(check, "issued_on", self.seen_issues, key, f"{number}'s {code} issued on {issued_on}")
        if number and type_id and texts["card_number"]:
            key = (number, type_id, texts["card_number"])
            self.once(check, "card_number", self.seen_cards, key, f"{number}'s {code} card {texts['card_number']}")
        if check.errors:
            return None

        stored = self.match(check, found, (employee_id, type_id), issued_on, texts["card_number"], code)
        if check.errors:
            return None
        if stored is None:
            planned = self.new_credential(check.row, employee_id, type_id, issued_on, expires_on, texts, verification)
            result = planned.changes
            result["rejection_reason"] = reason
        else:
            first = self.seen_credentials.setdefault(stored.id, check.row.number)
            if first != check.row.number:
                check.error(None, f"Row {first} already updates this same credential.")
            given = {"issued_on": issued_on, "expires_on": expires_on, **texts, "verification": verification}
            given["rejection_reason"] = reason
            changes = {name: value for name, value in given.items() if value and getattr(stored, name) != value}
            before = {name: _display(getattr(stored, name)) for name in changes}
            result = {**stored._asdict(), **changes}
            if "verification" in changes:
                changes.update(self.decision(changes["verification"]))
                if changes["verification"] != Verification.REJECTED and stored.rejection_reason:
                    before["rejection_reason"] = stored.rejection_reason
                    changes["rejection_reason"] = result["rejection_reason"] = ""
            planned = _Planned(check.row, CHANGED if changes else UNCHANGED, None, list(changes), before)
            planned.pk, planned.changes = stored.id, changes
        if reason and result["verification"] != Verification.REJECTED:
            check.error("rejection_reason", "A rejection reason goes only with verification 'rejected'.")
        if result["verification"] == Verification.REJECTED and not result["rejection_reason"].strip():
            check.error("rejection_reason", "Give the reason this credential is rejected; the employee sees it.")
        if result["expires_on"] and result["expires_on"] < result["issued_on"]:
            stored_expiry = result["expires_on"]
            check.error("expires_on", f"The stored expiry {stored_expiry} is before the issue date {issued_on}.")
        return None if check.errors else planned

    def new_credential(self, row, employee_id, type_id, issued_on, expires_on, texts, verification) -> _Planned:
        months, at_month_end = self.validity[type_id]
        shown = {}
        if expires_on is None and months:
            expires_on = default_expiry(issued_on, months, at_month_end=at_month_end)
            shown["expires_on"] = f"{expires_on.isoformat()} (proposed)"
        if verification is None:
            verification = Verification.VERIFIED
            shown["verification"] = verification.value
        values = {
            "employee_id": employee_id,
            "certification_type_id": type_id,
            "issued_on": issued_on,
            "expires_on": expires_on,
            "verification": verification,
            **self.decision(verification),
            **texts,
        }
        return _Planned(row, NEW, None, fields=[], shown=shown, changes=values)

    def decision(self, verification: str) -> dict:
        """HR's import is HR's decision: verified or rejected by the importing user, now."""
        decided = verification != Verification.PENDING
        return {
            "verified_by_id": self.user.pk if decided and self.user else None,
            "verified_at": self.now if decided else None,
        }

    def verification(self, check: _Check) -> str | None:
        text = check.text("verification")
        if not text:
            return None
        value = _VERIFICATIONS.get(text.casefold())
        if value is None:
            check.error("verification", f"Unknown verification {text!r}: use verified, pending or rejected.")
        return value

    def match(self, check, found: _CredentialLookups, key, issued_on, card_number, code) -> _Stored | None:
        """The stored card this row is about: by card number when given, else by issue date."""
        by_issue = found.by_issue.get((*key, issued_on))
        candidates = found.by_card.get((*key, card_number), []) if card_number else []
        if len(candidates) > 1:
            if by_issue in candidates:
                return by_issue
            check.error("card_number", f"Card {card_number} is on several {code} credentials; fix them in the admin.")
            return None
        if candidates and by_issue is not None and by_issue.id != candidates[0].id:
            check.error(
                "issued_on",
                f"Card {card_number} is the {code} issued on {candidates[0].issued_on}, but another {code} "
                f"of this employee was issued on {issued_on}.",
            )
            return None
        return candidates[0] if candidates else by_issue

    def write(self, planned):
        changed = [p for p in planned if p.action == CHANGED]
        stored = Credential.objects.in_bulk([p.pk for p in changed])
        for p in planned:
            if p.action == NEW:
                p.instance = Credential(**p.changes)
                continue
            p.instance = stored[p.pk]
            for name, value in p.changes.items():
                setattr(p.instance, name, value)
        self.affected.update(credential.employee_id for credential in self.write_rows(planned))
