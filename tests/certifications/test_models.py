import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.certifications.models import CertificationType, Credential
from apps.organisation.models import Department, Employee, Role
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date


def unsaved_credential(**fields) -> Credential:
    fields.setdefault("employee", factories.EmployeeFactory())
    fields.setdefault("certification_type", factories.CertificationTypeFactory(code="BLS", validity_months=24))
    fields.setdefault("issued_on", D(2025, 9, 5))
    return Credential(**fields)


def test_it_rejects_an_expiry_before_the_issue_date_in_validation():
    credential = unsaved_credential(issued_on=D(2025, 9, 5), expires_on=D(2025, 9, 4))

    with pytest.raises(ValidationError) as error:
        credential.full_clean()

    assert error.value.message_dict["expires_on"] == ["The expiry date cannot be before the issue date."]


def test_the_database_rejects_an_expiry_before_the_issue_date():
    credential = unsaved_credential(issued_on=D(2025, 9, 5), expires_on=D(2025, 9, 4))

    with pytest.raises(IntegrityError), transaction.atomic():
        credential.save()


def test_it_accepts_a_card_that_expires_on_its_issue_day():
    credential = unsaved_credential(issued_on=D(2025, 9, 5), expires_on=D(2025, 9, 5))

    credential.full_clean()
    credential.save()

    assert Credential.objects.get().expires_on == D(2025, 9, 5)


def test_it_proposes_the_end_of_the_month_n_months_after_issue():
    credential = unsaved_credential(issued_on=D(2025, 9, 5))

    credential.full_clean()

    assert credential.expires_on == D(2027, 9, 30)


def test_it_proposes_the_end_of_february_for_a_leap_day_card():
    credential = unsaved_credential(issued_on=D(2024, 2, 29))

    credential.full_clean()

    assert credential.expires_on == D(2026, 2, 28)


def test_it_proposes_the_same_day_when_the_type_does_not_expire_at_month_end():
    atls = factories.CertificationTypeFactory(code="ATLS", validity_months=48, expires_at_month_end=False)
    credential = unsaved_credential(certification_type=atls, issued_on=D(2025, 9, 5))

    credential.full_clean()

    assert credential.expires_on == D(2029, 9, 5)


def test_the_date_printed_on_the_card_wins_over_the_proposal():
    credential = unsaved_credential(issued_on=D(2025, 9, 5), expires_on=D(2027, 8, 31))

    credential.full_clean()

    assert credential.expires_on == D(2027, 8, 31)


def test_a_non_expiring_type_keeps_no_expiry():
    lifetime = factories.CertificationTypeFactory(code="LIFE", expires=False, validity_months=None)
    credential = unsaved_credential(certification_type=lifetime)

    credential.full_clean()
    credential.save()

    assert Credential.objects.get().expires_on is None


def test_it_rejects_a_second_card_of_the_same_type_issued_the_same_day():
    first = factories.CredentialFactory(issued_on=D(2025, 9, 5))
    duplicate = unsaved_credential(
        employee=first.employee, certification_type=first.certification_type, issued_on=D(2025, 9, 5)
    )

    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()

    assert "This person already has this certification issued on that day." in error.value.messages
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_a_bundled_course_gives_two_types_on_the_same_day():
    bls = factories.CredentialFactory(issued_on=D(2025, 9, 5))
    acls = unsaved_credential(
        employee=bls.employee,
        certification_type=factories.CertificationTypeFactory(code="ACLS"),
        issued_on=bls.issued_on,
    )

    acls.full_clean()
    acls.save()

    assert bls.employee.credentials.count() == 2


def test_another_person_may_hold_the_same_card_date():
    first = factories.CredentialFactory(issued_on=D(2025, 9, 5))
    other = unsaved_credential(certification_type=first.certification_type, issued_on=first.issued_on)

    other.full_clean()


@pytest.mark.parametrize(
    ("model", "field", "make"),
    [
        (CertificationType, "code", lambda: factories.CertificationTypeFactory(code="BLS")),
        (Department, "code", lambda: factories.DepartmentFactory(code="icu")),
        (Role, "code", lambda: factories.RoleFactory(code="rn")),
        (Employee, "employee_number", lambda: factories.EmployeeFactory(employee_number="E1")),
    ],
)
def test_codes_are_unique(model, field, make):
    existing = make()
    copy = model.objects.get(pk=existing.pk)
    copy.pk = None
    if model is CertificationType:
        copy.name = "Another name"

    with pytest.raises(ValidationError) as error:
        copy.full_clean()

    assert field in error.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()


@pytest.mark.parametrize("validity_months", [None, 0])
def test_an_expiring_type_needs_a_validity_period(validity_months):
    certification_type = CertificationType(
        code="X", name="X course", level="basic", expires=True, validity_months=validity_months
    )

    with pytest.raises(ValidationError) as error:
        certification_type.full_clean()

    assert "validity_months" in error.value.message_dict


@pytest.mark.parametrize("validity_months", [None, 0])
def test_the_database_refuses_an_expiring_type_without_a_validity_period(validity_months):
    certification_type = CertificationType(
        code="X", name="X course", level="basic", expires=True, validity_months=validity_months
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        certification_type.save()


@pytest.mark.parametrize("reason", ["", "   "])
def test_rejecting_proof_needs_a_reason(reason):
    credential = unsaved_credential(verification=Credential.Verification.REJECTED, rejection_reason=reason)

    with pytest.raises(ValidationError) as error:
        credential.full_clean()

    assert error.value.message_dict["rejection_reason"] == ["Give a reason when rejecting proof."]


def test_the_database_refuses_a_rejection_without_a_reason():
    credential = unsaved_credential(verification=Credential.Verification.REJECTED, rejection_reason="")

    with pytest.raises(IntegrityError), transaction.atomic():
        credential.save()


def test_a_rejection_with_a_reason_is_accepted():
    credential = unsaved_credential(verification=Credential.Verification.REJECTED, rejection_reason="Card is blurred")

    credential.full_clean()


def test_an_assignment_cannot_start_before_the_hire_date():
    employee = factories.EmployeeFactory.build(
        role=factories.RoleFactory(),
        department=factories.DepartmentFactory(),
        hired_on=D(2024, 3, 1),
        assigned_on=D(2024, 2, 29),
    )

    with pytest.raises(ValidationError) as error:
        employee.full_clean()

    assert error.value.message_dict["assigned_on"] == ["The assignment cannot start before the hire date."]
    with pytest.raises(IntegrityError), transaction.atomic():
        employee.save()


def test_employment_cannot_end_before_it_starts():
    employee = factories.EmployeeFactory.build(
        role=factories.RoleFactory(),
        department=factories.DepartmentFactory(),
        hired_on=D(2024, 3, 1),
        terminated_on=D(2024, 2, 1),
    )

    with pytest.raises(ValidationError) as error:
        employee.full_clean()

    assert error.value.message_dict["terminated_on"] == ["The termination date cannot be before the hire date."]
    with pytest.raises(IntegrityError), transaction.atomic():
        employee.save()
