"""One person whose record cannot be read is left out of every export, which still goes out for everyone else,
and listed for HR under Data problems.

The bad values are written straight into the tables, past the validators and the date constraints
(tests/bad_rows.py): dates of 'infinity', which PostgreSQL holds and Python cannot read.
"""

import datetime

import pytest
from django.db import connection
from django.urls import reverse

from apps.compliance import services as compliance
from apps.organisation.models import DataProblem
from tests import factories
from tests.bad_rows import unchecked, unreadable_expiry
from tests.imports.test_commands import command

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def ana_and_unreadable_ben(org, postgres):
    factories.RequirementFactory(role=org.nurse, any_of=[org.bls])
    ana = factories.EmployeeFactory(employee_number="E1", last_name="Silva", role=org.nurse, department=org.ed)
    ben = factories.EmployeeFactory(employee_number="E2", last_name="Costa", role=org.nurse, department=org.ed)
    for person in (ana, ben):
        # Lapsed, so both are on the attention list too.
        factories.CredentialFactory(
            employee=person, certification_type=org.bls, issued_on=D(2022, 1, 5), expires_on=D(2024, 1, 31)
        )
    compliance.scan_run()
    with unchecked():
        unreadable_expiry(ben.credentials.get())
        with connection.cursor() as cursor:
            cursor.execute("UPDATE organisation_employee SET terminated_on = 'infinity' WHERE id = %s", [ben.pk])
        yield ana, ben


def problem_of(employee):
    problem = DataProblem.objects.get(employee=employee)
    assert problem.source == DataProblem.Source.EXPORT
    return problem


def test_the_credentials_command_exports_everyone_else(ana_and_unreadable_ben, tmp_path):
    ana, ben = ana_and_unreadable_ben
    path = tmp_path / "cards.csv"

    command("export_credentials", str(path))

    numbers = [line.split(",")[0] for line in path.read_text("utf-8-sig").splitlines()[1:]]
    assert numbers == ["E1"]
    assert "expires_on is 'infinity'" in problem_of(ben).reason


def test_the_staff_command_exports_everyone_else(ana_and_unreadable_ben, tmp_path):
    ana, ben = ana_and_unreadable_ben
    path = tmp_path / "staff.xlsx"

    command("export_staff", str(path))

    assert path.stat().st_size > 0
    assert "terminated_on is 'infinity'" in problem_of(ben).reason


def test_the_admin_export_leaves_them_out(ana_and_unreadable_ben, hr):
    ana, ben = ana_and_unreadable_ben

    response = hr.post(reverse("admin:organisation_employee_export"), {"format": "0", "resource": "0"})

    assert response.status_code == 200
    numbers = [line.split(",")[0] for line in b"".join(response.streaming_content).decode("utf-8-sig").splitlines()[1:]]
    assert numbers == ["E1"]
    assert problem_of(ben)


def test_the_findings_export_leaves_them_out(ana_and_unreadable_ben, hr):
    ana, ben = ana_and_unreadable_ben

    response = hr.post(reverse("admin:compliance_requirementstatus_export"), {"format": "0", "resource": "0"})

    assert response.status_code == 200
    page = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "E1" in page and "E2" not in page
    assert problem_of(ben)


@pytest.mark.parametrize("page", ["web:employee_list", "web:attention"])
def test_the_csv_downloads_of_the_lists_leave_them_out(ana_and_unreadable_ben, hr, page):
    ana, ben = ana_and_unreadable_ben

    response = hr.get(reverse(page), {"format": "csv"})

    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert "Costa" not in body
    assert problem_of(ben)


def test_the_problem_goes_once_an_export_reads_them_cleanly(ana_and_unreadable_ben, tmp_path):
    ana, ben = ana_and_unreadable_ben
    command("export_staff", str(tmp_path / "before.csv"))
    assert DataProblem.objects.exists()

    with connection.cursor() as cursor:
        cursor.execute("UPDATE organisation_employee SET terminated_on = NULL WHERE id = %s", [ben.pk])
    command("export_staff", str(tmp_path / "after.csv"))

    assert not DataProblem.objects.exists()
    assert "E2" in (tmp_path / "after.csv").read_text("utf-8-sig")
