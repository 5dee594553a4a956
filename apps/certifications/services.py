"""Writes to credentials. Every write validates with full_clean, records the acting user in the
history, and asks the compliance engine to recompute the people it touched once the transaction commits."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core import clock
from apps.organisation.models import Employee

from .models import CertificationType, Credential

Verification = Credential.Verification
DECISION_FIELDS = ["verification", "verified_by", "verified_at", "rejection_reason"]


def credential_create(
    *,
    employee: Employee,
    certification_type: CertificationType,
    issued_on: datetime.date,
    expires_on: datetime.date | None = None,
    issuer: str = "",
    card_number: str = "",
    proof=None,
    verification: str = Verification.PENDING,
    acting_user=None,
    notes: str = "",
) -> Credential:
    """Record a card. Without `expires_on`, full_clean proposes one from the certification's validity period."""
    if verification == Verification.REJECTED:
        raise ValidationError({"verification": "A new credential is pending or verified; reject it afterwards."})
    credential = Credential(
        employee=employee,
        certification_type=certification_type,
        issued_on=issued_on,
        expires_on=expires_on,
        issuer=issuer,
        card_number=card_number,
        proof=proof,
        verification=verification,
        notes=notes,
    )
    if verification == Verification.VERIFIED:
        credential.verified_by = acting_user
        credential.verified_at = clock.now()
    _record_history_as(credential, acting_user)
    credential.full_clean()
    credential.save()  # the compliance recompute is queued by apps/compliance/signals.py
    return credential


def credential_verify(*, credential: Credential, user) -> Credential:
    """Accept the proof. Verifying an already verified credential keeps the first verifier and time."""
    return _decide(credential=credential, user=user, outcome=Verification.VERIFIED, reason="")


def credential_reject(*, credential: Credential, user, reason: str) -> Credential:
    """Refuse the proof, saying why (the employee sees the reason). A rejected credential never counts."""
    if not reason or not reason.strip():
        raise ValidationError({"rejection_reason": "Give a reason when rejecting proof."})
    return _decide(credential=credential, user=user, outcome=Verification.REJECTED, reason=reason.strip())


def _decide(*, credential: Credential, user, outcome: str, reason: str) -> Credential:
    """Apply a verification decision to the state the deciding user saw.

    The row is locked, so two HR admins deciding at once are serialised: the first decision stands,
    a repeat of it changes nothing, and a contrary decision taken on a stale view is refused
    rather than silently overwriting the other admin's.
    """
    seen = credential.verification
    with transaction.atomic():
        locked = Credential.objects.select_for_update().get(pk=credential.pk)
        if locked.verification == outcome:
            return locked
        if locked.verification != seen:
            who = locked.verified_by or "another user"
            raise ValidationError(
                f"{locked} was just marked {locked.get_verification_display().lower()} by {who}; "
                "reload it and decide again.",
                code="stale",
            )
        locked.verification = outcome
        locked.verified_by = user
        locked.verified_at = clock.now()
        locked.rejection_reason = reason
        _record_history_as(locked, user)
        locked.full_clean()
        locked.save(update_fields=DECISION_FIELDS)
    return locked


def _record_history_as(credential: Credential, user) -> None:
    # Outside a request (imports, tasks, the shell) simple-history cannot see who acted; tell it.
    # Without a user, leave it unset so the request middleware's user still applies.
    if user is not None:
        credential._history_user = user  # type: ignore[attr-defined]  # simple-history's documented hook
