"""HR's verification queue: verify or reject uploaded proof; the employee's status follows."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from apps.certifications.models import Credential
from apps.compliance.engine import Status
from apps.core import clock
from tests.web.conftest import PDF

pytestmark = pytest.mark.django_db


@pytest.fixture
def edgars_upload(hospital, django_capture_on_commit_callbacks):
    """Edgar (BLS expired) uploads a renewed card."""
    with django_capture_on_commit_callbacks(execute=True):
        credential = Credential.objects.create(
            employee=hospital.edgar,
            certification_type=hospital.bls,
            issued_on=clock.today() - datetime.timedelta(days=1),
            expires_on=clock.today() + datetime.timedelta(days=700),
            verification=Credential.Verification.PENDING,
        )
        credential.proof.save("renewed.pdf", ContentFile(PDF), save=True)
    return credential


@pytest.fixture
def as_hr(client, hospital):
    client.force_login(hospital.hr)
    return client


def edgars_stored_status(hospital) -> str:
    from apps.compliance.selectors import current_employee_statuses

    return current_employee_statuses().get(employee=hospital.edgar).status


def test_the_queue_shows_pending_proof_oldest_first(as_hr, edgars_upload):
    response = as_hr.get(reverse("web:verification_queue"))

    html = response.content.decode()
    assert list(response.context["page"]) == [edgars_upload]
    assert "BLS for Edgar Evans" in html
    assert reverse("credential_proof", args=[edgars_upload.pk]) in html


def test_verifying_makes_the_employee_compliant(as_hr, hospital, edgars_upload, django_capture_on_commit_callbacks):
    assert edgars_stored_status(hospital) == Status.PENDING_VERIFICATION

    with django_capture_on_commit_callbacks(execute=True):
        response = as_hr.post(reverse("web:verification_verify", args=[edgars_upload.pk]), follow=True)

    assert "Verified: BLS for Edgar Evans" in response.content.decode()
    edgars_upload.refresh_from_db()
    assert edgars_upload.verification == Credential.Verification.VERIFIED
    assert edgars_upload.verified_by == hospital.hr
    assert edgars_stored_status(hospital) == Status.COMPLIANT
    assert list(response.context["page"]) == []


def test_rejecting_needs_a_reason_the_employee_then_reads(
    as_hr, client, hospital, edgars_upload, django_capture_on_commit_callbacks
):
    refused = as_hr.post(reverse("web:verification_reject", args=[edgars_upload.pk]), {"reason": " "}, follow=True)
    assert "say why you reject" in refused.content.decode()
    edgars_upload.refresh_from_db()
    assert edgars_upload.verification == Credential.Verification.PENDING

    with django_capture_on_commit_callbacks(execute=True):
        as_hr.post(reverse("web:verification_reject", args=[edgars_upload.pk]), {"reason": "The photo is blurred"})

    edgars_upload.refresh_from_db()
    assert edgars_upload.verification == Credential.Verification.REJECTED
    assert edgars_stored_status(hospital) == Status.EXPIRED
    client.force_login(hospital.manager)
    page = client.get(reverse("web:employee_detail", args=[hospital.edgar.pk])).content.decode()
    assert "The photo is blurred" in page


def test_a_second_decision_on_the_same_proof_changes_nothing(as_hr, hospital, edgars_upload):
    as_hr.post(reverse("web:verification_verify", args=[edgars_upload.pk]))

    response = as_hr.post(
        reverse("web:verification_reject", args=[edgars_upload.pk]), {"reason": "too late"}, follow=True
    )

    assert "was already verified; nothing changed" in response.content.decode()
    edgars_upload.refresh_from_db()
    assert edgars_upload.verification == Credential.Verification.VERIFIED


def test_an_hr_admin_without_the_right_to_change_credentials_cannot_verify(client, hospital, edgars_upload):
    from django.contrib.auth.models import Permission

    from tests import factories

    auditor = factories.UserFactory(username="hana", is_staff=True)
    auditor.user_permissions.add(Permission.objects.get(codename="view_organisation"))
    client.force_login(auditor)

    assert client.get(reverse("web:dashboard")).status_code == 200
    assert client.get(reverse("web:verification_queue")).status_code == 404
    assert client.post(reverse("web:verification_verify", args=[edgars_upload.pk])).status_code == 404
    assert client.get(reverse("credential_proof", args=[edgars_upload.pk])).status_code == 404
