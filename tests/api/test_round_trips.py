"""What an integration does end to end: push a new hire, record a card, read the changed compliance."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.certifications.models import Credential
from apps.organisation.models import Employee

from .conftest import D

pytestmark = pytest.mark.django_db

V1 = "/api/v1"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def new_hire(**overrides):
    return {
        "employee_number": "N-1001",
        "first_name": "Nora",
        "last_name": "Nguyen",
        "email": "nora@example.org",
        "role": "rn",
        "department": "ED",
        "hired_on": "2026-03-02",
        "assigned_on": "2026-03-02",
        **overrides,
    }


def test_a_new_hire_then_her_cards_change_her_stored_compliance(
    api, scanned, hr_admin, django_capture_on_commit_callbacks
):
    api.force_login(hr_admin)

    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(f"{V1}/employees/", new_hire(), format="json")
    assert created.status_code == 201, created.json()
    nora = created.json()["id"]
    before = api.get(f"{V1}/employees/{nora}/compliance/").json()

    with django_capture_on_commit_callbacks(execute=True):
        for code in ("BLS", "ACLS"):
            card = {"employee": nora, "certification_type": code, "issued_on": "2026-03-05"}
            assert api.post(f"{V1}/credentials/", card, format="json").status_code == 201
    after = api.get(f"{V1}/employees/{nora}/compliance/").json()

    assert before["source"] == "stored"
    assert before["status"] == "not_yet_due"
    assert {r["status"] for r in before["requirements"]} == {"not_yet_due"}
    assert after["source"] == "stored"
    assert after["run"] == before["run"]
    assert after["status"] == "compliant"
    assert after["is_compliant"] is True
    assert after["next_expiry"] == "2028-03-31"  # end of the month, two years on
    assert sorted(r["certifications"] for r in after["requirements"]) == [["ACLS"], ["BLS", "CPR"]]
    listed = api.get(f"{V1}/compliance/employees/?department=ED&status=compliant").json()["results"]
    assert nora in [row["employee"]["id"] for row in listed]


def test_staff_upload_proof_as_multipart_and_hr_verifies_it(api, scanned, hr_admin, django_capture_on_commit_callbacks):
    alice = scanned.alice
    api.force_login(alice.user)
    upload = SimpleUploadedFile("acls.png", PNG, content_type="image/png")

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"{V1}/credentials/",
            {"employee": alice.pk, "certification_type": "ACLS", "issued_on": "2026-03-10", "proof": upload},
            format="multipart",
        )
    assert response.status_code == 201, response.json()
    card = response.json()
    assert card["verification"] == "pending"
    assert card["has_proof"] is True
    assert card["proof_url"].endswith(f"/proof/{card['id']}/")
    pending = api.get(f"{V1}/employees/{alice.pk}/compliance/").json()
    acls = next(r for r in pending["requirements"] if r["certifications"] == ["ACLS"])
    assert acls["status"] == "pending_verification"

    api.force_login(hr_admin)
    with django_capture_on_commit_callbacks(execute=True):
        verified = api.post(f"{V1}/credentials/{card['id']}/verify/")
    assert verified.json()["verification"] == "verified"
    assert verified.json()["verified_by"] == hr_admin.username
    assert api.get(f"{V1}/employees/{alice.pk}/compliance/").json()["status"] == "compliant"


def test_hr_rejects_proof_with_a_reason(api, scanned, hr_admin, django_capture_on_commit_callbacks):
    credential = scanned.alice.credentials.get()
    api.force_login(hr_admin)

    without = api.post(f"{V1}/credentials/{credential.pk}/reject/", {}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        rejected = api.post(f"{V1}/credentials/{credential.pk}/reject/", {"reason": "Blurred scan."}, format="json")

    assert without.status_code == 400
    assert without.json()["fields"] == {"reason": ["This field is required."]}
    assert rejected.json()["verification"] == "rejected"
    assert rejected.json()["rejection_reason"] == "Blurred scan."
    assert api.get(f"{V1}/employees/{scanned.alice.pk}/compliance/").json()["is_compliant"] is False


def test_as_of_answers_for_a_past_day_from_the_records(api, scanned, hr_admin):
    api.force_login(hr_admin)

    past = api.get(f"{V1}/employees/{scanned.alice.pk}/compliance/?as_of=2024-06-01").json()
    before_hire = api.get(f"{V1}/employees/{scanned.alice.pk}/compliance/?as_of=2019-06-01").json()

    # Hired 2020, BLS from 2025 only: in mid-2024 she held nothing.
    assert past["source"] == "computed"
    assert past["as_of"] == "2024-06-01"
    assert past["run"] is None
    assert past["status"] == "missing"
    assert before_hire["employed"] is False
    assert before_hire["status"] is None
    assert before_hire["requirements"] == []


def test_forecast_names_what_lapses_and_when(api, scanned, hr_admin):
    api.force_login(hr_admin)
    url = f"{V1}/employees/{scanned.bob.pk}/compliance/"

    soon = api.get(url, {"forecast": 30}).json()
    later = api.get(url, {"forecast": 365}).json()

    assert soon["forecast"]["lapses"] == []
    assert soon["forecast"]["until"] == "2026-04-15"
    [lapse] = later["forecast"]["lapses"]
    assert lapse["on"] == "2027-02-01"  # the day after the BLS card's expiry
    assert lapse["certifications"] == ["BLS", "CPR"]
    assert lapse["status"] == "expired"


def test_the_compliance_list_answers_who_is_not_current_on_any_day(api, scanned, hr_admin):
    api.force_login(hr_admin)

    today = api.get(f"{V1}/compliance/employees/", {"compliant": "false"}).json()
    in_2024 = api.get(f"{V1}/compliance/employees/", {"compliant": "false", "as_of": "2024-06-01"}).json()
    in_2025 = api.get(f"{V1}/compliance/employees/", {"compliant": "true", "as_of": "2025-06-01", "role": "rn"})

    # Alice (ED) lacks ACLS; Bob (ICU) needs only BLS, which he has since 2025.
    assert [row["employee"]["id"] for row in today["results"]] == [scanned.alice.pk]
    assert {row["employee"]["id"] for row in in_2024["results"]} == {scanned.alice.pk, scanned.bob.pk}
    assert in_2024["results"][0]["source"] == "computed"
    assert [row["employee"]["id"] for row in in_2025.json()["results"]] == [scanned.bob.pk]


def test_roll_ups_count_per_department_and_role(api, scanned, hr_admin):
    api.force_login(hr_admin)

    stored = api.get(f"{V1}/compliance/departments/").json()
    computed = api.get(f"{V1}/compliance/departments/", {"as_of": "2026-03-15", "forecast": 365}).json()
    as_of_today = api.get(f"{V1}/compliance/departments/", {"as_of": "2026-03-16", "forecast": 365}).json()
    roles = api.get(f"{V1}/compliance/roles/").json()

    by_code = {row["department"]["code"]: row for row in stored["results"]}
    assert stored["source"] == "stored"
    assert by_code["ED"]["total"] == 1
    assert by_code["ED"]["counts"]["missing"] == 1
    assert by_code["ED"]["rate"] == 0.0
    assert by_code["ICU"]["rate"] == 1.0
    assert by_code["ICU"]["lapsing"] is None
    computed_by_code = {row["department"]["code"]: row for row in computed["results"]}
    assert computed["source"] == "computed"
    assert {code: row["counts"] for code, row in computed_by_code.items()} == {
        code: row["counts"] for code, row in by_code.items()
    }
    assert computed_by_code["ICU"]["lapsing"] == 1
    # An explicit as_of today reads the current run, as the dashboard does (compliance.read.source_for).
    assert as_of_today["source"] == "stored"
    assert as_of_today["results"] == computed["results"]
    assert [(row["role"]["code"], row["total"], row["compliant"]) for row in roles["results"]] == [("rn", 2, 1)]


def test_findings_filter_by_status_department_certification_and_expiry(api, scanned, hr_admin):
    api.force_login(hr_admin)

    def ids(**params):
        return sorted(row["employee"]["id"] for row in api.get(f"{V1}/findings/", params).json()["results"])

    alice, bob = scanned.alice.pk, scanned.bob.pk
    assert ids() == sorted([alice, alice, bob])
    assert ids(status="missing") == [alice]
    assert ids(compliant="true") == sorted([alice, bob])
    assert ids(department="ICU") == [bob]
    assert ids(role="rn", certification="ACLS") == [alice]
    assert ids(expiring_within=365) == sorted([alice, bob])
    assert ids(expiring_within=30) == []
    finding = api.get(f"{V1}/findings/", {"status": "missing"}).json()["results"][0]
    assert finding["reason"].startswith("No ACLS on record")
    assert finding["employee"]["department"] == "ED"


def test_the_compliance_answer_before_any_scan_is_computed_live(api, world, hr_admin):
    api.force_login(hr_admin)

    answer = api.get(f"{V1}/employees/{world.bob.pk}/compliance/").json()
    listed = api.get(f"{V1}/compliance/employees/").json()

    assert answer["source"] == "computed"
    assert answer["status"] == "compliant"
    assert listed["count"] == 2


def test_deleting_a_credential_recomputes(api, scanned, hr_admin, django_capture_on_commit_callbacks):
    api.force_login(hr_admin)
    credential = scanned.bob.credentials.get()

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"{V1}/credentials/{credential.pk}/").status_code == 204

    assert not Credential.objects.filter(pk=credential.pk).exists()
    assert api.get(f"{V1}/employees/{scanned.bob.pk}/compliance/").json()["status"] == "missing"


def test_transfers_go_through_the_api_with_their_assignment_date(
    api, scanned, hr_admin, django_capture_on_commit_callbacks
):
    api.force_login(hr_admin)

    with django_capture_on_commit_callbacks(execute=True):
        moved = api.patch(
            f"{V1}/employees/{scanned.bob.pk}/", {"department": "ED", "assigned_on": "2026-03-09"}, format="json"
        )

    assert moved.status_code == 200
    assert Employee.objects.get(pk=scanned.bob.pk).department == scanned.ed
    answer = api.get(f"{V1}/employees/{scanned.bob.pk}/compliance/").json()
    acls = next(r for r in answer["requirements"] if r["certifications"] == ["ACLS"])
    assert acls["status"] == "not_yet_due"
    assert acls["due_on"] == str(D(2026, 4, 8))


def test_computed_compliance_pages_through_everyone(api, scanned, hr_admin):
    api.force_login(hr_admin)
    url = f"{V1}/compliance/employees/?as_of=2025-06-01&page_size=1"

    first, second = api.get(url).json(), api.get(f"{url}&page=2").json()

    assert first["count"] == second["count"] == 2
    assert [row["employee"]["id"] for row in first["results"] + second["results"]] == [
        scanned.alice.pk,
        scanned.bob.pk,
    ]
    assert api.get(f"{url}&page=3").status_code == 404
