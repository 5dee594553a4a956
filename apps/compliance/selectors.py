"""Reads that turn database rows into the engine's plain data, in a bounded number of queries.

Nothing here evaluates rules: it only loads. Loading streams (ordered, chunked iterators) so a
100k-employee scan holds one chunk of employees in memory at a time.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db.models import Q, QuerySet

from apps.certifications.models import CertificationType, Credential, Prerequisite, Requirement
from apps.organisation import problems
from apps.organisation.models import Employee

from . import engine, timeline
from .models import ComplianceRun, EmployeeStatus, RequirementStatus

STREAM_CHUNK = 5000


def load_catalogue() -> engine.Catalogue:
    """The whole rule catalogue: four queries, whatever its size."""
    types = {
        pk: engine.CertType(pk, code, window)
        for pk, code, window in CertificationType.objects.values_list("id", "code", "renewal_window_days")
    }
    prerequisite_sets = _any_of_sets(Prerequisite.any_of.through, "prerequisite_id")
    prerequisites = [
        engine.PrerequisiteRule(type_id, frozenset(prerequisite_sets.get(pk, ())), must_stay_current)
        for pk, type_id, must_stay_current in Prerequisite.objects.values_list(
            "id", "certification_type_id", "must_stay_current"
        )
        if prerequisite_sets.get(pk)
    ]
    requirement_sets = _any_of_sets(Requirement.any_of.through, "requirement_id")
    requirements = [
        engine.RequirementRule(pk, role_id, department_id, frozenset(requirement_sets[pk]), mandatory, due)
        for pk, role_id, department_id, mandatory, due in Requirement.objects.values_list(
            "id", "role_id", "department_id", "mandatory", "due_within_days"
        ).order_by("id")
        if requirement_sets.get(pk)  # an empty any-of set can be met by nothing: ignore until HR fills it
    ]
    return engine.Catalogue(types=types, requirements=requirements, prerequisites=prerequisites)


def _any_of_sets(through, owner_field: str) -> dict[int, set[int]]:
    sets: dict[int, set[int]] = defaultdict(set)
    for owner_id, type_id in through.objects.values_list(owner_field, "certificationtype_id"):
        sets[owner_id].add(type_id)
    return sets


_EMPLOYEE_FIELDS = ("id", "role_id", "department_id", "assigned_on", "hired_on", "terminated_on")
_CREDENTIAL_FIELDS = ("employee_id", "id", "certification_type_id", "issued_on", "expires_on", "verification")


def employee_facts(employees: QuerySet[Employee], day: datetime.date) -> Iterator[engine.EmployeeFacts]:
    """The engine's view of each employee employed on `day`, with the assignment in force that day.

    Three queries whatever the number of employees: the rare assignments that must come from
    history (a past audit day, or a transfer dated ahead), then employees and their credentials
    streamed side by side in employee order and merged, so memory holds one employee at a time.
    """
    employed = employees.filter(hired_on__lte=day).filter(Q(terminated_on__isnull=True) | Q(terminated_on__gte=day))
    earlier = _assignments_before(day, employed.filter(assigned_on__gt=day).values("id"))
    rows = employed.order_by("id").values_list(*_EMPLOYEE_FIELDS).iterator(chunk_size=STREAM_CHUNK)
    credential_rows = (
        Credential.objects.filter(employee__in=employed.values("id"))
        .order_by("employee_id", "id")
        .values_list(*_CREDENTIAL_FIELDS)
        .iterator(chunk_size=STREAM_CHUNK)
    )
    pending = next(credential_rows, None)
    for pk, role_id, department_id, assigned_on, hired_on, terminated_on in rows:
        credentials = []
        while pending is not None and pending[0] <= pk:
            if pending[0] == pk:
                _, credential_id, type_id, issued_on, expires_on, verification = pending
                # The raw string compares equal to engine.Verification (a StrEnum): no conversion per row.
                credentials.append(engine.CredentialFact(credential_id, type_id, issued_on, expires_on, verification))
            pending = next(credential_rows, None)
        if assigned_on > day:
            if pk not in earlier:
                continue  # no assignment on record for that day: leave them out rather than guess
            role_id, department_id, assigned_on = earlier[pk]
        yield engine.EmployeeFacts(
            id=pk,
            role_id=role_id,
            department_id=department_id,
            assigned_on=assigned_on,
            hired_on=hired_on,
            terminated_on=terminated_on,
            credentials=tuple(credentials),
        )


def _assignments_before(day: datetime.date, employee_ids) -> dict[int, tuple[int, int, datetime.date]]:
    """From the employee history: the (role, department, assigned_on) in force on `day`.

    The assignment date is effective-dated, so a transfer recorded late (or ahead) still
    lands on the right day: the version with the latest assigned_on <= day wins, and among
    versions with the same assignment date, the one recorded last.
    """
    versions = (
        Employee.history.filter(id__in=employee_ids, assigned_on__lte=day)
        .exclude(history_type="-")
        .order_by("id", "assigned_on", "history_date")
        .values_list("id", "role_id", "department_id", "assigned_on")
    )
    return {pk: (role_id, department_id, assigned_on) for pk, role_id, department_id, assigned_on in versions}


def in_departments_on(department_ids: Iterable[int]) -> Q:
    """Employees who are, or ever were, in these departments; narrow to a day with `department_ids=`."""
    ids = list(department_ids)
    return Q(department_id__in=ids) | Q(id__in=Employee.history.filter(department_id__in=ids).values("id"))


def evaluate(
    employees: QuerySet[Employee],
    day: datetime.date,
    department_ids: Iterable[int] | None = None,
    *,
    skipped: dict[int, str] | None = None,
) -> Iterator[tuple[engine.EmployeeFacts, engine.EmployeeResult]]:
    """Compliance of these employees as things stood on `day` (any day: past, today, or ahead).

    With `department_ids`, only those who were in these departments on that day (filter the
    queryset with `in_departments_on` first, so transferees are found in their old department).
    With `skipped`, a person the rules cannot evaluate (data no date arithmetic can handle) is left
    out and the reason put there, instead of stopping everyone else's answer.
    """
    catalogue = load_catalogue()
    wanted = set(department_ids) if department_ids is not None else None
    for facts in employee_facts(employees, day):
        if wanted is not None and facts.department_id not in wanted:
            continue
        try:
            result = engine.evaluate_employee(facts, catalogue, day)
        except Exception as error:
            if skipped is None:
                raise
            skipped[facts.id] = problems.describe(error)
            continue
        if result is not None:
            yield facts, result


def forecast(employees: QuerySet[Employee], day: datetime.date, horizon_days: int) -> list[engine.Lapse]:
    """Who stops being compliant within `horizon_days` after `day` if nobody renews, soonest first."""
    catalogue = load_catalogue()
    lapses = [
        lapse
        for facts in employee_facts(employees, day)
        for lapse in engine.forecast_employee(facts, catalogue, day, horizon_days)
    ]
    return sorted(lapses, key=lambda lapse: (lapse.on, lapse.employee_id, lapse.requirement_id))


def current_run() -> ComplianceRun | None:
    return ComplianceRun.objects.current()


def current_employee_statuses() -> QuerySet[EmployeeStatus]:
    """Stored overall statuses from the current run (empty before the first scan)."""
    run = current_run()
    return EmployeeStatus.objects.filter(run=run) if run else EmployeeStatus.objects.none()


def current_requirement_statuses() -> QuerySet[RequirementStatus]:
    """Stored per-requirement statuses from the current run (empty before the first scan)."""
    run = current_run()
    return RequirementStatus.objects.filter(run=run) if run else RequirementStatus.objects.none()


def person_histories(employees: QuerySet[Employee]) -> Iterator[timeline.PersonHistory]:
    """Each employee's whole history for the timeline, in employee order: three streamed queries.

    The assignments follow `employee_facts` exactly: the current record from its `assigned_on`, and before
    that the recorded version with the latest `assigned_on` (the one recorded last on a tie). A version
    dated after the current assignment was superseded by it and is ignored, as `employee_facts` ignores it.
    """
    ordered = employees.order_by("id")
    rows = ordered.values_list(*_EMPLOYEE_FIELDS).iterator(chunk_size=STREAM_CHUNK)
    versions = (
        Employee.history.filter(id__in=ordered.values("id"))
        .exclude(history_type="-")
        .order_by("id", "history_date", "history_id")
        .values_list("id", "assigned_on", "role_id", "department_id")
        .iterator(chunk_size=STREAM_CHUNK)
    )
    credential_rows = (
        Credential.objects.filter(employee__in=ordered.values("id"))
        .order_by("employee_id", "id")
        .values_list(*_CREDENTIAL_FIELDS)
        .iterator(chunk_size=STREAM_CHUNK)
    )
    version = next(versions, None)
    pending = next(credential_rows, None)
    for pk, role_id, department_id, assigned_on, hired_on, terminated_on in rows:
        by_day: dict[datetime.date, tuple[int, int]] = {}
        while version is not None and version[0] <= pk:
            if version[0] == pk and version[1] < assigned_on:
                by_day[version[1]] = (version[2], version[3])
            version = next(versions, None)
        by_day[assigned_on] = (role_id, department_id)
        credentials = []
        while pending is not None and pending[0] <= pk:
            if pending[0] == pk:
                _, credential_id, type_id, issued_on, expires_on, verification = pending
                credentials.append(engine.CredentialFact(credential_id, type_id, issued_on, expires_on, verification))
            pending = next(credential_rows, None)
        yield timeline.PersonHistory(
            employee_id=pk,
            hired_on=hired_on,
            terminated_on=terminated_on,
            assignments=tuple(timeline.Assignment(day, *by_day[day]) for day in sorted(by_day)),
            credentials=tuple(credentials),
        )


def catalogue_history() -> timeline.CatalogueHistory:
    """The catalogue versions the timeline evaluates with: today's catalogue for every day, for now."""
    return timeline.CatalogueHistory.constant(load_catalogue())
