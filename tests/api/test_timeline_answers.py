"""As-of answers read from the stored periods say what the computed answers say, in a few queries."""

import pytest

from apps.compliance import services, timeline_store
from apps.compliance.models import TimelineState
from tests import factories

from .conftest import D, login

pytestmark = pytest.mark.django_db
DAYS = ["2024-06-01", "2025-01-09", "2025-01-10", "2026-03-15", "2026-03-16"]
TODAY = "2026-03-16"  # without the periods, today is the current run's stored answer (compliance.read.source_for)


@pytest.fixture
def built(world, frozen_today):
    # Alice moved from the ICU on 2025-06-01; bob has an ACLS that lapses in the forecast window.
    world.alice.department, world.alice.assigned_on = world.icu, D(2025, 6, 1)
    world.alice.save()
    world.alice.department, world.alice.assigned_on = world.ed, D(2025, 9, 1)
    world.alice.save()
    factories.CredentialFactory(
        employee=world.bob,
        certification_type=world.acls,
        issued_on=D(2024, 3, 1),
        expires_on=D(2026, 4, 30),
    )
    timeline_store.rebuild_all()
    services.scan_run()  # the nightly scan: its findings are about cards, whatever the day asked
    return world


def both_ways(api, url, params):
    """(answer from the periods, answer computed without them)."""
    from_periods = api.get(url, params).json()
    state = TimelineState.objects.get()
    TimelineState.objects.all().delete()
    computed = api.get(url, params).json()
    state.save()
    return from_periods, computed


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize("who", ["hilda", "margaret"])
def test_roll_ups_as_of_a_day_match_the_computed_ones(api, built, hr_admin, day, who):
    login(api, hr_admin if who == "hilda" else built.margaret)
    for dimension in ("departments", "roles"):
        from_periods, computed = both_ways(api, f"/api/v1/compliance/{dimension}/", {"as_of": day, "forecast": 60})
        assert (from_periods["source"], computed["source"]) == ("periods", "stored" if day == TODAY else "computed")
        assert from_periods["results"] == computed["results"]


@pytest.mark.parametrize("day", DAYS)
def test_one_employees_answer_as_of_a_day_matches_the_computed_one(api, built, hr_admin, day):
    login(api, hr_admin)
    for person in (built.alice, built.bob):
        from_periods, computed = both_ways(api, f"/api/v1/employees/{person.pk}/compliance/", {"as_of": day})
        assert from_periods.pop("source") == "periods"
        if day == TODAY:
            assert computed.pop("source") == "stored" and computed.pop("run") and computed.pop("computed_at")
            del from_periods["run"], from_periods["computed_at"]
        else:
            assert computed.pop("source") == "computed"
        assert from_periods == computed


def test_one_employees_answer_takes_a_few_queries(api, built, hr_admin, django_assert_max_num_queries):
    login(api, hr_admin)
    with django_assert_max_num_queries(12):
        response = api.get(f"/api/v1/employees/{built.alice.pk}/compliance/", {"as_of": "2025-07-01"})
    assert response.json()["employee"]["department"] == "ED"  # today's assignment; the answer is for the ICU then
    assert [r["certifications"] for r in response.json()["requirements"]] == [["BLS", "CPR"]]


def test_a_manager_cannot_ask_about_someone_outside_their_departments(api, built):
    login(api, built.margaret)
    assert api.get(f"/api/v1/employees/{built.bob.pk}/compliance/", {"as_of": "2025-07-01"}).status_code == 404
