"""Compliance answers in the API's shape, read from the stored results or computed for a day.

The rules stay in apps.compliance (engine and selectors); this module only loads, filters by
scope and arranges, in a fixed number of queries whatever the number of people.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from apps.compliance import engine, periods, read, selectors
from apps.compliance.engine import Status
from apps.compliance.models import ComplianceRun, CredentialFinding, EmployeeStatus, RequirementStatus
from apps.compliance.read import groups
from apps.core import clock
from apps.organisation import scoping
from apps.organisation.models import Department, Employee, Role
from apps.organisation.scoping import Scope
from apps.organisation.selectors import in_departments_on

Dimension = str  # "department" or "role"


@dataclass
class EmployeeAnswer:
    """One employee's compliance on one day, stored or computed, ready for EmployeeComplianceSerializer."""

    employee: Employee
    as_of: datetime.date
    source: str
    run: int | None
    computed_at: datetime.datetime | None
    status: Status | None
    next_expiry: datetime.date | None
    requirements: list[dict] = field(default_factory=list)
    credential_findings: list[dict] = field(default_factory=list)
    forecast: dict | None = None

    @property
    def employed(self) -> bool:
        return self.status is not None

    @property
    def status_label(self) -> str | None:
        return self.status.label if self.status else None

    @property
    def is_compliant(self) -> bool | None:
        return self.status.is_compliant if self.status else None


def _requirement_row(values: dict, codes: dict[int, list[str]]) -> dict:
    status = Status(values["status"])
    return {
        **values,
        "status": status,
        "status_label": status.label,
        "certifications": codes.get(values["requirement_id"], []),
    }


def _result_rows(result: engine.EmployeeResult, codes: dict[int, list[str]]) -> list[dict]:
    return [
        _requirement_row(
            {
                "requirement_id": r.requirement_id,
                "mandatory": r.mandatory,
                "status": r.status,
                "reason": r.reason,
                "credential_id": r.credential_id,
                "expires_on": r.expires_on,
                "due_on": r.due_on,
                "since": r.since,
            },
            codes,
        )
        for r in result.requirements
    ]


def _computed_answer(employee: Employee, day: datetime.date, result, codes) -> EmployeeAnswer:
    if result is None:
        return EmployeeAnswer(employee, day, "computed", None, None, None, None)
    return EmployeeAnswer(
        employee=employee,
        as_of=day,
        source="computed",
        run=None,
        computed_at=None,
        status=result.status,
        next_expiry=result.next_expiry,
        requirements=_result_rows(result, codes),
        credential_findings=[_finding_row(f) for f in result.findings],
    )


def _finding_row(finding: engine.Finding | CredentialFinding) -> dict:
    return {"credential_id": finding.credential_id, "kind": finding.kind, "message": finding.message}


_REQUIREMENT_VALUES = (
    "employee_id",
    "requirement_id",
    "mandatory",
    "status",
    "reason",
    "credential_id",
    "expires_on",
    "due_on",
    "since",
)


def employee_compliance(
    employee: Employee, *, as_of: datetime.date | None = None, forecast_days: int | None = None
) -> EmployeeAnswer:
    """The answer from where the read model's rule says (`read.source_for`): the current run's stored answer
    (no as_of, or as_of today), the periods when they reach as_of, or the one computed for that day."""
    today = clock.today()
    run = selectors.current_run() if as_of in (None, today) else None  # another day never reads the run
    source = read.source_for(as_of, today=today, run_exists=run is not None)
    if source == read.Source.PERIODS:
        answer = _period_answer(employee, as_of or today)
    elif source == read.Source.COMPUTED:
        answer = _computed_now(employee, as_of or today)
    else:
        assert run is not None  # source_for answers STORED only with a run
        answer = _stored_answers([employee], run)[employee.pk]
        if answer.status is None and employee.is_employed_on(run.as_of):
            # Not in the run yet (hired since, and the recompute is still queued): answer live.
            answer = _computed_now(employee, today)
    if forecast_days:
        answer.forecast = _forecast(Employee.objects.filter(pk=employee.pk), answer.as_of, forecast_days)
    return answer


def _computed_now(employee: Employee, day: datetime.date) -> EmployeeAnswer:
    history = selectors.load_catalogue_history()  # once: the rules and the labels of that day
    results = dict(selectors.evaluate(Employee.objects.filter(pk=employee.pk), day, catalogues=history))
    result = next(iter(results.values()), None)
    return _computed_answer(employee, day, result, read.requirement_codes_on(day, history) if result else {})


def _period_answer(employee: Employee, day: datetime.date) -> EmployeeAnswer:
    """One employee on `day` from the stored periods: three indexed queries, no evaluation.

    Findings are facts about cards (earned while no prerequisite was current), so the current run's findings
    for the cards issued by `day` are the ones that day had.
    """
    # No ORDER BY: at most one period is in force, and ordering by id would walk the primary key instead.
    overall = next(iter(periods.employee_periods_on(day, Q(employee_id=employee.pk))[:1]), None)
    if overall is None:
        return EmployeeAnswer(employee, day, "periods", None, None, None, None)
    rows = periods.requirement_rows_for(employee.pk, day)
    codes = read.requirement_codes_on(day)
    findings = CredentialFinding.objects.filter(
        run=selectors.current_run(), employee_id=employee.pk, credential__issued_on__lte=day
    ).order_by("credential_id", "kind")
    return EmployeeAnswer(
        employee=employee,
        as_of=day,
        source="periods",
        run=None,
        computed_at=None,
        status=Status(overall.status),
        next_expiry=overall.next_expiry,
        requirements=[
            _requirement_row(
                {
                    "requirement_id": row.requirement_id,
                    "mandatory": row.mandatory,
                    "status": row.status,
                    "reason": row.reason,
                    "credential_id": row.credential_id,
                    "expires_on": row.expires_on,
                    "due_on": row.due_on,
                    "since": row.since,
                },
                codes,
            )
            for row in rows
        ],
        credential_findings=[_finding_row(f) for f in findings],
    )


def _stored_answers(employees: list[Employee], run: ComplianceRun) -> dict[int, EmployeeAnswer]:
    """Answers for these employees from one run: three queries for any number of them."""
    ids = [employee.pk for employee in employees]
    statuses = {
        row["employee_id"]: row
        for row in EmployeeStatus.objects.filter(run=run, employee_id__in=ids).values(
            "employee_id", "status", "next_expiry", "computed_at"
        )
    }
    rows = list(
        RequirementStatus.objects.filter(run=run, employee_id__in=ids)
        .order_by("employee_id", "requirement_id")
        .values(*_REQUIREMENT_VALUES)
    )
    codes = read.requirement_codes({row["requirement_id"] for row in rows})
    findings: dict[int, list[dict]] = defaultdict(list)
    for row in (
        CredentialFinding.objects.filter(run=run, employee_id__in=ids)
        .order_by("id")
        .values("employee_id", "credential_id", "kind", "message")
    ):
        employee_id, finding = row["employee_id"], dict(row)
        del finding["employee_id"]
        findings[employee_id].append(finding)
    requirements: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        requirements[row.pop("employee_id")].append(_requirement_row(row, codes))
    answers = {}
    for employee in employees:
        stored = statuses.get(employee.pk)
        answers[employee.pk] = EmployeeAnswer(
            employee=employee,
            as_of=run.as_of,
            source="stored",
            run=run.pk,
            computed_at=stored["computed_at"] if stored else None,
            status=Status(stored["status"]) if stored else None,
            next_expiry=stored["next_expiry"] if stored else None,
            requirements=requirements.get(employee.pk, []),
            credential_findings=findings.get(employee.pk, []),
        )
    return answers


def finding_row(row: RequirementStatus, codes: dict[int, list[str]]) -> dict:
    """A stored RequirementStatus (employee, department and role selected) for FindingSerializer."""
    values = {name: getattr(row, name) for name in _REQUIREMENT_VALUES}
    return {
        **_requirement_row(values, codes),
        "id": row.pk,
        "employee": row.employee,
        "run_id": row.run_id,
        "computed_at": row.computed_at,
    }


def stored_answers_page(statuses: list[EmployeeStatus], run: ComplianceRun) -> list[EmployeeAnswer]:
    """A page of EmployeeStatus rows (employee, department and role selected) as answers."""
    answers = _stored_answers([status.employee for status in statuses], run)
    return [answers[status.employee_id] for status in statuses]


def _forecast(employees: QuerySet[Employee], day: datetime.date, horizon_days: int) -> dict:
    lapses = selectors.forecast(employees, day, horizon_days)
    codes = read.requirement_codes({lapse.requirement_id for lapse in lapses})
    return {
        "start": day,
        "until": day + datetime.timedelta(days=horizon_days),
        "horizon_days": horizon_days,
        "lapses": [
            {
                "requirement_id": lapse.requirement_id,
                "certifications": codes.get(lapse.requirement_id, []),
                "on": lapse.on,
                "status": lapse.status,
                "reason": lapse.reason,
            }
            for lapse in lapses
        ],
    }


def evaluate_in_scope(
    scope: Scope, day: datetime.date, *, department: Department | None = None, role: Role | None = None
) -> Iterator[tuple[engine.EmployeeFacts, engine.EmployeeResult]]:
    """(facts, result) for everyone the scope saw on `day`, with the department and role in force that day."""
    employees, departments = scoping.employees_on_any_day(scope)
    if department is not None:
        employees = employees.filter(in_departments_on([department.pk]))
    for facts, result in selectors.evaluate(employees, day):
        if departments is not None and facts.department_id not in departments and facts.id != scope.employee_id:
            continue
        if department is not None and facts.department_id != department.pk:
            continue
        if role is not None and facts.role_id != role.pk:
            continue
        yield facts, result


class ResultWindow(Sequence):
    """All matching results counted, but only one page of them kept: what a paginator needs from a list
    (its length and one slice), without holding a 100k-employee audit in memory."""

    def __init__(self, total: int, start: int, items: list):
        self.total, self.start, self.items = total, start, items

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index):
        if not isinstance(index, slice):
            raise TypeError("a result window is read by page")
        stop = self.total if index.stop is None else index.stop
        return self.items[(index.start or 0) - self.start : stop - self.start]


def computed_answers(
    scope: Scope,
    day: datetime.date,
    *,
    window: slice,
    department: Department | None = None,
    role: Role | None = None,
    statuses: set[str] | None = None,
    compliant: bool | None = None,
) -> ResultWindow:
    """Results on `day` that pass the filters, in employee id order; only those within `window` are kept."""
    total, kept = 0, []
    for facts, result in evaluate_in_scope(scope, day, department=department, role=role):
        if statuses and result.status.value not in statuses:
            continue
        if compliant is not None and result.status.is_compliant != compliant:
            continue
        if window.start <= total < window.stop:
            kept.append((facts.id, result))
        total += 1
    return ResultWindow(total, window.start, kept)


def computed_answers_page(page: list[tuple[int, engine.EmployeeResult]], day: datetime.date) -> list[EmployeeAnswer]:
    """Answers for one page of computed results: one query for the people, the catalogue history for the codes."""
    employees = Employee.objects.select_related("department", "role").in_bulk([pk for pk, _ in page])
    codes = read.requirement_codes_on(day)
    return [_computed_answer(employees[pk], day, result, codes) for pk, result in page]


def rollups(
    scope: Scope,
    dimension: Dimension,
    *,
    as_of: datetime.date | None = None,
    forecast_days: int | None = None,
    department: Department | None = None,
) -> tuple[list[tuple[Department | Role, read.Tally]], str, ComplianceRun | None, datetime.date]:
    """The read model's counts per department or role (`read.groups.counts_by`) for the people the scope oversees,
    as ((group, tally) pairs, source, run, day).

    Groups are what the scope sees: its departments (every one of them, even empty), or the roles
    its people hold. With forecast_days, each tally's `lapsing` counts who lapses within that horizon.
    """
    counted = groups.counts_by(
        read.People.overseen(scope),
        f"{dimension}_id",
        as_of=as_of,
        today=clock.today(),
        forecast_days=forecast_days,
        department_id=department.pk if department is not None else None,
    )
    tallies = [
        (group, counted.tally(group.pk, group.name))
        for group in _groups(scope, dimension, set(counted.counts), department)
    ]
    return tallies, counted.source.value, counted.run, counted.day


def stored_scope(scope: Scope, department: Department | None = None) -> Q:
    """Narrow stored results (EmployeeStatus, RequirementStatus) to a scope. They were computed with today's
    assignments, so this is the scope's rule for today, through the row's employee."""
    condition = scoping.employee_condition(scope, via="employee__")
    if department is not None:
        condition &= Q(employee__department=department)
    return condition


def _groups(scope: Scope, dimension: Dimension, seen: set[int], department: Department | None):
    if dimension == "department":
        departments = scoping.visible_departments(scope)
        if department is not None:
            departments = departments.filter(pk=department.pk)
        return list(departments.order_by("code"))
    return list(Role.objects.filter(pk__in=seen).order_by("code"))
