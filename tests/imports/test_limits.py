"""Hostile and oversized import files are refused early with a clear message; bad cells are row errors."""

import io
import time
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.imports.parsing import ImportFile
from apps.imports.staff import staff_import
from apps.organisation.models import Employee
from tests.imports.conftest import STAFF_HEADER, csv_file, csv_rows, staff_row, xlsx_bytes

pytestmark = pytest.mark.django_db


def staff(file, user):
    return staff_import(file=file, user=user, dry_run=False)


def errors(report):
    return [(error.row, error.column, error.message) for error in report.errors]


def test_a_file_over_the_size_limit_is_refused_before_reading(org, hr_admin, recomputes, settings):
    settings.IMPORT_MAX_BYTES = 1024
    rows = [staff_row(f"E{i}") for i in range(40)]

    report = staff(csv_file(csv_rows(STAFF_HEADER, rows), name="big.csv"), hr_admin)

    ((row, column, message),) = errors(report)
    assert "an import file may be at most" in message
    assert not Employee.objects.exists()


def test_a_file_over_the_row_limit_is_refused(org, hr_admin, recomputes, settings):
    settings.IMPORT_MAX_ROWS = 3
    rows = [staff_row(f"E{i}") for i in range(5)]

    report = staff(csv_file(csv_rows(STAFF_HEADER, rows)), hr_admin)

    assert errors(report) == [(5, None, "The file has more than 3 rows: split it.")]
    assert not Employee.objects.exists()


def test_a_nul_byte_is_a_row_and_column_error(org, hr_admin, recomputes):
    rows = [staff_row("E1"), staff_row("E2", first="An\x00a")]

    report = staff(csv_file(csv_rows(STAFF_HEADER, rows)), hr_admin)

    assert (3, "first_name", "Contains a NUL character (an invisible control character): retype the cell.") in errors(
        report
    )
    assert not report.committed
    assert not Employee.objects.exists()


def test_a_nul_byte_in_a_looked_up_code_never_reaches_the_database(org, hr_admin, recomputes):
    report = staff(csv_file(csv_rows(STAFF_HEADER, [staff_row("E\x001", department="E\x00D")])), hr_admin)

    columns = {column for _, column, _ in errors(report)}
    assert {"employee_number", "department"} <= columns


def test_an_overlong_cell_is_a_row_and_column_error(org, hr_admin, recomputes, settings):
    settings.IMPORT_MAX_CELL_CHARS = 100

    report = staff(csv_file(csv_rows(STAFF_HEADER, [staff_row("E1", last="x" * 101)])), hr_admin)

    assert errors(report) == [(2, "last_name", "Longer than 100 characters (101).")]


def zip_bomb(inflated_bytes: int) -> bytes:
    """A valid workbook plus one part of zeros that inflates to `inflated_bytes` (compressed about 1000:1)."""
    buffer = io.BytesIO(xlsx_bytes(STAFF_HEADER, [staff_row("E1")]))
    with (
        zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/worksheets/sheet2.xml", "w", force_zip64=True) as part,
    ):
        chunk = b"\0" * (1 << 20)
        for _ in range(inflated_bytes >> 20):
            part.write(chunk)
    return buffer.getvalue()


@pytest.mark.slow
def test_a_zip_bomb_is_refused_fast_and_small(org, hr_admin, recomputes):
    bomb = zip_bomb(256 << 20)  # 256 MB of XML from a few hundred kilobytes

    tracemalloc.start()
    started = time.monotonic()
    report = staff(ImportFile.from_bytes(bomb, name="bomb.xlsx"), hr_admin)
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    ((_, _, message),) = errors(report)
    assert "would inflate to 256.0 MB" in message
    assert elapsed < 2
    assert peak < 100 * 1024 * 1024


def one_enormous_cell(chars: int) -> bytes:
    """A workbook whose one cell holds `chars` characters (past what openpyxl itself would write)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes(STAFF_HEADER, [staff_row("E1", last="PLACEHOLDER")])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info.filename, source.read(info).replace(b"PLACEHOLDER", b"x" * chars))
    return buffer.getvalue()


def test_one_enormous_cell_in_a_small_workbook_is_refused(org, hr_admin, recomputes):
    workbook = one_enormous_cell(5_000_000)

    report = staff(ImportFile.from_bytes(workbook, name="cell.xlsx"), hr_admin)

    ((_, _, message),) = errors(report)
    assert "not an ordinary workbook" in message


def rewrite_parts(workbook: bytes, change) -> bytes:
    """The workbook with each part passed through `change(name, content)`; a part it returns None for is left out."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in source.infolist():
            content = change(info.filename, source.read(info))
            if content is not None:
                archive.writestr(info.filename, content)
    return buffer.getvalue()


def half_a_sheet(name, content):
    return content[: len(content) // 2] if "worksheets/sheet" in name else content


def no_sheets(name, content):
    return None if "worksheets/" in name else content


def an_unknown_attribute(name, content):
    return content.replace(b"<dimension ", b'<dimension hostile="1" ') if "worksheets/sheet" in name else content


@pytest.mark.parametrize("change", [half_a_sheet, no_sheets, an_unknown_attribute])
def test_a_malformed_workbook_is_a_clear_error_in_the_command_and_the_admin(org, hr_admin, recomputes, client, change):
    workbook = rewrite_parts(xlsx_bytes(STAFF_HEADER, [staff_row("E1")]), change)

    report = staff(ImportFile.from_bytes(workbook, name="staff.xlsx"), hr_admin)
    client.force_login(hr_admin)
    response = client.post(
        "/admin/organisation/employee/import/",
        {
            "resource": "0",
            "import_file": SimpleUploadedFile("staff.xlsx", workbook),
            "format": "1",
            "encoding": "utf-8",
            "date_format": "%Y-%m-%d",
        },
    )

    assert errors(report) == [(None, None, "staff.xlsx is not a readable XLSX workbook.")]
    assert response.status_code == 200 and b"is not a readable XLSX workbook" in response.content
    assert not Employee.objects.exists()
