"""Bad input answers 400 with one error body and messages per field; conflicts answer 409; never a 500."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.certifications import validators
from apps.certifications.models import Credential
from tests import factories

pytestmark = pytest.mark.django_db

V1 = "/api/v1"
PDF = b"%PDF-1.7\n" + b"0" * 64


@pytest.fixture
def hr_api(api, world, hr_admin):
    api.force_login(hr_admin)
    return api


def card(world, **overrides):
    return {"employee": world.bob.pk, "certification_type": "ACLS", "issued_on": "2026-03-01", **overrides}


def fields_of(response, status=400):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"status", "code", "detail", "fields"}
    assert body["status"] == status
    return body["fields"]


def test_an_unknown_certification_code(hr_api, world):
    response = hr_api.post(f"{V1}/credentials/", card(world, certification_type="XYZ"), format="json")

    assert fields_of(response) == {"certification_type": ["No certification type with code XYZ."]}
    assert response.json()["code"] == "invalid"


def test_an_expiry_before_the_issue(hr_api, world):
    response = hr_api.post(f"{V1}/credentials/", card(world, expires_on="2026-02-01"), format="json")

    assert fields_of(response) == {"expires_on": ["The expiry date cannot be before the issue date."]}


def test_the_same_card_twice_is_a_400_not_a_500(hr_api, world):
    bls = {"certification_type": "BLS", "issued_on": "2025-01-10"}  # bob holds this card already

    response = hr_api.post(f"{V1}/credentials/", card(world, **bls), format="json")

    assert fields_of(response) == {
        "non_field_errors": ["This person already has this certification issued on that day."]
    }


def test_an_unknown_department_and_role(hr_api, world):
    employee = {
        "employee_number": "X1",
        "first_name": "X",
        "last_name": "Y",
        "role": "astronaut",
        "department": "MOON",
        "hired_on": "2026-01-05",
        "assigned_on": "2026-01-05",
    }

    response = hr_api.post(f"{V1}/employees/", employee, format="json")

    assert fields_of(response) == {
        "role": ["No role with code astronaut."],
        "department": ["No department with code MOON."],
    }


def test_model_constraints_come_back_per_field(hr_api, world):
    duplicate = hr_api.patch(
        f"{V1}/employees/{world.bob.pk}/", {"employee_number": world.alice.employee_number}, format="json"
    )
    before_hire = hr_api.patch(f"{V1}/employees/{world.bob.pk}/", {"assigned_on": "2019-01-01"}, format="json")
    login_taken = hr_api.patch(f"{V1}/employees/{world.bob.pk}/", {"user": "alice"}, format="json")
    no_validity = hr_api.post(
        f"{V1}/certification-types/", {"code": "PALS", "name": "PALS", "level": "specialty"}, format="json"
    )

    assert list(fields_of(duplicate)) == ["employee_number"]
    assert fields_of(before_hire) == {"assigned_on": ["The assignment cannot start before the hire date."]}
    assert list(fields_of(login_taken)) == ["user"]
    assert fields_of(no_validity) == {"validity_months": ["A certification that expires needs a validity period."]}


def test_nested_lists_name_the_item(hr_api, world):
    response = hr_api.post(f"{V1}/requirements/", {"role": "rn", "any_of": ["BLS", "NOPE"]}, format="json")

    assert fields_of(response) == {"any_of": ["No certification type with code NOPE."]}


def test_proof_is_judged_by_its_content(hr_api, world):
    disguised = SimpleUploadedFile(
        "card.pdf", b"<html><script>alert(1)</script></html>", content_type="application/pdf"
    )

    response = hr_api.post(f"{V1}/credentials/", card(world, proof=disguised), format="multipart")

    assert fields_of(response) == {
        "proof": ["Upload the card as a PDF, JPEG, PNG file; this file is not one, whatever its name says."]
    }


def test_proof_over_the_size_limit(hr_api, world, monkeypatch):
    monkeypatch.setattr(validators, "PROOF_MAX_BYTES", 32)
    big = SimpleUploadedFile("card.pdf", PDF, content_type="application/pdf")

    response = hr_api.post(f"{V1}/credentials/", card(world, proof=big), format="multipart")

    [message] = fields_of(response)["proof"]
    assert message.startswith("The file is 73\xa0bytes; proof may be at most 32\xa0bytes")


def test_a_valid_pdf_proof_is_stored(hr_api, world):
    proof = SimpleUploadedFile("whatever.bin", PDF, content_type="application/octet-stream")

    response = hr_api.post(f"{V1}/credentials/", card(world, proof=proof), format="multipart")

    assert response.status_code == 201
    assert world.bob.credentials.get(certification_type__code="ACLS").proof.read() == PDF


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("as_of=2026-13-01", "as_of"),
        ("as_of=yesterday", "as_of"),
        ("forecast=0", "forecast"),
        ("forecast=many", "forecast"),
    ],
)
def test_bad_compliance_parameters(hr_api, world, query, field):
    response = hr_api.get(f"{V1}/employees/{world.bob.pk}/compliance/?{query}")

    assert list(fields_of(response)) == [field]


def test_bad_filters(hr_api, world):
    assert list(fields_of(hr_api.get(f"{V1}/findings/?status=fine"))) == ["status"]
    assert list(fields_of(hr_api.get(f"{V1}/findings/?department=MOON"))) == ["department"]
    assert list(fields_of(hr_api.get(f"{V1}/compliance/employees/?as_of=2025-01-01&role=pilot"))) == ["role"]
    assert list(fields_of(hr_api.get(f"{V1}/compliance/employees/?forecast=30"))) == ["forecast"]


def test_deleting_what_is_still_in_use_is_a_409(hr_api, world):
    response = hr_api.delete(f"{V1}/departments/{world.ed.pk}/")

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert "employees" in response.json()["detail"]


def test_a_stale_verification_decision_is_a_409(hr_api, world, hr_admin, monkeypatch):
    from apps.certifications import services

    credential = factories.CredentialFactory(employee=world.bob, verification="pending")
    seen = services.Credential.objects.get(pk=credential.pk)
    services.credential_reject(credential=credential, user=hr_admin, reason="Blurred")
    # The API reloads the row before deciding; make it see the state from before the other decision.
    monkeypatch.setattr("apps.api.views.CredentialViewSet.get_object", lambda self: seen)

    response = hr_api.post(f"{V1}/credentials/{credential.pk}/verify/")

    assert response.status_code == 409
    assert response.json()["code"] == "stale"


def test_a_page_past_the_end_is_a_404_in_the_same_shape(hr_api, world):
    response = hr_api.get(f"{V1}/employees/?page=9")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v1/employees/not-a-number/", "/api/v1/roles/1.5/"])
def test_unknown_paths_answer_in_the_same_shape(hr_api, path):
    response = hr_api.delete(path)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_method_no_endpoint_has_is_a_405_in_the_same_shape(hr_api, world):
    response = hr_api.generic("TRACE", f"{V1}/roles/")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_a_nul_character_is_a_400_not_a_server_error(hr_api, world):
    # PostgreSQL refuses NUL even in a comparison; the fuzz run found this on a code lookup.
    response = hr_api.post(f"{V1}/credentials/", card(world, certification_type="AC\x00LS"), format="json")
    assert list(fields_of(response)) == ["certification_type"]
    response = hr_api.post(f"{V1}/prerequisites/", {"certification_type": "\x00", "any_of": ["BLS"]}, format="json")
    assert list(fields_of(response)) == ["certification_type"]
    assert fields_of(hr_api.get(f"{V1}/findings/?department=E%00D")) != {}
    assert hr_api.get(f"{V1}/employees/?employee_number=E%00").status_code in (200, 400)


@pytest.mark.parametrize("name", ["card.html", "card.svg", "card"])
def test_proof_is_stored_under_the_extension_its_content_earned(hr_api, world, name):
    polyglot = SimpleUploadedFile(name, PDF + b"<html><script>alert(1)</script></html>", content_type="text/html")

    response = hr_api.post(f"{V1}/credentials/", card(world, proof=polyglot), format="multipart")

    assert response.status_code == 201, response.content
    stored = Credential.objects.get(pk=response.json()["id"]).proof.name
    assert stored.startswith("proof/") and stored.endswith(".pdf")
