"""Stored status periods: the full rebuild, one person's rebuild, the nightly sync, and the engine as the reference."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.certifications.models import Credential
from apps.compliance import selectors, tasks, timeline_store
from apps.compliance.engine import Status
from apps.compliance.models import EmployeePeriod, RequirementPeriod, TimelinePerson, TimelineState
from apps.organisation.models import Employee
from tests import factories
from tests.compliance.conftest import ed_nurse

D = datetime.date
TODAY = D(2026, 6, 15)
pytestmark = [pytest.mark.django_db]


def noon(day):
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(noon(TODAY), tick=False) as traveller:
        yield traveller


def in_force(employee, day):
    """(overall status, {requirement id: status}) from the stored periods, as a reader looks them up."""
    overall = EmployeePeriod.objects.filter(employee=employee, valid_from__lte=day, valid_to__gt=day)
    rows = RequirementPeriod.objects.filter(employee=employee, valid_from__lte=day, valid_to__gt=day)
    statuses = list(overall.values_list("status", flat=True))
    return (statuses[0] if statuses else None), dict(rows.values_list("requirement_id", "status"))


def engine_says(employee, day):
    answers = list(selectors.evaluate(Employee.objects.filter(id=employee.id), day))
    if not answers:
        return None, {}
    result = answers[0][1]
    return result.status.value, {r.requirement_id: r.status.value for r in result.requirements}


def stored_rows():
    """Every stored row without its id, to compare two ways of reaching the same periods."""
    employee = EmployeePeriod.objects.order_by().values_list(*timeline_store.EMPLOYEE_COLUMNS)
    requirement = RequirementPeriod.objects.order_by().values_list(*timeline_store.REQUIREMENT_COLUMNS)
    return sorted(employee, key=repr), sorted(requirement, key=repr)


def test_a_rebuild_stores_everyones_periods_and_publishes_the_horizon(catalogue):
    lapsing = ed_nurse(catalogue, bls_expires=D(2026, 7, 31))
    left = ed_nurse(catalogue, terminated_on=D(2026, 3, 1))

    state = timeline_store.rebuild_all()

    assert state.horizon == D(2028, 6, 14) and TimelineState.objects.count() == 1
    assert in_force(lapsing, TODAY) == engine_says(lapsing, TODAY)
    assert in_force(lapsing, TODAY)[0] == Status.EXPIRING
    assert in_force(lapsing, D(2026, 8, 1))[0] == Status.EXPIRED  # a forecast is a look-up too
    assert in_force(left, D(2026, 2, 1))[0] == Status.COMPLIANT
    assert in_force(left, TODAY) == (None, {})
    assert TimelinePerson.objects.get(employee=lapsing).next_change_on is None  # nothing changes after the lapse


def test_the_number_of_queries_does_not_grow_with_employees(catalogue, settings):
    settings.TIMELINE_CHUNKS = 3

    def queries_for_rebuild():
        with CaptureQueriesContext(connection) as queries:
            timeline_store.rebuild_all()
        return len(queries)

    for _ in range(6):
        ed_nurse(catalogue)
    small = queries_for_rebuild()
    # On SQLite inserts are split every ~90 rows, so stay under that; PostgreSQL COPYs any size in one.
    for _ in range(6):
        ed_nurse(catalogue)
    assert queries_for_rebuild() == small


def test_a_retried_chunk_replaces_its_rows(catalogue):
    nurses = [ed_nurse(catalogue) for _ in range(3)]
    for _ in range(2):
        timeline_store.rebuild_range(first_id=nurses[0].id, last_id=nurses[-1].id)
    assert EmployeePeriod.objects.filter(valid_from__lte=TODAY, valid_to__gt=TODAY).count() == 3
    assert TimelinePerson.objects.count() == 3


def test_the_celery_rebuild_fans_out_chunks_and_publishes(catalogue, settings):
    settings.TIMELINE_CHUNKS = 3
    nurses = [ed_nurse(catalogue) for _ in range(5)]
    tasks.timeline_rebuild.apply()
    assert TimelineState.objects.get().horizon == D(2028, 6, 14)
    assert TimelinePerson.objects.filter(employee__in=nurses).count() == 5


def test_a_new_credential_rebuilds_that_person_after_commit(catalogue, django_capture_on_commit_callbacks):
    nurse = ed_nurse(catalogue, bls_expires=D(2026, 5, 31))
    timeline_store.rebuild_all()
    assert in_force(nurse, TODAY)[0] == Status.EXPIRED

    with django_capture_on_commit_callbacks(execute=True):
        factories.CredentialFactory(
            employee=nurse, certification_type=catalogue.bls, issued_on=D(2026, 6, 10), expires_on=D(2028, 6, 30)
        )

    assert in_force(nurse, TODAY)[0] == Status.COMPLIANT
    assert in_force(nurse, D(2026, 6, 5))[0] == Status.EXPIRED  # the lapse stays on record


def test_a_requirement_change_rebuilds_only_the_people_it_reaches(catalogue, django_capture_on_commit_callbacks):
    nurse = ed_nurse(catalogue, bls_expires=D(2027, 5, 31))
    # Moved out of the ED last month: the new requirement never applied to them, but they are checked.
    moved = ed_nurse(catalogue, bls_expires=D(2027, 5, 31))
    moved.department, moved.assigned_on = catalogue.ward, D(2026, 5, 1)
    moved.save()
    others = [
        factories.EmployeeFactory(role=catalogue.teacher, department=catalogue.school),
        factories.EmployeeFactory(role=catalogue.nurse, department=catalogue.ward),
    ]
    timeline_store.rebuild_all()
    kept = set(EmployeePeriod.objects.filter(employee__in=others).values_list("id", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        new = factories.RequirementFactory(role=catalogue.nurse, department=catalogue.ed, any_of=[catalogue.cpr])

    assert timeline_store.requirement_reach(
        requirement_id=new.id, role_id=new.role_id, department_id=new.department_id
    ) == sorted([nurse.id, moved.id])
    assert new.id in in_force(nurse, TODAY)[1]
    for person in (nurse, moved, *others):
        assert in_force(person, TODAY) == engine_says(person, TODAY)
    assert set(EmployeePeriod.objects.filter(employee__in=others).values_list("id", flat=True)) == kept


def test_a_quiet_night_changes_no_stored_period_and_only_moves_the_horizon(catalogue, frozen_today):
    people = [ed_nurse(catalogue, bls_expires=D(2026, 5, 31)), ed_nurse(catalogue), ed_nurse(catalogue)]
    frozen_today.shift(60)  # the rebuild starts after the records were saved, as it would in life
    timeline_store.rebuild_all()
    before = stored_rows()

    frozen_today.move_to(noon(TODAY + datetime.timedelta(days=1)))
    report = timeline_store.sync()

    assert (report.rebuilt, report.extended) == (0, 0)
    assert report.horizon == D(2028, 6, 15) == TimelineState.objects.get().horizon
    assert stored_rows() == before
    assert [in_force(p, D(2028, 6, 14)) for p in people] == [engine_says(p, D(2028, 6, 14)) for p in people]


def test_the_nightly_sync_takes_in_changes_made_without_signals(catalogue, frozen_today):
    nurse = ed_nurse(catalogue, bls_expires=D(2026, 5, 31))
    frozen_today.shift(60)
    timeline_store.rebuild_all()
    frozen_today.shift(60)
    # Saved but its recompute never ran (a worker was down, say): the history table still shows it.
    Credential.objects.create(
        employee=nurse,
        certification_type=catalogue.bls,
        issued_on=D(2026, 6, 10),
        expires_on=D(2028, 6, 30),
        verification="verified",
    )
    frozen_today.move_to(noon(TODAY + datetime.timedelta(days=1)))

    report = timeline_store.sync()

    assert report.rebuilt == 1
    assert in_force(nurse, D(2026, 6, 16))[0] == Status.COMPLIANT


def test_nights_of_extension_store_what_a_rebuild_would(catalogue, frozen_today):
    # Cards whose renewal windows and expiries fall past today's horizon, so the nights have work to do.
    for expiry in (D(2028, 6, 30), D(2028, 7, 31), D(2028, 9, 30)):
        nurse = ed_nurse(catalogue, bls_expires=expiry)
        factories.CredentialFactory(
            employee=nurse, certification_type=catalogue.bls, issued_on=D(2024, 6, 1), expires_on=D(2026, 6, 30)
        )
    ed_nurse(catalogue, terminated_on=D(2027, 1, 31))
    frozen_today.shift(60)
    timeline_store.rebuild_all()

    extended = 0
    for day in (D(2026, 6, 16), D(2026, 7, 20), D(2026, 9, 1), D(2026, 12, 24)):
        frozen_today.move_to(noon(day))
        extended += timeline_store.sync().extended
    nightly = stored_rows()
    timeline_store.rebuild_all()

    assert extended >= 3
    assert nightly == stored_rows()


def test_the_nightly_task_rebuilds_everything_the_first_time(catalogue):
    ed_nurse(catalogue)
    assert tasks.timeline_sync.apply().get().startswith("timeline rebuild")
    assert TimelineState.objects.exists()
    assert tasks.timeline_sync.apply().get().startswith("periods exact until")


# Random people written through the ORM (history included), rebuilt, and looked up on random days: the stored
# periods must say what the engine says through the selectors that every other reader uses.
past_or_future = st.dates(min_value=D(2023, 1, 1), max_value=D(2028, 6, 1))


@st.composite
def cards(draw):
    issued = draw(st.dates(min_value=D(2022, 1, 1), max_value=D(2027, 6, 1)))
    expires = draw(st.one_of(st.none(), st.dates(min_value=issued, max_value=issued + datetime.timedelta(900))))
    return (
        draw(st.sampled_from(["cpr", "bls", "acls"])),
        issued,
        expires,
        draw(st.sampled_from(["verified", "pending"])),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    hired=st.dates(min_value=D(2022, 1, 1), max_value=D(2026, 6, 1)),
    moves=st.lists(
        st.tuples(st.integers(1, 900), st.sampled_from(["ed", "ward"]), st.sampled_from(["nurse", "teacher"])),
        max_size=2,
    ),
    held=st.lists(cards(), max_size=5, unique_by=lambda c: (c[0], c[1])),
    rehire=st.one_of(st.none(), st.tuples(st.integers(1, 600), st.integers(2, 400))),
    days=st.lists(past_or_future, min_size=1, max_size=12),
)
# A transfer exactly one due period before the day asked about: the due day is still inside it, and the
# earlier unit's lapse must come from history.
@example(hired=D(2023, 1, 1), moves=[(278, "ed", "nurse")], held=[], rehire=None, days=[D(2023, 11, 5)])
def test_stored_periods_answer_as_the_engine_does_on_any_day(catalogue, hired, moves, held, rehire, days):
    person = factories.EmployeeFactory(role=catalogue.nurse, department=catalogue.ward, hired_on=hired)
    for code, issued, expires, verification in held:
        factories.CredentialFactory(
            employee=person,
            certification_type=getattr(catalogue, code),
            issued_on=issued,
            expires_on=expires,
            verification=verification,
        )
    for offset, department, role in sorted(moves):  # transfers, recorded in history as they happen
        person.department, person.role = getattr(catalogue, department), getattr(catalogue, role)
        person.assigned_on = hired + datetime.timedelta(days=offset)
        person.save()
    if rehire:  # left, then came back: a second employment, the first one still on record
        worked, away = rehire
        person.terminated_on = person.assigned_on + datetime.timedelta(days=worked)
        person.save()
        person.hired_on = person.assigned_on = person.terminated_on + datetime.timedelta(days=away)
        person.terminated_on = None
        person.save()

    timeline_store.rebuild_people(employee_ids=[person.id])

    for day in days:
        assert in_force(person, day) == engine_says(person, day), day
    Employee.objects.filter(id=person.id).delete()
    assert not EmployeePeriod.objects.filter(employee_id=person.id).exists()


def test_the_command_rebuilds_then_syncs(catalogue, capsys, frozen_today):
    from django.core.management import call_command

    ed_nurse(catalogue)
    frozen_today.shift(60)
    call_command("timeline", "--sync", verbosity=0)
    assert "No periods yet" in capsys.readouterr().out
    call_command("timeline", verbosity=0)
    assert "exact until 2028-06-14" in capsys.readouterr().out
    call_command("timeline", "--sync", verbosity=0)
    assert "0 rebuilt" in capsys.readouterr().out
