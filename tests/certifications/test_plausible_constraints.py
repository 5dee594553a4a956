"""The database itself refuses years that no validator would let through (fixed bounds, see apps/core/plausible)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.certifications.models import Credential
from apps.organisation.models import Employee
from tests import factories

pytestmark = pytest.mark.django_db
D = datetime.date


def test_an_employee_from_year_one_cannot_be_stored(db):
    employee = factories.EmployeeFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Employee.objects.filter(pk=employee.pk).update(hired_on=D(1, 1, 1), assigned_on=D(1, 1, 1))


def test_a_card_valid_for_a_century_cannot_be_stored(db):
    card = factories.CredentialFactory(issued_on=D(2025, 1, 10), expires_on=D(2027, 1, 31))

    with pytest.raises(IntegrityError), transaction.atomic():
        Credential.objects.filter(pk=card.pk).update(expires_on=D(2125, 1, 31))
    with pytest.raises(IntegrityError), transaction.atomic():
        Credential.objects.filter(pk=card.pk).update(issued_on=D(9999, 1, 1), expires_on=None)


def test_the_model_says_which_field_is_wrong(db):
    card = factories.CredentialFactory.build(issued_on=D(2025, 1, 10), expires_on=D(2040, 1, 31))

    with pytest.raises(ValidationError) as error:
        card.full_clean(exclude=["employee", "certification_type"])

    assert "more than 10 years after" in error.value.message_dict["expires_on"][0]
