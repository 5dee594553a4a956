"""Implausible dates and query days answer 400 in the API's error shape, never 500."""

import pytest

pytestmark = pytest.mark.django_db

V1 = "/api/v1"


@pytest.fixture
def hr_api(api, world, hr_admin):
    api.force_login(hr_admin)
    return api


def fields_of(response, status=400):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"status", "code", "detail", "fields"}
    return body["fields"]


def test_a_mistyped_hire_year_is_refused(hr_api, world):
    employee = {
        "employee_number": "X1",
        "first_name": "X",
        "last_name": "Y",
        "role": "rn",
        "department": "ED",
        "hired_on": "1925-03-01",
        "assigned_on": "1925-03-01",
    }

    fields = fields_of(hr_api.post(f"{V1}/employees/", employee, format="json"))

    assert set(fields) == {"hired_on", "assigned_on"}
    assert "before 1950-01-01" in fields["hired_on"][0]


@pytest.mark.parametrize(
    ("dates", "field"),
    [
        ({"issued_on": "0001-01-01"}, "issued_on"),
        ({"issued_on": "2026-03-01", "expires_on": "9999-12-31"}, "expires_on"),
        ({"issued_on": "2026-03-01", "expires_on": "2040-01-01"}, "expires_on"),
    ],
)
def test_implausible_card_dates_are_refused(hr_api, world, dates, field):
    card = {"employee": world.bob.pk, "certification_type": "ACLS", **dates}

    fields = fields_of(hr_api.post(f"{V1}/credentials/", card, format="json"))

    assert list(fields) == [field]


@pytest.mark.parametrize(
    "url",
    [
        "/employees/{alice}/compliance/?as_of=9999-12-31&forecast=730",
        "/employees/{alice}/compliance/?as_of=0001-01-01",
        "/compliance/departments/?as_of=9999-12-31&forecast=730",
        "/compliance/roles/?as_of=9999-12-31&forecast=730",
        "/compliance/employees/?as_of=0001-01-01",
    ],
)
def test_an_unsupported_as_of_is_a_400(hr_api, world, url):
    response = hr_api.get(V1 + url.format(alice=world.alice.pk))

    assert "as_of" in fields_of(response)


def test_the_edges_of_the_supported_range_answer(hr_api, world, frozen_today):
    response = hr_api.get(f"{V1}/compliance/departments/?as_of=2028-03-16&forecast=730")

    assert response.status_code == 200, response.content
