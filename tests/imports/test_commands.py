import datetime
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command

from apps.certifications.models import Credential
from apps.organisation.models import Employee
from tests import factories
from tests.imports.conftest import CREDENTIAL_HEADER, STAFF_HEADER, credential_row, csv_rows, staff_row

pytestmark = pytest.mark.django_db

D = datetime.date


def command(name, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def failing(name, *args):
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(name, *args, stdout=io.StringIO(), stderr=err)
    return str(raised.value), err.getvalue()


@pytest.fixture
def staff_csv(tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text(csv_rows(STAFF_HEADER, [staff_row("E1"), staff_row("E2", "Ben", role="paramedic")]))
    return path


def test_import_staff_imports_and_summarises(org, hr_admin, staff_csv, recomputes):
    out, err = command("import_staff", str(staff_csv), "--user", "hilda")

    assert "staff.csv: 2 row(s): 2 new, 0 changed, 0 unchanged, 0 error(s). Imported" in out
    assert err == ""
    assert Employee.objects.get(employee_number="E1").history.get().history_user == hr_admin


def test_a_dry_run_needs_no_user_and_writes_nothing(org, staff_csv, recomputes):
    out, _ = command("import_staff", str(staff_csv), "--dry-run")

    assert "2 new" in out and "Dry run: nothing was written." in out
    assert not Employee.objects.exists()


def test_errors_are_listed_and_the_exit_status_is_non_zero(org, hr_admin, tmp_path, recomputes):
    path = tmp_path / "staff.csv"
    path.write_text(csv_rows(STAFF_HEADER, [staff_row("E1"), staff_row("E2", department="MARS"), staff_row("E1")]))

    message, err = failing("import_staff", str(path), "--user", "hilda")

    assert message.endswith("3 row(s): 1 new, 0 changed, 0 unchanged, 2 error(s). Nothing was imported.")
    assert err.splitlines() == [
        "Row 3, column department: Unknown department 'MARS'; the codes are: ED, ICU, WARD.",
        "Row 4, column employee_number: Employee number E1 appears again in this file (first on row 2).",
    ]
    assert not Employee.objects.exists()


def test_a_real_import_says_who_imports_and_only_hr_may(org, staff_csv, recomputes):
    assert failing("import_staff", str(staff_csv))[0] == "Say who imports with --user USERNAME: the history records it."
    assert failing("import_staff", str(staff_csv), "--user", "nobody")[0] == "No active user 'nobody'."
    manager = factories.UserFactory(username="morgan", is_staff=True)
    manager.user_permissions.add(*Permission.objects.filter(codename__in=["add_employee", "change_employee"]))
    assert failing("import_staff", str(staff_csv), "--user", "morgan")[0].startswith("morgan may not import employees")
    manager.user_permissions.add(Permission.objects.get(codename="view_organisation"))
    out, _ = command("import_staff", str(staff_csv), "--user", "morgan")
    assert "Imported" in out


def test_import_credentials_with_a_date_format_and_latin1(org, hr_admin, tmp_path, recomputes):
    factories.EmployeeFactory(employee_number="E1", role=org.nurse, department=org.ed)
    path = tmp_path / "cards.csv"
    path.write_bytes(
        csv_rows(CREDENTIAL_HEADER, [credential_row("E1", "BLS", "09/05/2025", issuer="Croix-Rouge française")]).encode(
            "latin-1"
        )
    )

    out, _ = command(
        "import_credentials", str(path), "--user", "hilda", "--encoding", "latin-1", "--date-format", "%m/%d/%Y"
    )

    assert "1 new" in out
    credential = Credential.objects.get()
    assert (credential.issued_on, credential.issuer, credential.verified_by) == (
        D(2025, 9, 5),
        "Croix-Rouge française",
        hr_admin,
    )


def test_bad_options_and_files_are_refused(org, hr_admin, staff_csv, tmp_path):
    assert "not a usable date format" in failing("import_staff", str(staff_csv), "--date-format", "DD/MM/YYYY")[0]
    assert failing("import_staff", str(tmp_path / "missing.csv"), "--dry-run")[0].startswith("No such file")
    assert "only .csv and .xlsx" in failing("import_staff", str(tmp_path / "staff.txt"), "--dry-run")[0]


@pytest.mark.slow  # a large file
def test_large_files_show_progress_for_both_passes_on_stderr(org, hr_admin, tmp_path, recomputes, capsys):
    path = tmp_path / "staff.csv"
    path.write_text(csv_rows(STAFF_HEADER, [staff_row(f"E{i}") for i in range(2500)]))

    command("import_staff", str(path), "--user", "hilda")

    err = capsys.readouterr().err
    assert "checking: 100%" in err and "importing: 100%" in err and "2500/2500" in err


def test_export_commands_write_files_that_import_back_unchanged(org, hr_admin, tmp_path, recomputes):
    employee = factories.EmployeeFactory(employee_number="E1", role=org.nurse, department=org.ed)
    factories.CredentialFactory(employee=employee, certification_type=org.bls)

    for what, kind in (("staff", "xlsx"), ("credentials", "csv")):
        path = tmp_path / f"{what}.{kind}"
        out, _ = command(f"export_{what}", str(path))
        assert out.strip() == f"Wrote 1 {'employees' if what == 'staff' else what} to {path}."
        assert "unchanged" in command(f"import_{what}", str(path), "--user", "hilda")[0]
    assert not list(tmp_path.glob("*.part"))


def test_an_export_that_cannot_be_encoded_leaves_no_file(org, tmp_path):
    factories.EmployeeFactory(employee_number="E1", first_name="Nguyễn", role=org.nurse, department=org.ed)
    path = tmp_path / "staff.csv"

    message, _ = failing("export_staff", str(path), "--encoding", "latin-1")

    assert "latin-1 cannot store" in message
    assert list(tmp_path.iterdir()) == []


def test_an_import_marked_backfill_plans_its_people_as_a_backfill_once_committed(
    org, hr_admin, tmp_path, recomputes, monkeypatch, django_capture_on_commit_callbacks
):
    planned = []
    monkeypatch.setattr(
        "apps.notifications.tasks.plan_backfill.apply_async",
        lambda args, **options: planned.append(sorted(args[0])),
    )
    path = tmp_path / "staff.csv"
    path.write_text(csv_rows(STAFF_HEADER, [staff_row("E1"), staff_row("E2", "Ben")]))

    with django_capture_on_commit_callbacks(execute=True):
        command("import_staff", str(path), "--user", "hilda", "--backfill")
    with django_capture_on_commit_callbacks(execute=True):
        command("import_staff", str(path), "--user", "hilda")  # unchanged rows, and not a backfill

    assert planned == [sorted(Employee.objects.values_list("id", flat=True))]
