"""Each path that adds or edits an employee makes or updates their login through the one provisioning service."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from apps.core import clock
from apps.organisation.models import Employee
from tests import admin_checks, factories

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def place(db):
    return factories.RoleFactory(code="rn"), factories.DepartmentFactory(code="ED")


def employee_post(role, department, **overrides):
    data = {
        "employee_number": "3001",
        "first_name": "Nora",
        "last_name": "Novak",
        "email": "nora@example.org",
        "user": "",
        "role": role.pk,
        "department": department.pk,
        "hired_on": "2026-01-05",
        "assigned_on": "2026-01-05",
        "terminated_on": "",
        "credentials-TOTAL_FORMS": 0,
        "credentials-INITIAL_FORMS": 0,
        "credentials-MIN_NUM_FORMS": 0,
        "credentials-MAX_NUM_FORMS": 1000,
    }
    return {**data, **overrides}


def test_hr_adding_an_employee_in_the_admin_makes_their_login(hr, place):
    response = hr.post(admin_checks.admin_url("organisation", "employee", "add"), employee_post(*place))

    assert response.status_code == 302
    nora = Employee.objects.get(employee_number="3001")
    assert (nora.user.username, nora.user.email) == ("3001", "nora@example.org")


def test_hr_entering_a_past_termination_date_in_the_admin_cuts_the_login_at_once(hr, place):
    hr.post(admin_checks.admin_url("organisation", "employee", "add"), employee_post(*place))
    nora = Employee.objects.get(employee_number="3001")
    yesterday = (clock.today() - datetime.timedelta(days=1)).isoformat()

    hr.post(
        admin_checks.admin_url("organisation", "employee", "change", nora.pk),
        employee_post(*place, user=nora.user_id, terminated_on=yesterday),
    )

    assert User.objects.get(pk=nora.user_id).is_active is False


def test_the_api_creating_and_editing_an_employee_keeps_the_login_in_step(hr_admin, place):
    api = APIClient()
    api.force_authenticate(hr_admin)
    body = {
        "employee_number": "3002",
        "first_name": "Otto",
        "last_name": "Olsen",
        "email": "otto@example.org",
        "role": "rn",
        "department": "ED",
        "hired_on": "2026-01-05",
        "assigned_on": "2026-01-05",
    }

    created = api.post("/api/v1/employees/", body, format="json")
    assert created.status_code == 201, created.json()
    otto = Employee.objects.get(employee_number="3002")
    assert otto.user.username == "3002"

    changed = api.patch(f"/api/v1/employees/{otto.pk}/", {"email": "otto.olsen@example.org"}, format="json")
    assert changed.status_code == 200, changed.json()
    assert User.objects.get(pk=otto.user_id).email == "otto.olsen@example.org"
