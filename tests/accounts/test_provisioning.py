"""Logins follow the roster: made with the employee, named by the employee number, kept in step with the
roster's email and name, switched off when employment ends, and never touching HR or managers' own logins."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.provisioning import account_sync, accounts_deactivate_leavers, accounts_provision
from apps.core import clock
from apps.organisation.models import Employee
from tests import factories

pytestmark = pytest.mark.django_db
User = get_user_model()


def people(n, **kwargs):
    return [factories.EmployeeFactory(**kwargs) for _ in range(n)]


def test_every_employee_with_an_email_gets_one_login_named_by_their_number():
    staff = people(3)
    no_email = factories.EmployeeFactory(email="")

    report = accounts_provision()

    assert report.created == 3 and report.linked == 3
    for employee in staff:
        employee.refresh_from_db()
        user = employee.user
        assert (user.username, user.email) == (employee.employee_number, employee.email)
        assert (user.first_name, user.last_name) == (employee.first_name, employee.last_name)
        assert user.is_active and not user.has_usable_password()
        assert not (user.is_staff or user.is_superuser)
    no_email.refresh_from_db()
    assert no_email.user is None


def test_running_it_again_changes_nothing_and_makes_no_duplicates():
    people(4)
    accounts_provision()
    users_before = set(User.objects.values_list("pk", "username", "email", "password"))

    again = accounts_provision()

    assert (again.created, again.linked, again.updated, again.deactivated) == (0, 0, 0, 0)
    assert set(User.objects.values_list("pk", "username", "email", "password")) == users_before


def test_the_queries_do_not_grow_with_the_number_of_employees():
    def queries_for(n):
        ids = [e.pk for e in people(n)]
        with CaptureQueriesContext(connection) as captured:
            accounts_provision(employee_ids=ids)
        return len(captured)

    assert queries_for(3) == queries_for(30)


def test_a_changed_email_and_name_follow_through_to_the_login():
    employee = factories.EmployeeFactory(email="old@example.org")
    account_sync(employee=employee)
    Employee.objects.filter(pk=employee.pk).update(email="new@example.org", last_name="Newname")

    report = accounts_provision(employee_ids=[employee.pk])

    employee.refresh_from_db()
    assert report.updated == 1
    assert (employee.user.email, employee.user.last_name) == ("new@example.org", "Newname")


def test_an_existing_linked_login_is_kept_and_follows_the_roster(alice):
    Employee.objects.filter(pk=alice.pk).update(email="alice.adams@example.org")

    accounts_provision()

    alice.refresh_from_db()
    assert alice.user.username == "alice"
    assert alice.user.email == "alice.adams@example.org"
    assert User.objects.filter(username=alice.employee_number).count() == 0


def test_hr_and_manager_logins_that_are_no_employees_are_left_alone(hr_admin):
    manager = factories.UserFactory(username="margaret", email="margaret@example.org")
    factories.DepartmentFactory(code="ed").managers.add(manager)
    people(2)
    before = set(User.objects.filter(pk__in=[hr_admin.pk, manager.pk]).values_list())

    accounts_provision()

    assert set(User.objects.filter(pk__in=[hr_admin.pk, manager.pk]).values_list()) == before


def test_a_number_taken_by_someone_elses_login_is_reported_and_the_rest_go_on(hr_admin):
    taken = factories.EmployeeFactory(employee_number="1001")
    factories.UserFactory(username="1001", email="somebody-else@example.org")
    fine = factories.EmployeeFactory(employee_number="1002")

    report = accounts_provision()

    taken.refresh_from_db()
    fine.refresh_from_db()
    assert taken.user is None
    assert fine.user.username == "1002"
    assert report.problems == ["employee 1001: a login named '1001' exists and is not plainly theirs"]


def test_an_earlier_login_of_theirs_is_linked_again_rather_than_duplicated():
    employee = factories.EmployeeFactory(employee_number="2001", email="dora@example.org")
    orphan = factories.UserFactory(username="2001", email="dora@example.org")

    accounts_provision()

    employee.refresh_from_db()
    assert employee.user == orphan


def test_a_past_termination_date_deactivates_the_login_and_a_rehire_restores_it():
    employee = factories.EmployeeFactory()
    account_sync(employee=employee)
    yesterday = clock.today() - datetime.timedelta(days=1)
    Employee.objects.filter(pk=employee.pk).update(terminated_on=yesterday)

    report = account_sync(employee=employee)

    employee.user.refresh_from_db()
    assert report.deactivated == 1 and not employee.user.is_active
    Employee.objects.filter(pk=employee.pk).update(terminated_on=None)
    account_sync(employee=employee)
    employee.user.refresh_from_db()
    assert employee.user.is_active


def test_a_leaver_gets_no_new_login():
    employee = factories.EmployeeFactory(terminated_on=clock.today() - datetime.timedelta(days=1))

    accounts_provision()

    employee.refresh_from_db()
    assert employee.user is None


def test_the_nightly_check_deactivates_whoever_left_yesterday_but_not_today():
    left_yesterday, leaves_today = people(2)
    accounts_provision()
    today = clock.today()
    Employee.objects.filter(pk=left_yesterday.pk).update(terminated_on=today - datetime.timedelta(days=1))
    Employee.objects.filter(pk=leaves_today.pk).update(terminated_on=today)

    assert accounts_deactivate_leavers() == 1

    assert User.objects.get(employee=left_yesterday).is_active is False
    assert User.objects.get(employee=leaves_today).is_active is True


def test_the_nightly_check_does_not_undo_a_login_hr_switched_off():
    employee = factories.EmployeeFactory()
    account_sync(employee=employee)
    User.objects.filter(employee=employee).update(is_active=False)

    accounts_deactivate_leavers()
    accounts_provision(reactivate=False)

    assert User.objects.get(employee=employee).is_active is False
