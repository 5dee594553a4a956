"""The surveyor's question through the API: who had a gap in a requirement during a window, and for how long.

alice (ED) never held ACLS and held no BLS before 2025-01-10; bob (ICU) held no BLS before then either.
"""

import pytest

from apps.compliance import timeline_store
from tests import factories

from .conftest import D, login

pytestmark = pytest.mark.django_db
URL = "/api/v1/compliance/gaps/"
JUNE_2024 = {"start": "2024-06-01", "end": "2024-06-30"}


@pytest.fixture
def built(world):
    timeline_store.rebuild_all()
    return world


def rows(response):
    assert response.status_code == 200, response.json()
    return sorted(
        (row["employee"]["employee_number"], row["certifications"][0], row["days"])
        for row in response.json()["results"]
    )


def test_hr_sees_every_gap_in_the_window_with_its_days(api, built, hr_admin):
    alice, bob = built.alice.employee_number, built.bob.employee_number
    assert rows(login(api, hr_admin).get(URL, JUNE_2024)) == [(alice, "ACLS", 30), (alice, "BLS", 30), (bob, "BLS", 30)]
    # The window straddles bob's first BLS (2025-01-10): nine days of January without it.
    january = rows(api.get(URL, {"start": "2025-01-01", "end": "2025-01-31"}))
    assert (bob, "BLS", 9) in january and (alice, "ACLS", 31) in january


def test_a_manager_sees_their_departments_gaps_and_not_the_others(api, built):
    alice = built.alice.employee_number
    assert rows(login(api, built.margaret).get(URL, JUNE_2024)) == [(alice, "ACLS", 30), (alice, "BLS", 30)]


def test_staff_see_their_own_gaps_only(api, built):
    assert rows(login(api, built.bob.user).get(URL, JUNE_2024)) == [(built.bob.employee_number, "BLS", 30)]


def test_filters_by_department_and_certification(api, built, hr_admin):
    login(api, hr_admin)
    assert rows(api.get(URL, {**JUNE_2024, "department": "ICU"})) == [(built.bob.employee_number, "BLS", 30)]
    assert rows(api.get(URL, {**JUNE_2024, "certification": "ACLS"})) == [(built.alice.employee_number, "ACLS", 30)]


def test_anonymous_and_charlie_are_refused(api, built, charlie):
    assert api.get(URL, JUNE_2024).status_code == 401
    assert login(api, charlie).get(URL, JUNE_2024).status_code == 403


@pytest.mark.parametrize(
    "query",
    [{}, {"start": "2024-06-30", "end": "2024-06-01"}, {"start": "2024-06-01", "end": "2029-01-01"}],
)
def test_a_window_it_cannot_answer_is_a_400(api, built, hr_admin, query):
    assert login(api, hr_admin).get(URL, query).status_code == 400


def test_before_the_first_rebuild_it_says_so(api, world, hr_admin):
    response = login(api, hr_admin).get(URL, JUNE_2024)
    assert response.status_code == 400 and "first rebuild" in str(response.json())


def test_the_number_of_queries_does_not_grow_with_gaps(api, built, hr_admin, django_assert_max_num_queries):
    login(api, hr_admin)
    with django_assert_max_num_queries(12) as captured:
        api.get(URL, JUNE_2024)
    few = len(captured)
    for _ in range(4):
        factories.EmployeeFactory(role=built.nurse, department=built.ed, hired_on=D(2020, 1, 6))
    timeline_store.rebuild_all()
    with django_assert_max_num_queries(few):
        assert len(api.get(URL, JUNE_2024).json()["results"]) == 11
