"""The additions the web app made to the one permission layer (apps/organisation/scoping.py)."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser, Permission

from apps.core import clock
from apps.organisation import scoping
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_manager_oversees_their_departments_but_not_their_own_record_elsewhere(hospital):
    overseen = set(scoping.overseen_employees(scoping.scope_for(hospital.manager)))

    assert overseen == {hospital.alice, hospital.edgar}
    assert hospital.margaret in scoping.visible_employees(scoping.scope_for(hospital.manager))  # she still sees herself


def test_hr_oversees_everyone_and_staff_nobody(hospital, charlie):
    assert scoping.overseen_employees(scoping.scope_for(hospital.hr)).count() == 5
    for nobody in (hospital.alice.user, charlie, AnonymousUser()):
        assert not scoping.overseen_employees(scoping.scope_for(nobody)).exists()
        assert not scoping.oversees_anyone(scoping.scope_for(nobody))


def test_on_a_past_day_a_manager_also_gets_those_who_have_since_moved_away(hospital):
    tom = factories.EmployeeFactory(department=hospital.ed, role=hospital.nurse, hired_on=datetime.date(2024, 1, 2))
    tom.department, tom.assigned_on = hospital.icu, clock.today()
    tom.save()

    employees, department_ids = scoping.overseen_employees_on_any_day(scoping.scope_for(hospital.manager))

    assert tom in employees
    assert hospital.bob not in employees
    assert department_ids == {hospital.ed.pk}


def test_on_a_past_day_hr_gets_everyone_and_staff_nobody(hospital):
    employees, department_ids = scoping.overseen_employees_on_any_day(scoping.scope_for(hospital.hr))
    assert (employees.count(), department_ids) == (5, None)

    employees, department_ids = scoping.overseen_employees_on_any_day(scoping.scope_for(hospital.alice.user))
    assert not employees.exists()
    assert department_ids == frozenset()


def test_proof_is_for_hr_who_may_change_credentials_and_for_its_owner(hospital, charlie):
    assert scoping.may_see_proof(hospital.hr, hospital.alice)
    assert scoping.may_see_proof(hospital.alice.user, hospital.alice)
    assert not scoping.may_see_proof(hospital.manager, hospital.alice)
    assert not scoping.may_see_proof(hospital.bob.user, hospital.alice)
    assert not scoping.may_see_proof(charlie, hospital.alice)
    assert not scoping.may_see_proof(charlie, hospital.ivy)  # no login: nobody owns it


def test_verifying_needs_staff_status_and_the_change_permission(hospital):
    clerk = factories.UserFactory(username="clerk", is_staff=True)
    assert not scoping.may_verify_credentials(clerk)

    clerk.user_permissions.add(Permission.objects.get(codename="change_credential"))
    clerk = type(clerk).objects.get(pk=clerk.pk)  # permissions are cached per user object
    assert scoping.may_verify_credentials(clerk)

    clerk.is_active = False
    assert not scoping.may_verify_credentials(clerk)
    assert not scoping.may_verify_credentials(AnonymousUser())
