"""The plausible-date rule holds in imports: a mistyped year is a "Row N, column X" error, nothing imported."""

import pytest

from apps.certifications.models import Credential
from apps.imports.credentials import credentials_import
from apps.imports.staff import staff_import
from apps.organisation.models import Employee
from tests import factories
from tests.imports.conftest import CREDENTIAL_HEADER, STAFF_HEADER, credential_row, csv_file, csv_rows, staff_row

pytestmark = pytest.mark.django_db


def errors(report):
    return [(error.row, error.column) for error in report.errors]


def test_a_staff_row_from_year_one_is_refused(org, hr_admin, recomputes):
    rows = [staff_row("E1", hired="2024-01-15"), staff_row("E2", hired="0001-01-01")]

    report = staff_import(file=csv_file(csv_rows(STAFF_HEADER, rows)), user=hr_admin, dry_run=False)

    assert (3, "hired_on") in errors(report)
    assert not report.committed
    assert not Employee.objects.exists()


@pytest.mark.parametrize(
    ("issued", "expires", "column"),
    [("0001-01-01", "", "issued_on"), ("2025-01-10", "9999-12-31", "expires_on"), ("1925-03-01", "", "issued_on")],
)
def test_a_card_with_an_implausible_date_is_refused(org, hr_admin, recomputes, issued, expires, column):
    factories.EmployeeFactory(employee_number="E1", role=org.nurse, department=org.ed)
    rows = [credential_row("E1", "BLS", issued, expires=expires)]

    report = credentials_import(file=csv_file(csv_rows(CREDENTIAL_HEADER, rows)), user=hr_admin, dry_run=False)

    assert errors(report) == [(2, column)]
    assert not Credential.objects.exists()
