"""Reads that turn database rows into the engine's plain data, in a bounded number of queries.

Nothing here evaluates rules: it only loads. Loading streams (ordered, chunked iterators) so a
100k-employee scan holds one chunk of employees in memory at a time.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from apps.certifications.models import CertificationType, Credential, Prerequisite, Requirement
from apps.core import clock
from apps.organisation import problems
from apps.organisation.models import Employee

from . import engine
from .models import ComplianceRun, EmployeeStatus, RequirementStatus

STREAM_CHUNK = 5000


def load_catalogue(day: datetime.date | None = None) -> engine.Catalogue:
    """The rule catalogue in force on `day` (default: today)."""
    return load_catalogue_history().on(day or clock.today())


def load_catalogue_history() -> engine.CatalogueHistory:
    """The catalogue as it stood over time, from the requirements' and prerequisites' recorded history.

    Five queries, whatever its size. A change recorded on a day is in force from that day (in the
    organisation's time zone). A rule with no recorded history (loaded from a fixture) has been in
    force all along; a rule whose first record is an edit was in force before it, as first recorded.
    """
    types = {
        pk: engine.CertType(pk, code, window)
        for pk, code, window in CertificationType.objects.values_list("id", "code", "renewal_window_days")
    }
    requirement_states = _rule_states(Requirement, ("role_id", "department_id", "mandatory", "due_within_days"))
    prerequisite_states = _rule_states(Prerequisite, ("certification_type_id", "must_stay_current"))
    days = sorted({day for states in (requirement_states, prerequisite_states) for day, _, _ in states})
    versions = []
    in_force_from: dict[int, datetime.date | None] = {}
    for day in [datetime.date.min, *days]:
        requirements_now = _state_on(requirement_states, day)
        for pk in list(in_force_from):
            if pk not in requirements_now:
                del in_force_from[pk]  # removed: if it comes back, it is new again
        for pk in requirements_now:
            in_force_from.setdefault(pk, None if day == datetime.date.min else day)
        requirements = [
            engine.RequirementRule(pk, role_id, department_id, any_of, mandatory, due, in_force_from[pk])
            for pk, ((role_id, department_id, mandatory, due), any_of) in sorted(requirements_now.items())
        ]
        prerequisites = [
            engine.PrerequisiteRule(type_id, any_of, must_stay_current)
            for (type_id, must_stay_current), any_of in _state_on(prerequisite_states, day).values()
        ]
        changed_on = None if day == datetime.date.min else day
        versions.append((day, engine.Catalogue(types, requirements, prerequisites, changed_on=changed_on)))
    return engine.CatalogueHistory(versions)


@dataclass(frozen=True)
class RequirementAsOf:
    """A requirement as it stood on a day, for labels: the codes of its any-of set then."""

    id: int
    codes: tuple[str, ...]
    mandatory: bool


def requirements_as_of(
    day: datetime.date, history: engine.CatalogueHistory | None = None
) -> dict[int, RequirementAsOf]:
    """Every requirement in force on `day` or before it, as it last stood by `day` (a requirement HR has since
    changed or deleted reads as it did then, never as today's table has it). From `history` when the caller
    has it, else from the requirements' recorded history in three queries."""
    found: dict[int, RequirementAsOf] = {}
    if history is not None:
        for starts, catalogue in history.versions:
            if starts > day:
                break
            for rule in catalogue.requirements:
                codes = tuple(sorted(catalogue.code(type_id) for type_id in rule.any_of))
                found[rule.id] = RequirementAsOf(rule.id, codes, rule.mandatory)
        return found
    type_codes = dict(CertificationType.objects.values_list("id", "code"))
    for starts, pk, state in _rule_states(Requirement, ("mandatory",)):
        if starts > day:
            break
        if state is not None:  # a deletion ends it, and it keeps the set it last had
            (mandatory,), any_of = state
            codes = tuple(sorted(type_codes.get(type_id, f"#{type_id}") for type_id in any_of))
            found[pk] = RequirementAsOf(pk, codes, mandatory)
    return found


_RuleState = tuple[datetime.date, int, tuple | None]  # (day, rule id, (fields, any_of) or None when not in force)


def _rule_states(model, fields: tuple[str, ...]) -> list[_RuleState]:
    """Every recorded state of every rule, oldest first, plus the current state of rules never recorded.

    Two queries: the history joined to its recorded any-of sets, and the rules never recorded
    joined to theirs (one row per rule and type in each).
    """
    historical = model.history.model
    sets_field = f"{historical._meta.model_name}_any_of__certificationtype_id"
    records: dict[int, tuple] = {}
    for history_id, pk, when, kind, *values, type_id in historical.objects.order_by(
        "history_date", "history_id"
    ).values_list("history_id", "id", "history_date", "history_type", *fields, sets_field):
        record = records.setdefault(history_id, (pk, when, kind, tuple(values), set()))
        if type_id is not None:
            record[4].add(type_id)
    states: list[_RuleState] = []
    recorded: set[int] = set()
    for pk, when, kind, values, any_of in records.values():
        # An empty any-of set can be met by nothing: not in force until HR fills it.
        state = (values, frozenset(any_of)) if kind != "-" and any_of else None
        day = timezone.localdate(when)
        if pk not in recorded and kind != "+":
            day = datetime.date.min  # it existed before its first record (a fixture later edited)
        recorded.add(pk)
        states.append((day, pk, state))
    never_recorded: dict[int, tuple] = {}
    for pk, *values, type_id in model.objects.exclude(id__in=recorded).values_list("id", *fields, "any_of"):
        if type_id is not None:
            never_recorded.setdefault(pk, (tuple(values), set()))[1].add(type_id)
    states.extend(
        (datetime.date.min, pk, (values, frozenset(any_of))) for pk, (values, any_of) in never_recorded.items()
    )
    states.sort(key=lambda state: state[0])  # stable: the order recorded within a day is kept
    return states


def _state_on(states: list[_RuleState], day: datetime.date) -> dict[int, tuple]:
    """{rule id: state} for the rules in force on `day`: each rule's last state recorded by then."""
    latest: dict[int, tuple | None] = {}
    for starts, pk, state in states:
        if starts > day:
            break
        latest[pk] = state
    return {pk: state for pk, state in latest.items() if state is not None}


_EMPLOYEE_FIELDS = ("id", "role_id", "department_id", "assigned_on", "hired_on", "terminated_on")
_CREDENTIAL_FIELDS = ("employee_id", "id", "certification_type_id", "issued_on", "expires_on", "verification")


def employee_facts(
    employees: QuerySet[Employee], day: datetime.date, catalogue: engine.Catalogue
) -> Iterator[engine.EmployeeFacts]:
    """The engine's view of each employee employed on `day`, as they stood that day.

    `role_id`, `department_id`, `assigned_on`, `hired_on` and `terminated_on` are those in force on
    `day`; `assignments` and `employments` carry the history the engine needs for due periods.

    Three queries whatever the number of employees: the history of the few whose record as it
    stands does not answer for `day` (hired again after it, an assignment dated after it, or one
    recent enough that a due period may hang on the assignments before it: the due day itself
    included), then employees and
    their credentials streamed side by side in employee order and merged, so memory holds one
    employee at a time. Someone whose current employment ended before `day` was not employed
    then: the current record is the latest employment.
    """
    candidates = employees.exclude(terminated_on__lt=day)
    longest_due_period = max((r.due_within_days for r in catalogue.requirements), default=0)
    recent = day - datetime.timedelta(days=longest_due_period)
    needs_history = candidates.filter(
        Q(hired_on__gt=day) | Q(assigned_on__gt=day) | (Q(assigned_on__gte=recent) & Q(assigned_on__gt=F("hired_on")))
    )
    histories = _histories(needs_history.values("id"))
    for (pk, role_id, department_id, assigned_on, hired_on, terminated_on), credentials in _with_credentials(
        candidates
    ):
        facts = engine.EmployeeFacts(
            id=pk,
            role_id=role_id,
            department_id=department_id,
            assigned_on=assigned_on,
            hired_on=hired_on,
            terminated_on=terminated_on,
            credentials=credentials,
        )
        if pk in histories:
            assignments, employments = histories[pk]
            facts = replace(facts, assignments=assignments, employments=employments)
        employment = facts.employment_on(day)
        in_force = facts.assignments_on(day)
        if employment is None or not in_force:
            continue  # not employed that day, or no assignment on record for it: leave them out rather than guess
        yield replace(
            facts,
            role_id=in_force[-1].role_id,
            department_id=in_force[-1].department_id,
            assigned_on=in_force[-1].started_on,
            hired_on=employment.started_on,
            terminated_on=employment.ended_on,
        )


def _with_credentials(employees: QuerySet[Employee]) -> Iterator[tuple[tuple, tuple[engine.CredentialFact, ...]]]:
    """Each employee's row with their cards: two queries streamed side by side in employee order and merged,
    so memory holds one employee at a time."""
    rows = employees.order_by("id").values_list(*_EMPLOYEE_FIELDS).iterator(chunk_size=STREAM_CHUNK)
    credential_rows = (
        Credential.objects.filter(employee__in=employees.values("id"))
        .order_by("employee_id", "id")
        .values_list(*_CREDENTIAL_FIELDS)
        .iterator(chunk_size=STREAM_CHUNK)
    )
    pending = next(credential_rows, None)
    for row in rows:
        credentials = []
        while pending is not None and pending[0] <= row[0]:
            if pending[0] == row[0]:
                _, credential_id, type_id, issued_on, expires_on, verification = pending
                # The raw string compares equal to engine.Verification (a StrEnum): no conversion per row.
                credentials.append(engine.CredentialFact(credential_id, type_id, issued_on, expires_on, verification))
            pending = next(credential_rows, None)
        yield row, tuple(credentials)


def _histories(employee_ids) -> dict[int, tuple[tuple[engine.Assignment, ...], tuple[engine.Employment, ...]]]:
    """From the employee history: every assignment and employment period on record, per employee.

    Assignments are effective-dated: among versions with the same assignment date, the one recorded
    last wins, so a transfer recorded late (or ahead) still lands on its day. A version with a new
    hire date after the previous period's last day is a rehire, a new period; any other change of
    hire date corrects the period it belongs to.
    """
    versions = (
        Employee.history.filter(id__in=employee_ids)
        .exclude(history_type="-")
        .order_by("id", "history_date", "history_id")
        .values_list("id", "assigned_on", "role_id", "department_id", "hired_on", "terminated_on")
    )
    assignments: dict[int, dict[datetime.date, engine.Assignment]] = defaultdict(dict)
    employments: dict[int, list[engine.Employment]] = defaultdict(list)
    for pk, assigned_on, role_id, department_id, hired_on, terminated_on in versions:
        assignments[pk][assigned_on] = engine.Assignment(assigned_on, role_id, department_id)
        periods = employments[pk]
        last = periods[-1] if periods else None
        if last is None or (last.started_on != hired_on and last.ended_on is not None and hired_on > last.ended_on):
            periods.append(engine.Employment(hired_on, terminated_on))
        else:
            periods[-1] = engine.Employment(hired_on, terminated_on)
    return {pk: (tuple(assignments[pk].values()), tuple(employments[pk])) for pk in employments}


def evaluate(
    employees: QuerySet[Employee],
    day: datetime.date,
    department_ids: Iterable[int] | None = None,
    *,
    skipped: dict[int, str] | None = None,
    catalogues: engine.CatalogueHistory | None = None,
) -> Iterator[tuple[engine.EmployeeFacts, engine.EmployeeResult]]:
    """Compliance of these employees as things stood on `day` (any day: past, today, or ahead).

    With `department_ids`, only those who were in these departments on that day (filter the
    queryset with `organisation.selectors.in_departments_on` first, so transferees are found in their old
    department).
    With `skipped`, a person the rules cannot evaluate (data no date arithmetic can handle) is left
    out and the reason put there, instead of stopping everyone else's answer. `catalogues`: the catalogue
    history when the caller has loaded it already.
    """
    catalogue = catalogues.on(day) if catalogues is not None else load_catalogue(day)
    wanted = set(department_ids) if department_ids is not None else None
    for facts in employee_facts(employees, day, catalogue):
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


def forecast(
    employees: QuerySet[Employee],
    day: datetime.date,
    horizon_days: int,
    catalogues: engine.CatalogueHistory | None = None,
) -> list[engine.Lapse]:
    """Who stops being compliant within `horizon_days` after `day` if nobody renews, soonest first."""
    catalogue = catalogues.on(day) if catalogues is not None else load_catalogue(day)
    lapses = [
        lapse
        for facts in employee_facts(employees, day, catalogue)
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


def person_facts(employees: QuerySet[Employee]) -> Iterator[engine.EmployeeFacts]:
    """Each employee with their whole history (every assignment and employment on record), for the timeline.

    The same facts `employee_facts` builds, except that the history comes for everyone: the timeline asks
    the engine about every day of a person's record, not one. Three queries, streamed in employee order;
    the history of one call's employees is held at once (the rebuild calls it a chunk at a time).
    """
    histories = _histories(employees.values("id"))
    for (pk, role_id, department_id, assigned_on, hired_on, terminated_on), credentials in _with_credentials(employees):
        assignments, employments = histories.get(pk, ((), ()))
        if assignments:
            # The record as it stands is the latest word: a version dated after its assignment was superseded
            # by it (as `employee_facts` reads it for any day on or after that assignment).
            current = engine.Assignment(assigned_on, role_id, department_id)
            assignments = (*(a for a in assignments if a.started_on < assigned_on), current)
        yield engine.EmployeeFacts(
            id=pk,
            role_id=role_id,
            department_id=department_id,
            assigned_on=assigned_on,
            hired_on=hired_on,
            terminated_on=terminated_on,
            credentials=credentials,
            assignments=assignments,
            employments=employments,
        )
