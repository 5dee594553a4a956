import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.shortcuts import resolve_url
from django.urls import reverse

from apps.certifications.models import Credential
from tests import factories

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% alice's BLS card\n"


def with_proof(credential: Credential, content: bytes, name="card.pdf") -> Credential:
    credential.proof.save(name, ContentFile(content), save=True)
    return credential


@pytest.fixture
def alices_card(alice):
    return with_proof(factories.CredentialFactory(employee=alice), PDF)


def proof_url(credential):
    return reverse("credential_proof", args=[credential.pk])


def read(response) -> bytes:
    return b"".join(response.streaming_content)


def test_it_serves_the_proof_to_hr(client, hr_admin, alices_card):
    client.force_login(hr_admin)

    response = client.get(proof_url(alices_card))

    assert response.status_code == 200
    assert read(response) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_serves_the_proof_to_its_owner(client, alice, alices_card):
    client.force_login(alice.user)

    response = client.get(proof_url(alices_card))

    assert response.status_code == 200
    assert read(response) == PDF


def test_it_serves_the_proof_to_staff_who_may_change_credentials(client, alices_card):
    clerk = factories.UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="change_credential"))
    client.force_login(clerk)

    assert client.get(proof_url(alices_card)).status_code == 200


def test_it_checks_that_charlie_has_no_access(client, charlie, alices_card):
    client.force_login(charlie)

    assert client.get(proof_url(alices_card)).status_code == 404


def test_it_hides_the_proof_from_another_employee(client, alices_card):
    bob = factories.EmployeeFactory(user=factories.UserFactory(username="bob"))
    client.force_login(bob.user)

    assert client.get(proof_url(alices_card)).status_code == 404


def test_it_hides_the_proof_from_staff_who_may_only_view_credentials(client, alices_card):
    auditor = factories.UserFactory(username="auditor", is_staff=True)
    auditor.user_permissions.add(Permission.objects.get(codename="view_credential"))
    client.force_login(auditor)

    assert client.get(proof_url(alices_card)).status_code == 404


def test_it_sends_anonymous_visitors_to_log_in(client, alices_card):
    response = client.get(proof_url(alices_card))

    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))


def test_it_sends_anything_but_a_pdf_or_picture_as_an_opaque_download(client, hr_admin, alice):
    disguised = with_proof(factories.CredentialFactory(employee=alice), b"<script>alert(1)</script>", "card.pdf")
    client.force_login(hr_admin)

    response = client.get(proof_url(disguised))

    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert ".bin" in response["Content-Disposition"]


def test_it_names_the_download_after_the_card_not_the_upload(client, hr_admin, alice):
    jpeg = with_proof(factories.CredentialFactory(employee=alice), b"\xff\xd8\xff\xe0" + b"\x00" * 300, "IMG_1.JPG")
    client.force_login(hr_admin)

    response = client.get(proof_url(jpeg))

    assert response["Content-Type"] == "image/jpeg"
    code, number = jpeg.certification_type.code, alice.employee_number
    assert response["Content-Disposition"] == f'inline; filename="{code}-{number}-{jpeg.issued_on}.jpg"'


def test_it_answers_404_when_there_is_no_proof(client, hr_admin, alice):
    client.force_login(hr_admin)

    assert client.get(proof_url(factories.CredentialFactory(employee=alice))).status_code == 404
    assert client.get(reverse("credential_proof", args=[999999])).status_code == 404


def test_it_answers_404_when_the_file_is_gone_from_storage(client, hr_admin, alices_card):
    alices_card.proof.storage.delete(alices_card.proof.name)
    client.force_login(hr_admin)

    assert client.get(proof_url(alices_card)).status_code == 404


def test_it_only_answers_reads(client, hr_admin, alices_card):
    client.force_login(hr_admin)

    assert client.post(proof_url(alices_card)).status_code == 405
