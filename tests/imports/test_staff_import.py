import datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model

from apps.imports.report import CHANGED, ImportOptions
from apps.imports.staff import staff_import
from apps.organisation.models import Employee
from tests import factories
from tests.imports.conftest import STAFF_HEADER, csv_file, csv_rows, staff_row, xlsx_file

pytestmark = pytest.mark.django_db

D = datetime.date


def run(rows, user, *, dry_run=False, header=STAFF_HEADER, **options):
    file = csv_file(csv_rows(header, rows), name="staff.csv")
    return staff_import(file=file, user=user, dry_run=dry_run, options=ImportOptions(**options) if options else None)


def messages(report):
    return [(error.row, error.column, error.message) for error in report.errors]


def test_it_creates_employees_from_a_csv_file(org, hr_admin, recomputes):
    report = run(
        [
            staff_row("E1", "Ana", "Silva", email="ana@example.org", hired="2024-01-15"),
            staff_row(
                "E2",
                "Ben",
                "Okafor",
                role="paramedic",
                department="ICU",
                hired="2023-05-01",
                assigned="2025-02-01",
                terminated="2026-01-31",
            ),
        ],
        hr_admin,
    )

    assert report.ok and report.committed
    assert (report.new, report.changed, report.unchanged) == (2, 0, 0)
    ana = Employee.objects.get(employee_number="E1")
    assert (ana.first_name, ana.email, ana.role, ana.department) == ("Ana", "ana@example.org", org.nurse, org.ed)
    assert ana.assigned_on == ana.hired_on == D(2024, 1, 15)
    ben = Employee.objects.get(employee_number="E2")
    assert (ben.role, ben.department, ben.assigned_on, ben.terminated_on) == (
        org.paramedic,
        org.icu,
        D(2025, 2, 1),
        D(2026, 1, 31),
    )


def test_it_reads_xlsx_with_real_date_cells(org, hr_admin, recomputes):
    file = xlsx_file(STAFF_HEADER, [staff_row("E1", hired=D(2024, 1, 15)), staff_row("E2", hired="2024-02-01")])

    report = staff_import(file=file, user=hr_admin)

    assert report.ok and report.new == 2
    assert Employee.objects.get(employee_number="E1").hired_on == D(2024, 1, 15)
    assert Employee.objects.get(employee_number="E2").hired_on == D(2024, 2, 1)


def test_reimporting_the_same_file_changes_nothing(org, hr_admin, recomputes):
    rows = [staff_row("E1", email="ana@example.org"), staff_row("E2", "Ben", role="paramedic")]
    run(rows, hr_admin)
    history = Employee.history.count()

    again = run(rows, hr_admin)

    assert (again.new, again.changed, again.unchanged) == (0, 0, 2)
    assert again.summary().endswith("Everything was up to date: nothing was written.")
    assert Employee.history.count() == history
    assert recomputes == [sorted(Employee.objects.values_list("id", flat=True))]


def test_it_updates_changed_employees_and_records_the_importing_user(org, hr_admin, recomputes):
    employee = factories.EmployeeFactory(
        employee_number="E1",
        role=org.nurse,
        department=org.ed,
        hired_on=D(2024, 1, 15),
        last_name="Silva",
        first_name="Ana",
    )

    report = run(
        [staff_row("E1", "Ana", "Silva-Costa", department="ICU", assigned="2026-03-01"), staff_row("E2")], hr_admin
    )

    assert (report.new, report.changed) == (1, 1)
    employee.refresh_from_db()
    assert (employee.last_name, employee.department, employee.assigned_on) == ("Silva-Costa", org.icu, D(2026, 3, 1))
    latest = employee.history.latest()
    assert (latest.history_type, latest.history_user, latest.history_change_reason) == (
        "~",
        hr_admin,
        "Imported from staff.csv",
    )
    created = Employee.objects.get(employee_number="E2").history.get()
    assert (created.history_type, created.history_user) == ("+", hr_admin)
    change = next(c for c in report.changes if c.action == CHANGED)
    assert change.before == {"last_name": "Silva", "department": "ED", "assigned_on": "2024-01-15"}


def test_it_queues_one_recompute_for_all_affected_employees(org, hr_admin, recomputes):
    unchanged = factories.EmployeeFactory(
        employee_number="E9",
        role=org.nurse,
        department=org.ed,
        hired_on=D(2024, 1, 15),
        first_name="Ana",
        last_name="Silva",
    )
    changed = factories.EmployeeFactory(
        employee_number="E8",
        role=org.nurse,
        department=org.ed,
        hired_on=D(2024, 1, 15),
        first_name="Old",
        last_name="Silva",
    )

    run([staff_row("E9"), staff_row("E8"), *[staff_row(f"N{i}") for i in range(5)]], hr_admin)

    new_ids = Employee.objects.filter(employee_number__startswith="N").values_list("id", flat=True)
    assert recomputes == [sorted([changed.id, *new_ids])]
    assert unchanged.id not in recomputes[0]


def test_a_dry_run_reports_and_writes_nothing(org, hr_admin, recomputes):
    report = run([staff_row("E1"), staff_row("E2")], None, dry_run=True)

    assert (report.new, report.dry_run, report.committed) == (2, True, False)
    assert "Dry run" in report.summary()
    assert not Employee.objects.exists() and recomputes == []


def test_a_blank_cell_keeps_the_stored_value(org, hr_admin, recomputes):
    user = factories.UserFactory(username="ana")
    employee = factories.EmployeeFactory(
        employee_number="E1",
        first_name="Ana",
        last_name="Silva",
        user=user,
        email="ana@example.org",
        role=org.nurse,
        department=org.ed,
        hired_on=D(2024, 1, 15),
        terminated_on=D(2026, 1, 1),
    )

    report = run([staff_row("E1", email="", username="", terminated="")], hr_admin)

    assert report.unchanged == 1
    employee.refresh_from_db()
    assert (employee.email, employee.user, employee.terminated_on) == ("ana@example.org", user, D(2026, 1, 1))


def test_columns_left_out_are_left_alone(org, hr_admin, recomputes):
    factories.EmployeeFactory(
        employee_number="E1",
        first_name="Ana",
        last_name="Silva",
        email="ana@example.org",
        role=org.nurse,
        department=org.ed,
        hired_on=D(2024, 1, 15),
    )
    header = "employee_number,first_name,last_name,role,department,hired_on"

    report = run([["E1", "Ana", "Silva", "rn", "ED", "2024-01-15"]], hr_admin, header=header)

    assert report.unchanged == 1
    assert Employee.objects.get().email == "ana@example.org"


def test_it_links_logins_and_adds_department_managers(org, hr_admin, recomputes):
    ana = factories.UserFactory(username="ana")
    morgan = factories.UserFactory(username="morgan")
    factories.UserFactory(username="riley")

    report = run(
        [staff_row("E1", username="ana", manager="morgan; riley"), staff_row("E2", manager="morgan")], hr_admin
    )

    assert report.ok and report.new == 2
    assert Employee.objects.get(employee_number="E1").user == ana
    assert set(org.ed.managers.values_list("username", flat=True)) == {"morgan", "riley"}
    assert report.notes == ["morgan, riley will manage Emergency Department."]
    entry = LogEntry.objects.get(object_id=str(org.ed.pk))
    assert entry.user == hr_admin and "morgan, riley" in entry.change_message
    assert run([staff_row("E1", username="ana", manager="morgan")], hr_admin).unchanged == 1
    assert morgan.managed_departments.get() == org.ed


def test_each_kind_of_bad_row_is_named_with_its_row_and_column(org, hr_admin, recomputes):
    factories.UserFactory(username="taken")
    linked = factories.UserFactory(username="linked")
    factories.EmployeeFactory(employee_number="OTHER", user=linked, role=org.nurse, department=org.ed)

    report = run(
        [
            staff_row("E1"),
            staff_row("E2", role="surgeon"),
            staff_row("E3", department="MARS"),
            staff_row("E4", manager="nobody"),
            staff_row("E5", hired="15/01/2024"),
            staff_row("E1"),
            staff_row("E6", username="ghost"),
            staff_row("E7", username="linked"),
            staff_row("E8", hired="2024-01-15", assigned="2023-01-01"),
            staff_row("E9", email="not-an-email"),
            staff_row("", first=""),
        ],
        hr_admin,
    )

    assert messages(report) == [
        (3, "role", "Unknown role 'surgeon'; the codes are: paramedic, rn."),
        (4, "department", "Unknown department 'MARS'; the codes are: ED, ICU, WARD."),
        (5, "manager", "Unknown manager 'nobody': no login has that username."),
        (6, "hired_on", "'15/01/2024' is not a date in the format YYYY-MM-DD (%Y-%m-%d)."),
        (7, "employee_number", "Employee number E1 appears again in this file (first on row 2)."),
        (8, "username", "Unknown login 'ghost': create the user first, or leave the cell blank."),
        (9, "username", "The login 'linked' already belongs to employee OTHER."),
        (10, "assigned_on", "The assignment cannot start before the hire date."),
        (11, "email", "Enter a valid email address."),
        (12, "employee_number", "Required, but blank."),
        (12, "first_name", "Required, but blank."),
    ]
    assert report.summary().endswith("Nothing was imported.")
    assert not Employee.objects.filter(employee_number__startswith="E").exists()
    assert recomputes == []


def test_a_transfer_needs_its_assignment_date(org, hr_admin, recomputes):
    factories.EmployeeFactory(employee_number="E1", role=org.nurse, department=org.ed, hired_on=D(2024, 1, 15))

    report = run([staff_row("E1", department="ICU")], hr_admin)

    assert messages(report) == [
        (2, "assigned_on", "The role or department changes: give the day the new assignment starts.")
    ]
    assert Employee.objects.get().department == org.ed


def test_a_missing_required_column_imports_nothing(org, hr_admin, recomputes):
    header = "employee_number,first_name,last_name,role,department"

    report = run([["E1", "Ana", "Silva", "rn", "ED"]], hr_admin, header=header)

    assert messages(report) == [(1, "hired_on", "Required column 'hired_on' is missing.")]
    assert not Employee.objects.exists()


def test_codes_match_case_insensitively_when_unambiguous(org, hr_admin, recomputes):
    report = run([staff_row("E1", role="RN", department="ed")], hr_admin)

    assert report.ok
    assert Employee.objects.get().department == org.ed


def test_imported_staff_get_logins_and_a_reimport_makes_no_duplicates(org, hr_admin, recomputes):
    rows = [staff_row("E1", "Ana", "Silva", email="ana@example.org"), staff_row("E2", "Ben", "Okafor", email="")]
    run(rows, hr_admin)
    users_after_first = set(get_user_model().objects.values_list("pk", "username", "email"))

    again = run(rows, hr_admin)
    changed = run([staff_row("E1", "Ana", "Silva", email="ana.silva@example.org"), rows[1]], hr_admin)

    ana, ben = Employee.objects.get(employee_number="E1"), Employee.objects.get(employee_number="E2")
    assert (again.unchanged, changed.changed) == (2, 1)
    assert ana.user.username == "E1" and ben.user is None  # no address, no login
    assert ana.user.email == "ana.silva@example.org"
    assert get_user_model().objects.count() == len(users_after_first)


def test_an_imported_past_termination_switches_the_login_off(org, hr_admin, recomputes):
    run([staff_row("E1", "Ana", "Silva", email="ana@example.org", hired="2024-01-15")], hr_admin)

    run(
        [staff_row("E1", "Ana", "Silva", email="ana@example.org", hired="2024-01-15", terminated="2025-12-31")],
        hr_admin,
    )

    assert Employee.objects.get(employee_number="E1").user.is_active is False
