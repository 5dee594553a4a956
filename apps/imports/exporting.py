"""Exports of staff and credentials in the import layouts (so an exported file imports unchanged), and
of stored compliance findings.

Rows stream from the database in chunks and are written as they come: CSV row by row, XLSX through
openpyxl's write-only workbook. Every text cell a spreadsheet would run as a formula (starting with
=, +, -, @, a tab or a carriage return) gets a leading apostrophe; the importer strips exactly that
apostrophe again. django-import-export's IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT is not used: it only
drops a leading "=" and turns every cell, dates included, into text.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import itertools
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO

from django.db.models import QuerySet

from apps.certifications.models import Credential
from apps.compliance import read
from apps.compliance.engine import Status
from apps.compliance.models import RequirementStatus
from apps.organisation.models import DataProblem, Department, Employee
from apps.organisation.problems import EMPLOYEE_DATES, leave_out_unreadable

from .layouts import CREDENTIAL_COLUMNS, FINDING_COLUMNS, STAFF_COLUMNS
from .parsing import ENCODINGS, FORMULA_TRIGGERS, ISO_DATE, escape_formula

CHUNK_SIZE = 2000
CSV_BATCH = 1000
# escape_formula looks past leading apostrophes, so a cell starting with one is checked in full too.
_FORMULA_FIRST = frozenset(FORMULA_TRIGGERS) | {"'"}
_TEXT = {str, type(None)}
_DAYS = {datetime.date, type(None)}
STAFF_HEADER = [column.name for column in STAFF_COLUMNS]
CREDENTIAL_HEADER = [column.name for column in CREDENTIAL_COLUMNS]
FINDING_HEADER = list(FINDING_COLUMNS)


# A person whose rows cannot be read is left out of an export and listed for HR, never the end of the export.
_EXPORT = DataProblem.Source.EXPORT


class ExportError(Exception):
    pass


def staff_rows(employees: QuerySet[Employee]) -> Iterator[list]:
    employees = leave_out_unreadable(employees, source=_EXPORT, employee="id", dates=EMPLOYEE_DATES)
    managers = _department_managers()
    # Plain tuples, not model instances: building three objects per row was most of an export's time.
    rows = employees.values_list(
        "employee_number",
        "first_name",
        "last_name",
        "email",
        "user__username",
        "role__code",
        "department__code",
        "department_id",
        "hired_on",
        "assigned_on",
        "terminated_on",
    )
    for number, first, last, email, username, role, department, department_id, *dates in rows.iterator(
        chunk_size=CHUNK_SIZE
    ):
        managed_by = "; ".join(managers.get(department_id, ()))
        yield [number, first, last, email, username or "", role, department, managed_by, *dates]


def credential_rows(credentials: QuerySet[Credential]) -> Iterator[Sequence]:
    credentials = leave_out_unreadable(
        credentials, source=_EXPORT, employee="employee_id", dates=("issued_on", "expires_on")
    )
    # The values_list order is the layout's column order (CREDENTIAL_COLUMNS).
    rows = credentials.values_list(
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
    return rows.iterator(chunk_size=CHUNK_SIZE)


def finding_rows(statuses: QuerySet[RequirementStatus]) -> Iterator[list]:
    """One row per employee and requirement, with the reason in words, as the run stored it."""
    satisfied_by = read.requirement_codes()
    statuses = leave_out_unreadable(
        statuses,
        source=_EXPORT,
        employee="employee_id",
        dates=(*(f"employee__{name}" for name in EMPLOYEE_DATES), "credential__issued_on", "credential__expires_on"),
    )
    statuses = statuses.prefetch_related(None).select_related(
        "run",
        "employee__department",
        "employee__role",
        "requirement__role",
        "requirement__department",
        "credential__certification_type",
    )
    for status in statuses.iterator(chunk_size=CHUNK_SIZE):
        employee, requirement, credential = status.employee, status.requirement, status.credential
        where = requirement.department.name if requirement.department is not None else "any department"
        yield [
            status.run.as_of,
            employee.employee_number,
            employee.last_name,
            employee.first_name,
            employee.department.code,
            employee.role.code,
            f"{requirement.role.name}, {where}",
            " or ".join(satisfied_by.get(requirement.pk, [])),
            status.mandatory,
            Status(status.status).label,
            status.reason,
            credential.certification_type.code if credential else "",
            credential.issued_on if credential else None,
            status.expires_on,
            status.due_on,
            status.since,
        ]


def _department_managers() -> dict[int, list[str]]:
    managers = defaultdict(list)
    for department_id, username in Department.managers.through.objects.order_by("user__username").values_list(
        "department_id", "user__username"
    ):
        managers[department_id].append(username)
    return managers


def write_table(
    stream: BinaryIO,
    kind: str,
    header: list[str],
    rows: Iterable[Sequence],
    *,
    encoding: str = "utf-8",
    date_format: str = ISO_DATE,
) -> int:
    """Write a header and rows as CSV or XLSX; returns the number of rows written."""
    if kind == "csv":
        return _write_csv(stream, header, rows, ENCODINGS[encoding], date_format)
    if kind == "xlsx":
        return _write_xlsx(stream, header, rows)
    raise ExportError(f"Cannot export as {kind!r}: choose csv or xlsx.")


def export_bytes(kind: str, header: list[str], rows: Iterable[Sequence], **options) -> bytes:
    buffer = io.BytesIO()
    write_table(buffer, kind, header, rows, **options)
    return buffer.getvalue()


def stream_table(kind: str, header: list[str], rows: Iterable[Sequence]) -> Iterator[bytes]:
    """The file's bytes a piece at a time (UTF-8 CSV, or XLSX), for a streamed download: memory stays flat
    whatever the number of rows. CSV goes out a batch of rows at a time as it is formatted; an XLSX
    workbook is a zip whose directory comes last, so it is written to a temporary file first and sent from there."""
    if kind == "csv":
        yield from _csv_chunks(header, rows, ENCODINGS["utf-8"], ISO_DATE)
        return
    if kind != "xlsx":
        raise ExportError(f"Cannot export as {kind!r}: choose csv or xlsx.")
    with tempfile.TemporaryFile() as spool:
        _write_xlsx(spool, header, rows)
        spool.seek(0)
        yield from iter(lambda: spool.read(1 << 16), b"")


def _write_csv(stream: BinaryIO, header, rows, codec: str, date_format: str) -> int:
    written = 0
    for chunk, count in _csv_batches(header, rows, codec, date_format):
        stream.write(chunk)
        written += count
    return written - 1


def _csv_chunks(header, rows, codec: str, date_format: str) -> Iterator[bytes]:
    for chunk, _ in _csv_batches(header, rows, codec, date_format):
        yield chunk


def _csv_batches(header, rows, codec: str, date_format: str) -> Iterator[tuple[bytes, int]]:
    # A batch of rows at a time: formatted column by column, written by one writerows and encoded once
    # through an incremental encoder (a byte-order mark once). Per cell and per row, the calls cost
    # several times the database read.
    encoder = codecs.getincrementalencoder(codec)()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    cells = _CsvCells(date_format)
    lines = _with_header(header, rows)
    written = 0
    while batch := list(itertools.islice(lines, CSV_BATCH)):
        formatted = list(cells.format(batch))
        writer.writerows(formatted)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        try:
            chunk = encoder.encode(text)
        except UnicodeEncodeError as error:
            number = written + 1 + _row_at(error.start, formatted)
            raise ExportError(
                f"Row {number} has {error.object[error.start : error.end]!r}, which {codec} cannot store; "
                "export as UTF-8 or XLSX."
            ) from None
        yield chunk, len(batch)
        written += len(batch)


def _row_at(offset: int, rows: list[tuple[str, ...]]) -> int:
    """The index of the row whose CSV line holds character `offset` of the batch's text."""
    writer = csv.writer(io.StringIO(), lineterminator="\r\n")
    # writerow returns what the stream's write returned: the characters of that row's line.
    ends = itertools.accumulate(map(writer.writerow, rows))
    return next(index for index, end in enumerate(ends) if end > offset)


def _with_header(header, rows) -> Iterator[Sequence]:
    yield header
    yield from rows


class _CsvCells:
    """Values -> CSV text, a batch of rows at a time.

    A column of a batch that holds only text (or blanks) is checked for formula triggers by its first
    character, inline; a column of dates maps through a memo of formatted days (a few thousand distinct
    days over a whole workforce); anything else goes value by value.
    """

    def __init__(self, date_format: str):
        self.days: dict[datetime.date | None, str] = {None: ""}
        self.date_format = date_format

    def format(self, batch: list[Sequence]) -> Iterator[tuple[str, ...]]:
        columns = []
        for column in zip(*batch, strict=True):
            kinds = set(map(type, column))
            if kinds <= _TEXT:
                columns.append([escape_formula(v) if v and v[0] in _FORMULA_FIRST else v or "" for v in column])
            elif kinds <= _DAYS:
                columns.append(list(map(self.day, column)))
            else:
                columns.append(list(map(self.cell, column)))
        return zip(*columns, strict=True)

    def day(self, value: datetime.date | None) -> str:
        try:
            return self.days[value]
        except KeyError:
            assert value is not None  # None is in self.days from the start
            text = self.days[value] = value.strftime(self.date_format)
            return text

    def cell(self, value) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, datetime.date):
            return value.strftime(self.date_format)
        return escape_formula(str(value))


def _write_xlsx(stream: BinaryIO, header, rows) -> int:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def cell(value):
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, str):
            return ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", escape_formula(value))
        return value

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append([cell(value) for value in row])
        count += 1
    book.save(stream)
    return count
