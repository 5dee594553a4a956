import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.certifications.models import Credential
from apps.certifications.services import credential_create, credential_reject, credential_verify
from apps.compliance import signals as compliance_signals
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date
NOON = datetime.datetime(2026, 1, 15, 12, 0, tzinfo=ZoneInfo("America/New_York"))
PENDING, VERIFIED, REJECTED = Credential.Verification


@pytest.fixture
def bls():
    return factories.CertificationTypeFactory(code="BLS", validity_months=24)


@pytest.fixture
def bob(db):
    """Another HR admin, deciding at the same time as hilda."""
    return factories.UserFactory(username="bob", is_staff=True, is_superuser=True)


@pytest.fixture
def recomputes(monkeypatch):
    queued = []
    monkeypatch.setattr(
        compliance_signals, "queue_recompute", lambda *, employee_ids: queued.append(list(employee_ids))
    )
    return queued


def test_it_creates_a_pending_credential_with_the_proposed_expiry(alice, bls, recomputes):
    credential = credential_create(employee=alice, certification_type=bls, issued_on=D(2025, 9, 5))

    credential.refresh_from_db()
    assert credential.expires_on == D(2027, 9, 30)
    assert credential.verification == PENDING
    assert credential.verified_by is None
    assert recomputes == [[alice.pk]]


def test_it_keeps_the_date_printed_on_the_card(alice, bls, recomputes):
    credential = credential_create(
        employee=alice, certification_type=bls, issued_on=D(2025, 9, 5), expires_on=D(2027, 8, 31)
    )

    assert Credential.objects.get(pk=credential.pk).expires_on == D(2027, 8, 31)


@time_machine.travel(NOON, tick=False)
def test_a_credential_entered_as_verified_records_who_and_when(alice, bls, hr_admin, recomputes):
    credential = credential_create(
        employee=alice, certification_type=bls, issued_on=D(2025, 9, 5), verification=VERIFIED, acting_user=hr_admin
    )

    credential.refresh_from_db()
    assert (credential.verification, credential.verified_by, credential.verified_at) == (VERIFIED, hr_admin, NOON)
    assert credential.history.get().history_user == hr_admin


def test_it_stores_the_proof_under_an_unguessable_name(alice, bls, recomputes):
    proof = SimpleUploadedFile("alice-bls-card.pdf", b"%PDF-1.4 card", content_type="application/pdf")

    credential = credential_create(employee=alice, certification_type=bls, issued_on=D(2025, 9, 5), proof=proof)

    stored = Credential.objects.get(pk=credential.pk).proof
    assert stored.name.startswith("proof/") and "alice" not in stored.name
    with stored.open("rb") as handle:
        assert handle.read() == b"%PDF-1.4 card"


def test_it_refuses_an_expiry_before_the_issue_date_and_saves_nothing(alice, bls, recomputes):
    with pytest.raises(ValidationError) as error:
        credential_create(employee=alice, certification_type=bls, issued_on=D(2025, 9, 5), expires_on=D(2025, 1, 1))

    assert error.value.message_dict["expires_on"] == ["The expiry date cannot be before the issue date."]
    assert not Credential.objects.exists()
    assert recomputes == []


def test_it_refuses_the_same_card_twice(alice, bls, recomputes):
    credential_create(employee=alice, certification_type=bls, issued_on=D(2025, 9, 5))

    with pytest.raises(ValidationError):
        credential_create(employee=alice, certification_type=bls, issued_on=D(2025, 9, 5))

    assert Credential.objects.count() == 1


def test_a_new_credential_cannot_start_rejected(alice, bls, recomputes):
    with pytest.raises(ValidationError):
        credential_create(employee=alice, certification_type=bls, issued_on=D(2025, 9, 5), verification=REJECTED)


@time_machine.travel(NOON, tick=False)
def test_verifying_records_who_and_when_in_the_row_and_the_history(hr_admin, recomputes):
    credential = factories.CredentialFactory(verification=PENDING)
    recomputes.clear()  # creating it queued one; count only what the decision queues

    credential_verify(credential=credential, user=hr_admin)

    credential.refresh_from_db()
    assert (credential.verification, credential.verified_by, credential.verified_at) == (VERIFIED, hr_admin, NOON)
    latest = credential.history.first()
    assert (latest.verification, latest.history_user, latest.history_type) == (VERIFIED, hr_admin, "~")
    assert recomputes == [[credential.employee_id]]


@time_machine.travel(NOON, tick=False)
def test_rejecting_records_who_when_and_why(hr_admin, recomputes):
    credential = factories.CredentialFactory(verification=PENDING)
    recomputes.clear()  # creating it queued one; count only what the decision queues

    credential_reject(credential=credential, user=hr_admin, reason="  The card photo is unreadable.  ")

    credential.refresh_from_db()
    assert credential.verification == REJECTED
    assert credential.rejection_reason == "The card photo is unreadable."
    assert (credential.verified_by, credential.verified_at) == (hr_admin, NOON)
    assert credential.history.first().history_user == hr_admin
    assert recomputes == [[credential.employee_id]]


@pytest.mark.parametrize("reason", ["", "   "])
def test_rejecting_needs_a_reason(hr_admin, reason, recomputes):
    credential = factories.CredentialFactory(verification=PENDING)
    recomputes.clear()  # creating it queued one; count only what the decision queues

    with pytest.raises(ValidationError) as error:
        credential_reject(credential=credential, user=hr_admin, reason=reason)

    assert error.value.message_dict["rejection_reason"] == ["Give a reason when rejecting proof."]
    credential.refresh_from_db()
    assert credential.verification == PENDING
    assert recomputes == []


def test_verifying_a_rejected_credential_clears_the_old_reason_but_history_keeps_it(hr_admin, bob, recomputes):
    credential = factories.CredentialFactory(verification=PENDING)
    recomputes.clear()  # creating it queued one; count only what the decision queues
    credential = credential_reject(credential=credential, user=hr_admin, reason="Wrong person's card")

    credential_verify(credential=credential, user=bob)

    credential.refresh_from_db()
    assert (credential.verification, credential.verified_by, credential.rejection_reason) == (VERIFIED, bob, "")
    assert [(h.verification, h.history_user, h.rejection_reason) for h in credential.history.all()[:2]] == [
        (VERIFIED, bob, ""),
        (REJECTED, hr_admin, "Wrong person's card"),
    ]


def test_verifying_twice_keeps_the_first_verifier(hr_admin, bob, recomputes):
    credential = factories.CredentialFactory(verification=PENDING)
    recomputes.clear()  # creating it queued one; count only what the decision queues
    with time_machine.travel(NOON, tick=False):
        credential_verify(credential=credential, user=hr_admin)

    with time_machine.travel(NOON + datetime.timedelta(minutes=5), tick=False):
        credential_verify(credential=credential, user=bob)

    credential.refresh_from_db()
    assert (credential.verified_by, credential.verified_at) == (hr_admin, NOON)
    assert credential.history.count() == 2  # created, verified once
    assert recomputes == [[credential.employee_id]]


def test_a_decision_taken_on_a_stale_view_does_not_overwrite_another_admins(hr_admin, bob, recomputes):
    credential = factories.CredentialFactory(verification=PENDING)
    recomputes.clear()  # creating it queued one; count only what the decision queues
    bobs_view = Credential.objects.get(pk=credential.pk)
    credential_verify(credential=credential, user=hr_admin)

    with pytest.raises(ValidationError) as error:
        credential_reject(credential=bobs_view, user=bob, reason="Expired card")

    assert error.value.code == "stale"
    assert "hilda" in error.value.message
    credential.refresh_from_db()
    assert (credential.verification, credential.verified_by, credential.rejection_reason) == (VERIFIED, hr_admin, "")
