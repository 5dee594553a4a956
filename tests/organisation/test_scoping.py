"""The one permission layer: who sees which employees and departments."""

import pytest
from django.contrib.auth.models import Permission
from django.http import Http404

from apps.organisation import scoping
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(hr_admin):
    ed, icu = factories.DepartmentFactory(code="ed"), factories.DepartmentFactory(code="icu")
    manager = factories.UserFactory(username="margaret")
    ed.managers.add(manager)
    alice_user, bob_user = factories.UserFactory(username="alice"), factories.UserFactory(username="bob")
    return {
        "ed": ed,
        "icu": icu,
        "manager": manager,
        "alice": factories.EmployeeFactory(department=ed, user=alice_user),
        "bob": factories.EmployeeFactory(department=icu, user=bob_user),
        "margaret": factories.EmployeeFactory(department=icu, user=manager),
        "hr": hr_admin,
    }


def test_hr_admins_see_the_whole_organisation(org):
    assert set(scoping.visible_employees(scoping.scope_for(org["hr"]))) == {org["alice"], org["bob"], org["margaret"]}
    assert set(scoping.visible_departments(scoping.scope_for(org["hr"]))) == {org["ed"], org["icu"]}


def test_the_hr_permission_alone_is_enough(org):
    clerk = factories.UserFactory(username="hana")
    clerk.user_permissions.add(Permission.objects.get(codename="view_organisation"))
    assert scoping.is_hr_admin(clerk)
    assert scoping.visible_employees(scoping.scope_for(clerk)).count() == 3


def test_a_manager_sees_their_departments_and_themselves(org):
    assert set(scoping.visible_employees(scoping.scope_for(org["manager"]))) == {org["alice"], org["margaret"]}
    assert list(scoping.visible_departments(scoping.scope_for(org["manager"]))) == [org["ed"]]
    with pytest.raises(Http404):
        scoping.visible_employee_or_404(scoping.scope_for(org["manager"]), org["bob"].pk)


def test_staff_see_only_themselves(org):
    bob_user = org["bob"].user
    assert list(scoping.visible_employees(scoping.scope_for(bob_user))) == [org["bob"]]
    assert not scoping.visible_departments(scoping.scope_for(bob_user)).exists()
    with pytest.raises(Http404):
        scoping.visible_employee_or_404(scoping.scope_for(bob_user), org["alice"].pk)


def test_charlie_and_anonymous_see_nothing(org, charlie):
    from django.contrib.auth.models import AnonymousUser

    for nobody in (charlie, AnonymousUser()):
        assert scoping.scope_for(nobody).is_empty
        assert not scoping.visible_employees(scoping.scope_for(nobody)).exists()
        assert not scoping.visible_departments(scoping.scope_for(nobody)).exists()


def test_a_deactivated_hr_admin_sees_nothing(org):
    org["hr"].is_active = False
    org["hr"].save()
    assert not scoping.visible_employees(scoping.scope_for(org["hr"])).exists()


def test_a_bad_id_is_a_404_not_a_crash(org):
    with pytest.raises(Http404):
        scoping.visible_employee_or_404(scoping.scope_for(org["hr"]), "not-a-number")
