"""A manager sees their own departments and nothing of the others: not in lists, exports, charts or filters."""

import datetime

import pytest
from django.urls import reverse

from apps.core import clock

pytestmark = pytest.mark.django_db

OTHER_DEPARTMENT = ("Intensive Care Unit", "Brown", "Irwin", "Moss")  # the ICU, Bob, Ivy, and Margaret's own record
OWN_DEPARTMENT = ("Emergency Department", "Evans")  # Edgar, whose BLS expired

PAGES = [
    ("web:dashboard", {}),
    ("web:dashboard", {"as_of": str(clock.today() - datetime.timedelta(days=60))}),
    ("web:employee_list", {}),
    ("web:employee_list", {"format": "csv"}),
    ("web:attention", {}),
    ("web:attention", {"format": "csv"}),
    ("web:renewals", {}),
    ("web:renewals", {"format": "csv"}),
    ("web:forecast", {"days": 365}),
    ("web:forecast", {"days": 365, "format": "csv"}),
]


def body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode()


@pytest.fixture
def as_manager(client, hospital):
    client.force_login(hospital.manager)
    return client


@pytest.mark.parametrize(("name", "params"), PAGES)
def test_other_departments_are_absent_for_a_manager(as_manager, name, params):
    text = body(as_manager.get(reverse(name), params))

    for hidden in OTHER_DEPARTMENT:
        assert hidden not in text


@pytest.mark.parametrize(("name", "params"), [("web:dashboard", {}), ("web:employee_list", {})])
def test_the_manager_sees_their_own_department(as_manager, name, params):
    text = body(as_manager.get(reverse(name), params))

    for shown in OWN_DEPARTMENT:
        assert shown in text


@pytest.mark.parametrize(("name", "params"), PAGES)
def test_filtering_on_another_department_is_refused_not_obeyed(as_manager, hospital, name, params):
    response = as_manager.get(reverse(name), {**params, "department": hospital.icu.pk})

    assert response.status_code == 200
    for hidden in OTHER_DEPARTMENT:
        assert hidden not in body(response)


def test_the_refused_filter_is_reported_on_the_form(as_manager, hospital):
    response = as_manager.get(reverse("web:employee_list"), {"department": hospital.icu.pk})

    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize(("name", "params"), PAGES[:6])
def test_hr_sees_every_department(client, hospital, name, params):
    client.force_login(hospital.hr)

    text = body(client.get(reverse(name), params))

    assert "Emergency Department" in text
    assert "Intensive Care Unit" in text
