"""Reads of the stored periods: counts on any day, forecasts, one person's answer, and the surveyor's gap question."""

import datetime
from collections import Counter

import pytest
import time_machine
from django.db.models import Q

from apps.compliance import periods, selectors, timeline_store
from apps.compliance.engine import Status
from apps.organisation.models import Employee
from tests import factories
from tests.compliance.conftest import ed_nurse

D = datetime.date
TODAY = D(2026, 6, 15)
pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(datetime.datetime(2026, 6, 15, 12, tzinfo=datetime.UTC), tick=False):
        yield


def acls_card(nurse, catalogue, issued, expires):
    return factories.CredentialFactory(
        employee=nurse, certification_type=catalogue.acls, issued_on=issued, expires_on=expires
    )


@pytest.fixture
def population(catalogue):
    """ED nurses in every state, a ward nurse who moved to the ED, a teacher and someone who left."""
    people = [
        ed_nurse(catalogue),
        ed_nurse(catalogue, bls_expires=D(2026, 5, 31)),
        ed_nurse(catalogue, bls_expires=D(2026, 7, 31)),
        ed_nurse(catalogue, terminated_on=D(2026, 4, 30)),
        factories.EmployeeFactory(role=catalogue.teacher, department=catalogue.school),
    ]
    mover = factories.EmployeeFactory(role=catalogue.nurse, department=catalogue.ward)
    factories.CredentialFactory(
        employee=mover, certification_type=catalogue.bls, issued_on=D(2025, 1, 10), expires_on=D(2027, 1, 31)
    )
    mover.department, mover.assigned_on = catalogue.ed, D(2026, 3, 1)
    mover.save()
    timeline_store.rebuild_all()
    return [*people, mover]


def engine_counts(day, by):
    counts: dict[int, Counter] = {}
    for facts, result in selectors.evaluate(Employee.objects.all(), day):
        key = getattr(facts, by) if by else 0
        counts.setdefault(key, Counter())[result.status.value] += 1
    return counts


@pytest.mark.parametrize("day", [D(2026, 2, 1), D(2026, 3, 15), TODAY, D(2026, 9, 13), D(2027, 2, 1)])
@pytest.mark.parametrize("by", [None, "department_id", "role_id"])
def test_counts_on_any_day_are_the_engines(population, day, by, django_assert_num_queries):
    with django_assert_num_queries(2):  # the periods' version, the GROUP BY
        counts = periods.counts_on(day, by=by)
    assert counts == engine_counts(day, by)
    with django_assert_num_queries(1):  # asked again: the version, and the tally from the cache
        assert periods.counts_on(day, by=by) == counts


def test_a_cached_tally_is_not_read_once_the_periods_change(population, catalogue):
    before = periods.counts_on(TODAY)
    for employee in Employee.objects.all():
        factories.CredentialFactory(
            employee=employee, certification_type=catalogue.bls, issued_on=TODAY, expires_on=D(2028, 6, 30)
        )
    timeline_store.rebuild_people(employee_ids=Employee.objects.values_list("id", flat=True))
    assert periods.counts_on(TODAY) == engine_counts(TODAY, None) != before


def test_a_manager_counts_the_people_in_their_department_on_that_day(population, catalogue):
    ward = Q(department_id=catalogue.ward.id)
    assert sum(periods.counts_on(D(2026, 2, 1), ward)[0].values()) == 1  # the mover, before the move
    assert periods.counts_on(TODAY, ward) == {}


def test_lapses_within_are_the_engines_forecast(population):
    with_periods = [(row["employee_id"], row["requirement_id"], row["on"]) for row in periods.lapses_within(TODAY, 90)]
    engine = [
        (lapse.employee_id, lapse.requirement_id, lapse.on)
        for lapse in selectors.forecast(Employee.objects.all(), TODAY, 90)
    ]
    assert with_periods == engine and with_periods


def test_one_persons_requirements_on_a_day_read_as_the_engine_words_them(population, django_assert_num_queries):
    lapsing = population[2]
    day = D(2026, 7, 20)
    with django_assert_num_queries(1):
        rows = periods.requirement_rows_for(lapsing.id, day)
    ((_, result),) = selectors.evaluate(Employee.objects.filter(id=lapsing.id), day)
    assert [(r.requirement_id, r.status, r.reason) for r in rows] == [
        (r.requirement_id, r.status.value, r.reason) for r in result.requirements
    ]
    assert "in 11 days" in rows[0].reason


def test_who_had_a_gap_in_acls_during_a_survey_window_and_for_how_many_days(catalogue):
    always = ed_nurse(catalogue)
    late = ed_nurse(catalogue)
    late.credentials.filter(certification_type=catalogue.acls).update(expires_on=D(2026, 2, 28))
    acls_card(late, catalogue, D(2026, 3, 21), D(2028, 3, 31))  # lapsed 2026-03-01 to 2026-03-20: 20 days
    lapsed_twice = ed_nurse(catalogue)
    lapsed_twice.credentials.filter(certification_type=catalogue.acls).update(expires_on=D(2026, 1, 31))
    acls_card(lapsed_twice, catalogue, D(2026, 2, 10), D(2026, 3, 31))  # 9 days in February
    acls_card(lapsed_twice, catalogue, D(2026, 4, 5), D(2028, 4, 30))  # 4 days in April
    timeline_store.rebuild_all()
    acls = catalogue.nurse.requirements.get(department=catalogue.ed).id

    def asked(start, end, **kwargs):
        return {(g.employee_id, g.requirement_id): g.days for g in periods.gap_rows(periods.gaps(start, end, **kwargs))}

    assert asked(D(2026, 1, 1), D(2026, 6, 30)) == {(late.id, acls): 20, (lapsed_twice.id, acls): 13}
    assert asked(D(2026, 3, 20), D(2026, 3, 20)) == {(late.id, acls): 1}  # both ends of the window count
    assert asked(D(2026, 3, 21), D(2026, 4, 4)) == {(lapsed_twice.id, acls): 4}
    assert asked(D(2026, 5, 1), D(2026, 6, 30)) == {}
    assert always.id not in {e for e, _ in asked(D(2025, 9, 5), D(2026, 6, 30))}
    bls = catalogue.nurse.requirements.get(department=None).id
    assert asked(D(2026, 1, 1), D(2026, 6, 30), requirement_ids=[bls]) == {}
    gap = periods.gap_rows(periods.gaps(D(2026, 1, 1), D(2026, 6, 30), Q(employee_id=lapsed_twice.id)))[0]
    assert (gap.first_day, gap.last_day) == (D(2026, 2, 1), D(2026, 4, 4))


def test_days_outside_employment_or_the_unit_are_not_gaps(catalogue):
    # Hired into the ED on 2026-01-01 without ACLS: not yet due for 30 days, then missing until 2026-02-10.
    newcomer = factories.EmployeeFactory(
        role=catalogue.nurse, department=catalogue.ed, hired_on=D(2026, 1, 1), terminated_on=D(2026, 5, 31)
    )
    factories.CredentialFactory(
        employee=newcomer, certification_type=catalogue.bls, issued_on=D(2025, 6, 1), expires_on=D(2027, 6, 30)
    )
    acls_card(newcomer, catalogue, D(2026, 2, 10), D(2028, 2, 29))
    timeline_store.rebuild_all()
    (gap,) = periods.gap_rows(periods.gaps(D(2025, 1, 1), D(2026, 12, 31)))

    def status(day):
        ((_, result),) = selectors.evaluate(Employee.objects.filter(id=newcomer.id), day)
        return result.status

    # The due day itself may or may not be overdue (that is the engine's call); the periods agree either way.
    first_overdue = next(day for day in (D(2026, 1, 31), D(2026, 2, 1)) if status(day) == Status.MISSING)
    assert gap.days == (D(2026, 2, 10) - first_overdue).days
