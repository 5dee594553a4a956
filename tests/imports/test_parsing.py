import datetime

import pytest

from apps.imports.layouts import STAFF_COLUMNS
from apps.imports.parsing import (
    FileError,
    ImportFile,
    cell_date,
    cell_text,
    check_date_format,
    escape_formula,
    read_table,
    unescape_formula,
)
from apps.imports.report import ImportOptions
from apps.imports.staff import staff_import
from apps.organisation.models import Employee
from tests.imports.conftest import STAFF_HEADER, csv_rows, staff_row, xlsx_bytes

D = datetime.date
NAMES = "Zoë,Müller"


def staff_bytes(rows, encoding="utf-8", bom=b""):
    return bom + csv_rows(STAFF_HEADER, rows).encode(encoding)


def import_bytes(data, user, *, name="staff.csv", **options):
    file = ImportFile.from_bytes(data, name=name)
    return staff_import(file=file, user=user, options=ImportOptions(**options))


def errors(report):
    return [str(error) for error in report.errors]


@pytest.mark.django_db
def test_utf8_with_a_byte_order_mark_is_read_by_default(org, hr_admin, recomputes):
    report = import_bytes(staff_bytes([staff_row("E1", "Zoë", "Müller")], bom=b"\xef\xbb\xbf"), hr_admin)

    assert report.ok
    assert Employee.objects.get().first_name == "Zoë"


@pytest.mark.django_db
def test_latin1_is_read_when_chosen(org, hr_admin, recomputes):
    data = staff_bytes([staff_row("E1", "Zoë", "Müller")], encoding="latin-1")

    assert import_bytes(data, hr_admin, encoding="latin-1").ok
    assert Employee.objects.get().last_name == "Müller"


@pytest.mark.django_db
def test_a_latin1_file_read_as_utf8_is_refused_with_a_hint(org, hr_admin, recomputes):
    data = staff_bytes([staff_row("E1"), staff_row("E2", "Zoë", "Müller")], encoding="latin-1")

    report = import_bytes(data, hr_admin)

    assert errors(report) == [
        "Line 3 of the file is not valid UTF-8 (byte 0xeb). If the file was saved as Latin-1 or Windows-1252 "
        '(Excel\'s plain "CSV"), choose that encoding.'
    ]
    assert not Employee.objects.exists()


@pytest.mark.django_db
def test_a_utf8_file_read_as_latin1_is_refused_rather_than_garbled(org, hr_admin, recomputes):
    report = import_bytes(staff_bytes([staff_row("E1", "Zoë", "Müller")]), hr_admin, encoding="latin-1")

    assert errors(report) == ["The file is UTF-8 but Latin-1 (ISO-8859-1) was chosen; choose UTF-8."]


@pytest.mark.django_db
def test_the_date_format_option_reads_us_dates(org, hr_admin, recomputes):
    data = staff_bytes([staff_row("E1", hired="01/15/2024", assigned="02/01/2024")])

    assert import_bytes(data, hr_admin, date_format="%m/%d/%Y").ok
    assert Employee.objects.get().assigned_on == D(2024, 2, 1)


@pytest.mark.django_db
def test_iso_dates_are_malformed_under_a_us_date_format(org, hr_admin, recomputes):
    report = import_bytes(staff_bytes([staff_row("E1", hired="2024-01-15")]), hr_admin, date_format="%m/%d/%Y")

    assert errors(report) == ["Row 2, column hired_on: '2024-01-15' is not a date in the format MM/DD/YYYY (%m/%d/%Y)."]


def test_a_date_format_that_cannot_read_its_own_dates_is_refused():
    for bad in ("YYYY-MM-DD", "%Y-%m", "%Y-%m-%D"):
        with pytest.raises(ValueError, match="not a usable date format"):
            check_date_format(bad)
    assert check_date_format("%d.%m.%Y") == "%d.%m.%Y"


def test_unknown_encodings_are_refused():
    with pytest.raises(ValueError, match="Unknown encoding 'ascii'"):
        ImportOptions(encoding="ascii")


def test_xlsx_cells_are_typed_values():
    assert cell_date(datetime.datetime(2024, 1, 15), "%m/%d/%Y") == D(2024, 1, 15)
    assert cell_text(1234.0) == "1234"
    assert cell_text(None) == ""
    with pytest.raises(ValueError, match="45306 is a number, not a date"):
        cell_date(45306, "%Y-%m-%d")


def test_formula_escaping_round_trips():
    for text in ("=SUM(A1:A9)", "+1", "-", "@cmd", "\tx", "\rx", "'=already", "''+twice"):
        assert escape_formula(text).startswith("'")
        assert unescape_formula(escape_formula(text)) == text
    assert escape_formula("Ana") == "Ana" and unescape_formula("'quoted") == "'quoted"


def rows_of(data: bytes, name="staff.csv"):
    return list(read_table(ImportFile.from_bytes(data, name=name), STAFF_COLUMNS, encoding="utf-8"))


def problems_of(data: bytes, name="staff.csv"):
    with pytest.raises(FileError) as raised:
        rows_of(data, name)
    return raised.value.problems


def test_headers_are_matched_loosely_but_unknown_and_doubled_columns_are_refused():
    rows = rows_of(b"Employee Number, First-Name ,LAST_NAME,role,department,hired_on\nE1,Ana,Silva,rn,ED,2024-01-15\n")
    assert rows[0].cells["first_name"] == "Ana"

    assert problems_of(b"employee_number,first_name,last_name,role,department,hired_on,hired_on,shoe_size\n") == [
        (1, "hired_on", "Column 'hired_on' appears twice."),
        (
            1,
            "shoe_size",
            "Unknown column 'shoe_size'; the columns are: " + ", ".join(c.name for c in STAFF_COLUMNS) + ".",
        ),
    ]


def test_a_semicolon_separated_file_gets_a_hint():
    problems = problems_of(b"employee_number;first_name;last_name\nE1;Ana;Silva\n")
    assert problems[-1] == (1, None, "The header looks semicolon-separated: save the file as comma-separated CSV.")


def test_empty_files_blank_rows_and_unnamed_values():
    assert problems_of(b"") == [(1, None, "The file is empty: the first row must name the columns.")]
    header = b"employee_number,first_name,last_name,role,department,hired_on\n"
    rows = rows_of(header + b",,,,,\n\nE1,Ana,Silva,rn,ED,2024-01-15,extra\n")
    assert [(row.number, row.problems) for row in rows] == [
        (4, [(None, "1 value(s) in column(s) without a header; remove or name them.")])
    ]


def test_files_must_be_csv_or_xlsx_and_named_like_what_they_are():
    with pytest.raises(FileError, match="only .csv and .xlsx"):
        ImportFile.from_bytes(b"", name="staff.ods")
    with pytest.raises(FileError, match="named like a XLSX file, not CSV"):
        ImportFile.from_bytes(b"", name="staff.xlsx", kind="csv")
    assert problems_of(b"not a zip", name="staff.xlsx") == [(None, None, "staff.xlsx is not a readable XLSX workbook.")]


def test_xlsx_rows_keep_their_sheet_numbers():
    data = xlsx_bytes(STAFF_HEADER, [staff_row("E1"), [None] * 11, staff_row("E2", hired=D(2024, 1, 15))])

    rows = rows_of(data, name="staff.xlsx")

    assert [(row.number, row.text("employee_number")) for row in rows] == [(2, "E1"), (4, "E2")]
    assert rows[1].cells["hired_on"] == datetime.datetime(2024, 1, 15)
