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
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from django.db.models import QuerySet

from apps.certifications.models import Credential, Requirement
from apps.compliance.engine import Status
from apps.compliance.models import RequirementStatus
from apps.organisation.models import Department, Employee

from .layouts import CREDENTIAL_COLUMNS, FINDING_COLUMNS, STAFF_COLUMNS
from .parsing import ENCODINGS, ISO_DATE, escape_formula

CHUNK_SIZE = 2000
STAFF_HEADER = [column.name for column in STAFF_COLUMNS]
CREDENTIAL_HEADER = [column.name for column in CREDENTIAL_COLUMNS]
FINDING_HEADER = list(FINDING_COLUMNS)


class ExportError(Exception):
    pass


def staff_rows(employees: QuerySet[Employee]) -> Iterator[list]:
    managers = _department_managers()
    for employee in employees.select_related("role", "department", "user").iterator(chunk_size=CHUNK_SIZE):
        yield [
            employee.employee_number,
            employee.first_name,
            employee.last_name,
            employee.email,
            employee.user.username if employee.user_id else "",
            employee.role.code,
            employee.department.code,
            "; ".join(managers.get(employee.department_id, ())),
            employee.hired_on,
            employee.assigned_on,
            employee.terminated_on,
        ]


def credential_rows(credentials: QuerySet[Credential]) -> Iterator[list]:
    credentials = credentials.select_related("employee", "certification_type")
    for credential in credentials.iterator(chunk_size=CHUNK_SIZE):
        yield [
            credential.employee.employee_number,
            credential.certification_type.code,
            credential.issued_on,
            credential.expires_on,
            credential.issuer,
            credential.card_number,
            credential.verification,
            credential.rejection_reason,
            credential.notes,
        ]


def finding_rows(statuses: QuerySet[RequirementStatus]) -> Iterator[list]:
    """One row per employee and requirement, with the reason in words, as the run stored it."""
    satisfied_by = defaultdict(list)
    for requirement_id, code in Requirement.any_of.through.objects.values_list(
        "requirement_id", "certificationtype__code"
    ):
        satisfied_by[requirement_id].append(code)
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
        where = requirement.department.name if requirement.department_id else "any department"
        yield [
            status.run.as_of,
            employee.employee_number,
            employee.last_name,
            employee.first_name,
            employee.department.code,
            employee.role.code,
            f"{requirement.role.name}, {where}",
            " or ".join(sorted(satisfied_by[requirement.pk])),
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
    rows: Iterable[list],
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


def export_bytes(kind: str, header: list[str], rows: Iterable[list], **options) -> bytes:
    buffer = io.BytesIO()
    write_table(buffer, kind, header, rows, **options)
    return buffer.getvalue()


def _write_csv(stream: BinaryIO, header, rows, codec: str, date_format: str) -> int:
    # Row by row through an incremental encoder: a byte-order mark once, and an unencodable
    # value reported with its row instead of failing somewhere in a buffer flush.
    encoder = codecs.getincrementalencoder(codec)()
    line = io.StringIO()
    writer = csv.writer(line, lineterminator="\r\n")
    written = 0
    for number, row in enumerate(_with_header(header, rows), start=1):
        writer.writerow([_csv_cell(value, date_format) for value in row])
        try:
            stream.write(encoder.encode(line.getvalue()))
        except UnicodeEncodeError as error:
            raise ExportError(
                f"Row {number} has {error.object[error.start : error.end]!r}, which {codec} cannot store; "
                "export as UTF-8 or XLSX."
            ) from None
        line.seek(0)
        line.truncate()
        written = number - 1
    return written


def _with_header(header, rows) -> Iterator[list]:
    yield header
    yield from rows


def _csv_cell(value, date_format: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.date):
        return value.strftime(date_format)
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
