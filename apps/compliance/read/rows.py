"""Today's rows with filters: people with their stored status, and requirement rows (needs attention, renewals,
a matrix cell), from the current run's stored results. Each is one query (plus the any-of prefetch), however many
people; the caller pages it. `employees` is what `organisation.scoping` gave the caller (see the package's rule).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from django.db.models import OuterRef, Q, QuerySet, Subquery

from apps.certifications.models import Requirement
from apps.organisation.models import Employee, EmployeeQuerySet

from .. import selectors as compliance
from ..engine import ATTENTION_STATUSES, COMPLIANT_STATUSES, Lapse, RequirementResult, Status
from ..models import ComplianceRun, EmployeeStatus, RequirementStatus
from . import Filters


@dataclass(frozen=True)
class ProblemRow:
    """One person against one requirement, with the reason in words."""

    employee: Employee
    requirement: Requirement | compliance.RequirementAsOf | None
    status: Status
    reason: str
    expires_on: datetime.date | None = None
    due_on: datetime.date | None = None
    since: datetime.date | None = None


def placed(filters: Filters, *, via: str = "") -> Q:
    """The department and role filters, on people (`via=""`) or on rows pointing at them (`via="employee__"`)."""
    where = Q()
    if filters.department_id:
        where &= Q(**{f"{via}department_id": filters.department_id})
    if filters.role_id:
        where &= Q(**{f"{via}role_id": filters.role_id})
    return where


def stored_employee_statuses(run: ComplianceRun | None, employees: QuerySet[Employee], filters: Filters):
    statuses = EmployeeStatus.objects.filter(
        placed(filters, via="employee__"), run=run, employee__in=employees.values("id")
    )
    if filters.status:
        statuses = statuses.filter(status=filters.status)
    if filters.certification_id:
        statuses = statuses.filter(employee_id__in=holders_of_requirement(run, filters.certification_id))
    return statuses


def holders_of_requirement(run, certification_id: int):
    """Employees with a mandatory requirement that this certification type satisfies."""
    return RequirementStatus.objects.filter(run=run, mandatory=True, requirement__any_of=certification_id).values(
        "employee_id"
    )


def stored_requirement_statuses(run: ComplianceRun | None, employees: QuerySet[Employee], filters: Filters):
    """Mandatory requirement results of the filtered people (a certification filter narrows to its requirements)."""
    results = RequirementStatus.objects.filter(
        placed(filters, via="employee__"), run=run, mandatory=True, employee__in=employees.values("id")
    )
    if filters.status:
        results = results.filter(
            employee_id__in=EmployeeStatus.objects.filter(run=run, status=filters.status).values("employee_id")
        )
    if filters.certification_id:
        results = results.filter(requirement__any_of=filters.certification_id)
    return results


def renewals(results: QuerySet[RequirementStatus], day: datetime.date, within_days: int):
    """Requirements met today whose card (or its prerequisite) runs out within `within_days`."""
    return results.filter(
        status__in=COMPLIANT_STATUSES, expires_on__gte=day, expires_on__lte=day + datetime.timedelta(within_days)
    )


def with_people(results: QuerySet[RequirementStatus]) -> QuerySet[RequirementStatus]:
    return results.select_related("employee__department", "employee__role", "requirement").prefetch_related(
        "requirement__any_of"
    )


def employee_list(
    *, employees: EmployeeQuerySet, filters: Filters, search: str, day: datetime.date, left: bool = False
) -> QuerySet[Employee]:
    """People employed today (with `left`: those whose last day has passed, for HR) with their stored
    overall status and next expiry, filtered and ordered by name."""
    run = compliance.current_run()
    stored = EmployeeStatus.objects.filter(run=run, employee=OuterRef("pk"))
    people = (
        (employees.filter(terminated_on__lt=day) if left else employees.employed_on(day))
        .select_related("department", "role")
        .annotate(
            compliance_status=Subquery(stored.values("status")[:1]),
            next_expiry=Subquery(stored.values("next_expiry")[:1]),
        )
    )
    people = people.filter(placed(filters))
    if filters.status:
        people = people.filter(compliance_status=filters.status)
    if filters.certification_id:
        people = people.filter(pk__in=holders_of_requirement(run, filters.certification_id))
    for word in search.split():
        people = people.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(employee_number__icontains=word)
        )
    return people.order_by("last_name", "first_name", "employee_number")


def attention_list(*, employees: QuerySet[Employee], filters: Filters) -> QuerySet[RequirementStatus]:
    """Mandatory requirements that are expired, missing past their due date, or have a lapsed prerequisite."""
    results = stored_requirement_statuses(compliance.current_run(), employees, replace(filters, status=None))
    results = results.filter(status__in=ATTENTION_STATUSES)
    if filters.status:
        results = results.filter(status=filters.status)
    return with_people(results).order_by("since", "employee__last_name", "employee__first_name", "id")


def renewal_list(
    *, employees: QuerySet[Employee], filters: Filters, day: datetime.date, within_days: int
) -> QuerySet[RequirementStatus]:
    results = stored_requirement_statuses(compliance.current_run(), employees, replace(filters, status=None))
    results = renewals(results, day, within_days)
    if filters.status:
        results = results.filter(status=filters.status)
    return with_people(results).order_by("expires_on", "employee__last_name", "employee__first_name", "id")


def problem_rows(
    items: Sequence[tuple[int, RequirementResult | Lapse]],
    requirements: Mapping[int, Requirement | compliance.RequirementAsOf] | None = None,
) -> list[ProblemRow]:
    """Engine answers for (employee id, requirement result or lapse) as rows with people: two queries.

    `requirements`: a past day's requirements as they stood (default: today's table)."""
    people = Employee.objects.select_related("department", "role").in_bulk({pk for pk, _ in items})
    if requirements is None:
        requirements = Requirement.objects.prefetch_related("any_of").in_bulk(
            {answer.requirement_id for _, answer in items}
        )
    return [
        ProblemRow(
            employee=people[pk],
            requirement=requirements.get(answer.requirement_id),
            status=answer.status,
            reason=answer.reason,
            expires_on=getattr(answer, "expires_on", None),
            due_on=getattr(answer, "due_on", None),
            since=getattr(answer, "since", None) or getattr(answer, "on", None),
        )
        for pk, answer in items
        if pk in people
    ]
