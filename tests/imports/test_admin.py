import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from apps.certifications.models import Credential
from apps.compliance.services import scan_chunk, scan_chunks, scan_run, scan_start
from apps.imports.layouts import FINDING_COLUMNS
from apps.imports.models import ImportJob
from apps.organisation.models import Employee
from tests import factories
from tests.imports.conftest import CREDENTIAL_HEADER, STAFF_HEADER, credential_row, csv_rows, staff_row, xlsx_bytes

pytestmark = pytest.mark.django_db

D = datetime.date
CSV, XLSX = "0", "1"


def url(model, view):
    app = {"employee": "organisation", "credential": "certifications", "requirementstatus": "compliance"}[model]
    return reverse(f"admin:{app}_{model}_{view}")


def upload(client, model, data, name, *, fmt=CSV, encoding="utf-8", date_format="%Y-%m-%d"):
    return client.post(
        url(model, "import"),
        {
            "resource": "0",
            "import_file": SimpleUploadedFile(name, data),
            "format": fmt,
            "encoding": encoding,
            "date_format": date_format,
        },
    )


def confirm(client, model, preview):
    """Confirm, and let the background job run (in-process: tests run tasks eagerly once the request commits)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url(model, "process_import"), preview.context["confirm_form"].initial)


@pytest.fixture
def hr(client, hr_admin):
    client.force_login(hr_admin)
    return client


@pytest.fixture
def manager(org):
    """Manages the ED and may edit employees in the admin, but is not HR."""
    user = factories.UserFactory(username="morgan", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_employee", "add_employee", "change_employee", "add_credential"])
    )
    org.ed.managers.add(user)
    return user


def test_the_import_page_explains_the_columns(hr, org):
    page = hr.get(url("credential", "import")).content.decode()

    assert "<code>card_number</code>" in page and "identifies the card" in page
    assert "never erases anything" in page and "Windows-1252" in page and "MM/DD/YYYY" in page


def test_hr_previews_then_confirms_a_staff_import(hr, hr_admin, org, recomputes):
    data = csv_rows(STAFF_HEADER, [staff_row("E1"), staff_row("E2", "Ben", role="paramedic")]).encode()

    preview = upload(hr, "employee", data, "staff.csv")

    assert preview.status_code == 200
    assert "confirm_form" in preview.context
    page = preview.content.decode()
    assert "<strong>2</strong> new" in page and "E2" in page
    assert not Employee.objects.exists()

    response = confirm(hr, "employee", preview)

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "admin:imports_importjob_change", args=[job.pk]
    )
    assert Employee.objects.count() == 2
    assert {h.history_user for h in Employee.history.all()} == {hr_admin}
    followed = hr.get(response["Location"])
    assert "2 row(s): 2 new, 0 changed, 0 unchanged, 0 error(s). Imported" in followed.content.decode()
    assert len(recomputes) == 1


def test_the_preview_names_wrong_rows_and_offers_no_confirmation(hr, org, recomputes):
    data = csv_rows(STAFF_HEADER, [staff_row("E1"), staff_row("E2", department="MARS")]).encode()

    preview = upload(hr, "employee", data, "staff.csv")

    page = preview.content.decode()
    assert "confirm_form" not in preview.context
    assert "Nothing will be imported: 1 problem" in page
    assert "Unknown department &#x27;MARS&#x27;" in page and "<td>3 </td>" in page
    assert not Employee.objects.exists()


def test_the_preview_shows_what_a_change_replaces(hr, org, recomputes):
    factories.EmployeeFactory(
        employee_number="E1",
        first_name="Ana",
        last_name="Silva",
        role=org.nurse,
        department=org.ed,
        hired_on=D(2024, 1, 15),
    )

    preview = upload(hr, "employee", csv_rows(STAFF_HEADER, [staff_row("E1", last="Costa")]).encode(), "staff.csv")

    assert "<del>Silva</del> &rarr; <ins>Costa</ins>" in preview.content.decode()


def test_encoding_and_date_format_carry_through_to_the_confirmation(hr, org, recomputes):
    data = csv_rows(STAFF_HEADER, [staff_row("E1", "Zoë", hired="01/15/2024")]).encode("latin-1")

    preview = upload(hr, "employee", data, "staff.csv", encoding="latin-1", date_format="%m/%d/%Y")
    confirm(hr, "employee", preview)

    employee = Employee.objects.get()
    assert (employee.first_name, employee.hired_on) == ("Zoë", D(2024, 1, 15))


def test_hr_imports_credentials_from_xlsx(hr, hr_admin, org, recomputes):
    factories.EmployeeFactory(employee_number="E1", role=org.nurse, department=org.ed)
    data = xlsx_bytes(CREDENTIAL_HEADER, [credential_row("E1", "BLS", D(2025, 9, 5))])

    confirm(hr, "credential", upload(hr, "credential", data, "cards.xlsx", fmt=XLSX))

    credential = Credential.objects.get()
    assert (credential.verified_by, credential.expires_on) == (hr_admin, D(2027, 9, 30))


def test_a_confirmation_that_no_longer_validates_imports_nothing(hr, org, recomputes):
    factories.EmployeeFactory(employee_number="E1", role=org.nurse, department=org.ed)
    preview = upload(hr, "credential", csv_rows(CREDENTIAL_HEADER, [credential_row("E1")]).encode(), "cards.csv")
    Employee.objects.all().delete()

    response = confirm(hr, "credential", preview)

    assert response.status_code == 302
    page = hr.get(response["Location"]).content.decode()
    assert "No employee has the number &#x27;E1&#x27;" in page and "Nothing was imported." in page
    assert not Credential.objects.exists()
    assert ImportJob.objects.get().status == ImportJob.Status.REFUSED


@pytest.mark.parametrize("model", ["employee", "credential"])
def test_a_manager_may_not_import_or_export(client, manager, model):
    client.force_login(manager)

    assert client.get(url(model, "import")).status_code == 403
    assert client.post(url(model, "process_import"), {}).status_code == 403
    assert client.get(url(model, "export")).status_code == 403


def test_the_changelist_offers_import_and_export_to_hr_only(client, hr, manager):
    assert 'class="import_link"' in hr.get(url("employee", "changelist")).content.decode()
    client.force_login(manager)
    page = client.get(url("employee", "changelist")).content.decode()
    assert 'class="import_link"' not in page and 'class="export_link"' not in page


def test_hr_needs_add_and_change_rights_to_import(client, org):
    clerk = factories.UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_organisation", "view_employee"]))
    client.force_login(clerk)
    assert client.get(url("employee", "import")).status_code == 403
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["add_employee", "change_employee"]))
    assert client.get(url("employee", "import")).status_code == 200


@pytest.mark.parametrize("view", ["import", "export"])
def test_staff_and_anonymous_users_are_sent_to_log_in(client, alice, view):
    login = reverse("admin:login")
    assert client.get(url("employee", view))["Location"].startswith(login)
    client.force_login(alice.user)
    assert client.get(url("employee", view))["Location"].startswith(login)


def test_hr_exports_the_filtered_staff_in_the_import_layout(hr, org):
    factories.EmployeeFactory(employee_number="E1", role=org.nurse, department=org.ed)
    factories.EmployeeFactory(employee_number="E2", role=org.nurse, department=org.icu)
    export_url = url("employee", "export") + f"?department__id__exact={org.icu.pk}"

    response = hr.post(export_url, {"format": CSV, "resource": "0"})

    assert response.status_code == 200 and response["Content-Type"] == "text/csv" and response.streaming
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == STAFF_HEADER and [line.split(",")[0] for line in lines[1:]] == ["E2"]


def test_hr_exports_credentials_as_xlsx(hr, org):
    factories.CredentialFactory(
        employee=factories.EmployeeFactory(employee_number="E1", role=org.nurse, department=org.ed),
        certification_type=org.bls,
        notes="=1+1",
    )

    response = hr.post(url("credential", "export"), {"format": XLSX, "resource": "0"})

    from openpyxl import load_workbook

    assert response.streaming
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True))
    assert rows[0] == tuple(CREDENTIAL_HEADER.split(","))
    assert rows[1][:3] == ("E1", "BLS", datetime.datetime(2025, 9, 5)) and rows[1][-1] == "'=1+1"


@pytest.fixture
def findings(org):
    factories.RequirementFactory(role=org.paramedic, any_of=[org.bls, org.acls])
    # A ward nurse: BLS is all the hospital asks of her.
    ana = factories.EmployeeFactory(employee_number="E1", role=org.nurse, department=org.ward, last_name="Adams")
    factories.CredentialFactory(employee=ana, certification_type=org.bls, expires_on=D(2027, 9, 30))
    factories.EmployeeFactory(employee_number="E2", role=org.paramedic, department=org.icu, last_name="Brown")
    return scan_run()


def test_hr_exports_the_current_findings_as_filtered(hr, findings):
    response = hr.post(url("requirementstatus", "export") + "?status__exact=missing", {"format": CSV, "resource": "0"})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == list(FINDING_COLUMNS)
    assert rows[1:] == [
        [
            "2026-03-10",
            "E2",
            "Brown",
            rows[1][3],
            "ICU",
            "paramedic",
            "Paramedic, any department",
            "ACLS or BLS",
            "yes",
            "Missing (overdue)",
            "No ACLS or BLS on record; it was due by 2020-02-05.",
            "",
            "",
            "",
            "2020-02-05",
            "2020-02-06",
        ]
    ]

    # A scan under way has written part of its next generation: the export stays with the current one.
    running = scan_start()
    for first_id, last_id in scan_chunks(run=running):
        scan_chunk(run_id=running.id, first_id=first_id, last_id=last_id)
    everything = hr.post(url("requirementstatus", "export"), {"format": CSV, "resource": "0"})
    rows = list(csv.reader(io.StringIO(b"".join(everything.streaming_content).decode("utf-8-sig"))))
    assert sorted(row[1] for row in rows[1:]) == ["E1", "E2"]


def test_a_manager_may_not_export_findings(client, manager, findings):
    manager.user_permissions.add(Permission.objects.get(codename="view_requirementstatus"))
    client.force_login(manager)

    assert client.get(url("requirementstatus", "changelist")).status_code == 200
    assert client.post(url("requirementstatus", "export"), {"format": CSV, "resource": "0"}).status_code == 403


def stored_uploads() -> list:
    from apps.imports.uploads import job_folder, upload_folder

    return sorted(path for folder in (upload_folder(), job_folder()) if folder.is_dir() for path in folder.iterdir())


def test_a_confirmed_import_leaves_no_stored_upload(hr, org, recomputes):
    before = stored_uploads()
    preview = upload(hr, "employee", csv_rows(STAFF_HEADER, [staff_row("E1")]).encode(), "staff.csv")
    assert len(stored_uploads()) == len(before) + 1  # kept for the confirmation, in the private folder

    confirm(hr, "employee", preview)

    assert stored_uploads() == before


@pytest.mark.parametrize(
    ("data", "name", "fmt"),
    [
        (csv_rows(STAFF_HEADER, [staff_row("E1", role="surgeon")]).encode(), "staff.csv", CSV),
        (b"PK\x03\x04 not really a workbook", "staff.xlsx", XLSX),
    ],
)
def test_a_preview_that_cannot_be_confirmed_leaves_no_stored_upload(hr, org, recomputes, data, name, fmt):
    before = stored_uploads()

    response = upload(hr, "employee", data, name, fmt=fmt)

    assert response.status_code == 200
    assert "confirm_form" not in response.context
    assert stored_uploads() == before


def test_the_sweep_removes_only_previews_nobody_confirmed_for_a_day(hr, org, recomputes):
    import os
    import time

    from apps.imports.uploads import uploads_sweep

    upload(hr, "employee", csv_rows(STAFF_HEADER, [staff_row("E1")]).encode(), "staff.csv")
    upload(hr, "employee", csv_rows(STAFF_HEADER, [staff_row("E2")]).encode(), "staff.csv")
    abandoned, recent = stored_uploads()[-2:]
    two_days_ago = time.time() - 2 * 86400
    os.utime(abandoned, (two_days_ago, two_days_ago))

    assert uploads_sweep() >= 1
    assert not abandoned.exists() and recent.exists()


def test_a_confirmation_cannot_read_outside_the_upload_folder(hr, org, recomputes):
    preview = upload(hr, "employee", csv_rows(STAFF_HEADER, [staff_row("E1")]).encode(), "staff.csv")
    forged = {**preview.context["confirm_form"].initial, "import_file_name": "../../../../etc/hostname"}

    response = hr.post(url("employee", "process_import"), forged)

    assert response.status_code == 302
    assert response["Location"] == url("employee", "import")
    assert not Employee.objects.exists()
