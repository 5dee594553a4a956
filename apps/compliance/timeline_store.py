"""Writes of the stored status periods: full rebuild, one person's rebuild, and the nightly sync.

The periods themselves come from `timeline.build` (pure); this module only loads histories, hands them over
and writes the rows (COPY on PostgreSQL). Every write replaces a person's rows whole in one transaction,
under an advisory lock shared by all timeline writers, so a retried task never duplicates and a
rebuild never interleaves with the nightly extension of the same person.

- `rebuild_range` / `rebuild_people`: a person's periods from their first day, exact to the horizon.
- `rebuild_all`: every employee, chunk by chunk (the tasks fan the same chunks out over Celery workers).
- `sync`: the nightly job. People whose data changed since the last sync are rebuilt; everyone else keeps
  their rows, because a passing day changes nothing already stored. The horizon moves to today plus
  TIMELINE_HORIZON_DAYS, and only people with a change-day between the old and new horizon are extended:
  their open periods are re-evaluated from where they start, everything before stays.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from apps.core import clock
from apps.core.bulk import insert_rows
from apps.organisation.models import Employee

from . import engine, selectors, services, timeline
from .models import EmployeePeriod, RequirementPeriod, TimelinePerson, TimelineState, new_version

logger = logging.getLogger(__name__)

EMPLOYEE_COLUMNS = ("employee_id", "valid_from", "valid_to", "status", "role_id", "department_id", "next_expiry")
REQUIREMENT_COLUMNS = (
    "employee_id",
    "requirement_id",
    "valid_from",
    "valid_to",
    "status",
    "mandatory",
    "role_id",
    "department_id",
    "reason",
    "credential_id",
    "expires_on",
    "due_on",
    "since",
    "renew_credential_id",
)
_PERSON_COLUMNS = ("employee_id", "built_to", "next_change_on")
_LOCK_KEY = 0x74696D65  # "time"
_LAST_ID = 2**63 - 1


def target_horizon() -> datetime.date:
    return clock.today() + datetime.timedelta(days=settings.TIMELINE_HORIZON_DAYS)


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def _compute(employees, horizon: datetime.date, catalogues: engine.CatalogueHistory):
    employee_rows, requirement_rows, person_rows = [], [], []
    for facts in selectors.person_facts(employees):
        try:
            periods = timeline.build(facts, catalogues, horizon)
        except Exception:  # one person's bad data must not stop the others; they keep no rows and are logged
            logger.exception("timeline: could not build periods for employee %s", facts.id)
            continue
        employee_rows += periods.employee
        requirement_rows += periods.requirements
        person_rows.append((facts.id, horizon, periods.next_change_on))
    return employee_rows, requirement_rows, person_rows


def _replace(condition: Q, rows) -> int:
    employee_rows, requirement_rows, person_rows = rows
    for model in (EmployeePeriod, RequirementPeriod, TimelinePerson):
        model.objects.filter(condition)._raw_delete(model.objects.db)
    insert_rows(EmployeePeriod, EMPLOYEE_COLUMNS, employee_rows)
    insert_rows(RequirementPeriod, REQUIREMENT_COLUMNS, requirement_rows)
    insert_rows(TimelinePerson, _PERSON_COLUMNS, person_rows)
    _changed()
    _changed()
    return len(employee_rows) + len(requirement_rows)


def _changed() -> None:
    """Move the periods' version with the rows, in the same transaction: tallies cached under the old one are
    never read again (periods.counts_on)."""
    TimelineState.objects.update(version=new_version())


def rebuild_range(*, first_id: int, last_id: int, horizon: datetime.date | None = None) -> int:
    """Replace the periods of every employee with an id in [first_id, last_id]; returns the rows written.

    Rows of employees deleted from the range go too, so chunks that cover all ids leave no strays.
    """
    horizon = horizon or target_horizon()
    employees = Employee.objects.filter(id__gte=first_id, id__lte=last_id)
    rows = _compute(employees, horizon, selectors.load_catalogue_history())
    with transaction.atomic():
        _lock()
        return _replace(Q(employee_id__gte=first_id, employee_id__lte=last_id), rows)


def rebuild_people(*, employee_ids: Iterable[int], horizon: datetime.date | None = None) -> int:
    """The incremental rebuild: these employees' periods, whole, from their first day (any change can be
    backdated). Deleted employees lose their rows. Safe to repeat. Many people (a requirement's change) go
    TIMELINE_CHUNK_MAX at a time, each batch in its own transaction, so memory stays flat."""
    ids = sorted(set(employee_ids))
    written = 0
    for start in range(0, len(ids), settings.TIMELINE_CHUNK_MAX):
        batch = ids[start : start + settings.TIMELINE_CHUNK_MAX]
        with transaction.atomic():
            _lock()
            state = TimelineState.objects.first()
            # Never build short of the horizon readers trust, whatever day this task runs.
            horizon = max(horizon or target_horizon(), state.horizon if state else datetime.date.min)
            rows = _compute(Employee.objects.filter(id__in=batch), horizon, selectors.load_catalogue_history())
            written += _replace(Q(employee_id__in=batch), rows)
    return written


def requirement_reach(*, requirement_id: int, role_id: int, department_id: int | None) -> list[int]:
    """Everyone whose periods a change to this requirement can move: whoever holds, held or is recorded to hold an
    assignment that any version of it covers (the role, and the department unless it covers every one). A change
    applies from its day to whoever holds the role then, so people in other roles and units keep their rows."""
    from apps.certifications.models import Requirement

    covered = {(role_id, department_id)}
    covered |= set(Requirement.history.filter(id=requirement_id).values_list("role_id", "department_id"))
    condition = Q(pk__in=[])
    for role, department in covered:
        condition |= Q(role_id=role) if department is None else Q(role_id=role, department_id=department)
    ids = set(Employee.objects.filter(condition).values_list("id", flat=True))
    ids |= set(Employee.history.filter(condition).values_list("id", flat=True))
    return sorted(ids)


def chunks(*, count: int | None = None) -> list[tuple[int, int]]:
    """Id ranges covering every possible id, about equal in employees: a fixed number (TIMELINE_CHUNKS), more
    only when a chunk would pass TIMELINE_CHUNK_MAX employees, so memory stays flat at any size."""
    ids = list(Employee.objects.order_by("id").values_list("id", flat=True))
    if not ids:
        return [(0, _LAST_ID)]
    count = max(count or settings.TIMELINE_CHUNKS, -(-len(ids) // settings.TIMELINE_CHUNK_MAX))
    size = -(-len(ids) // count)
    starts = [0, *ids[size::size]]
    return [(start, (starts[i + 1] - 1) if i + 1 < len(starts) else _LAST_ID) for i, start in enumerate(starts)]


def rebuild_finish(*, horizon: datetime.date, started_at: datetime.datetime) -> TimelineState:
    """After every chunk: rebuild whoever changed while the chunks ran, then publish the horizon."""
    with transaction.atomic():
        _lock()
        changed = services.employees_changed_since(started_at)
        if changed:
            rows = _compute(Employee.objects.filter(id__in=changed), horizon, selectors.load_catalogue_history())
            _replace(Q(employee_id__in=changed), rows)
        now = clock.now()
        state = TimelineState.objects.select_for_update().first() or TimelineState(synced_at=started_at)
        state.horizon = horizon
        state.synced_at = min(state.synced_at, started_at)
        state.rebuilt_at = now
        state.version = new_version()
        state.save()
        TimelineState.objects.exclude(pk=state.pk).delete()
        return state


def rebuild_all(*, progress: Callable[[int, int], None] | None = None) -> TimelineState:
    """The whole rebuild in this process, chunk after chunk (management command, benchmark, tests)."""
    started_at, horizon = clock.now(), target_horizon()
    ranges = chunks()
    for done, (first_id, last_id) in enumerate(ranges, start=1):
        rebuild_range(first_id=first_id, last_id=last_id, horizon=horizon)
        if progress:
            progress(done, len(ranges))
    return rebuild_finish(horizon=horizon, started_at=started_at)


@dataclass(frozen=True)
class SyncReport:
    horizon: datetime.date
    rebuilt: int  # people whose data changed
    extended: int  # people with a change-day under the new horizon

    def __str__(self):
        return f"periods exact until {self.horizon}: {self.rebuilt} rebuilt, {self.extended} extended"


def sync() -> SyncReport | None:
    """The nightly job: take in what changed since the last sync and move the horizon. None before any rebuild.

    Costs what changed, not the population: a passing day alters no stored period.
    """
    started_at, horizon = clock.now(), target_horizon()
    with transaction.atomic():
        _lock()
        state = TimelineState.objects.select_for_update().first()
        if state is None:
            return None
        horizon = max(horizon, state.horizon)
        catalogues = selectors.load_catalogue_history()
        changed = services.employees_changed_since(state.synced_at)
        if changed:
            _replace(Q(employee_id__in=changed), _compute(Employee.objects.filter(id__in=changed), horizon, catalogues))
        due = list(
            TimelinePerson.objects.filter(next_change_on__lt=horizon)
            .exclude(employee_id__in=changed)
            .values_list("employee_id", flat=True)
        )
        _extend(due, horizon, catalogues)
        state.horizon, state.synced_at = horizon, started_at
        state.save(update_fields=["horizon", "synced_at"])
    report = SyncReport(horizon, len(changed), len(due))
    logger.info("timeline sync: %s", report)
    return report


def _extend(employee_ids: list[int], horizon: datetime.date, catalogues: engine.CatalogueHistory) -> None:
    """Carry these people's open periods (valid_to = OPEN_END) to the new horizon; closed ones stay as stored."""
    if not employee_ids:
        return
    starts: dict[int, dict[int | None, datetime.date]] = {pk: {} for pk in employee_ids}
    open_rows = Q(employee_id__in=employee_ids, valid_to=timeline.OPEN_END)
    for pk, valid_from in EmployeePeriod.objects.filter(open_rows).values_list("employee_id", "valid_from"):
        starts[pk][None] = valid_from
    for pk, requirement_id, valid_from in RequirementPeriod.objects.filter(open_rows).values_list(
        "employee_id", "requirement_id", "valid_from"
    ):
        starts[pk][requirement_id] = valid_from
    built_to = dict(TimelinePerson.objects.filter(employee_id__in=employee_ids).values_list("employee_id", "built_to"))
    employee_rows, requirement_rows, person_rows = [], [], []
    for facts in selectors.person_facts(Employee.objects.filter(id__in=employee_ids)):
        pk = facts.id
        periods = timeline.extend(facts, catalogues, starts[pk], built_to[pk], horizon)
        employee_rows += periods.employee
        requirement_rows += periods.requirements
        person_rows.append((pk, horizon, periods.next_change_on))
    for model in (EmployeePeriod, RequirementPeriod):
        model.objects.filter(open_rows)._raw_delete(model.objects.db)
    TimelinePerson.objects.filter(employee_id__in=employee_ids)._raw_delete(TimelinePerson.objects.db)
    insert_rows(EmployeePeriod, EMPLOYEE_COLUMNS, employee_rows)
    insert_rows(RequirementPeriod, REQUIREMENT_COLUMNS, requirement_rows)
    insert_rows(TimelinePerson, _PERSON_COLUMNS, person_rows)
    _changed()
