"""Reads of the stored status periods: any day, past or ahead, as indexed range look-ups.

A period [valid_from, valid_to) is in force on D when valid_from <= D < valid_to. The stored periods are
exact for every day before the published horizon (TimelineState); `covers(day)` says whether a day may be
answered from them, and callers compute anything else with the engine. Scope is given as a Q over the
period's own columns (`employee_id`, `department_id`): the department is the one the person was in on the
day asked about, which is what an auditor means by "the ED on 2026-03-01".

Statuses are read as the engine states them; reasons with a day count ("in 12 days") are reworded for the
day asked (`timeline.reason_on`).
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import DurationField, Exists, ExpressionWrapper, F, Max, Min, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Greatest, Least

from apps.organisation.scoping import Scope

from . import timeline
from .engine import COMPLIANT_STATUSES, NON_COMPLIANT_STATUSES
from .models import EmployeePeriod, RequirementPeriod, TimelineState

ONE_DAY = datetime.timedelta(days=1)
_COMPLIANT = [s.value for s in COMPLIANT_STATUSES]
_NON_COMPLIANT = [s.value for s in NON_COMPLIANT_STATUSES]
EVERYONE = Q()  # no narrowing: HR's scope


def scope_condition(scope: Scope) -> Q:
    """The scope's rule over periods: HR everything; a manager whoever was in their departments on the days
    asked about (a transferee's time elsewhere is not theirs to see); staff their own."""
    if scope.organisation:
        return EVERYONE
    condition = Q(pk__in=[])
    if scope.department_ids:
        condition |= Q(department_id__in=scope.department_ids)
    if scope.employee_id:
        condition |= Q(employee_id=scope.employee_id)
    return condition


def horizon() -> datetime.date | None:
    """The first day the stored periods do not answer (None: never built)."""
    return TimelineState.objects.values_list("horizon", flat=True).first()


def covers(day: datetime.date, *, until: datetime.date | None = None) -> bool:
    """Whether `day` (and every day up to `until`) can be answered from the periods."""
    last = horizon()
    return last is not None and max(day, until or day) < last


def in_force(day: datetime.date) -> Q:
    return Q(valid_from__lte=day, valid_to__gt=day)


def employee_periods_on(day: datetime.date, condition: Q = EVERYONE) -> QuerySet[EmployeePeriod]:
    """One row per person employed on `day` in the scope, with their overall status and assignment that day."""
    return EmployeePeriod.objects.filter(in_force(day), condition)


def requirement_periods_on(day: datetime.date, condition: Q = EVERYONE) -> QuerySet[RequirementPeriod]:
    return RequirementPeriod.objects.filter(in_force(day), condition)


def counts_on(day: datetime.date, condition: Q = EVERYONE, *, by: str | None = None) -> dict[int, Counter]:
    """{key: Counter(status -> people)} on `day` in one GROUP BY; `by` is "department_id" or "role_id"
    (key 0 when None). Read from the covering index on (valid_from, valid_to)."""
    fields = [by, "status"] if by else ["status"]
    counts: dict[int, Counter] = {}
    rows = employee_periods_on(day, condition).values(*fields).annotate(n=Sum(Value(1))).order_by()
    for row in rows:
        counts.setdefault(row[by] if by else 0, Counter())[row["status"]] = row["n"]
    return counts


def lapses_within(day: datetime.date, days: int, condition: Q = EVERYONE) -> QuerySet:
    """Mandatory requirements compliant on `day` that stop being so within `days` days if nobody renews:
    rows of employee_id, requirement_id and `on` (the first day not compliant), soonest first. One query.

    The stored future is exactly "if nobody renews": it holds only what is on record today.
    """
    compliant_then = RequirementPeriod.objects.filter(
        in_force(day),
        employee_id=OuterRef("employee_id"),
        requirement_id=OuterRef("requirement_id"),
        status__in=_COMPLIANT,
    )
    return (
        RequirementPeriod.objects.filter(
            condition,
            Exists(compliant_then),
            mandatory=True,
            status__in=_NON_COMPLIANT,
            valid_from__gt=day,
            valid_from__lte=day + datetime.timedelta(days=days),
        )
        .values("employee_id", "requirement_id")
        .annotate(on=Min("valid_from"))
        .order_by("on", "employee_id", "requirement_id")
    )


@dataclass(frozen=True)
class Gap:
    """Days without a compliant status for one mandatory requirement inside a window."""

    employee_id: int
    requirement_id: int
    days: int
    first_day: datetime.date
    last_day: datetime.date


def gaps(
    start: datetime.date,
    end: datetime.date,
    condition: Q = EVERYONE,
    *,
    requirement_ids: Iterable[int] | None = None,
) -> QuerySet:
    """Who had any gap in a mandatory requirement between `start` and `end` (both included), and for how many
    days: one row per employee x requirement, most days first. One query, summed in the database.

    A gap day is a day employed under the requirement with a non-compliant status (expired, missing,
    prerequisite lapsed, or only unverified proof). Days before hire, after leaving, or in another role or
    unit without the requirement are not gaps: the requirement did not apply.
    """
    after = end + ONE_DAY
    overlapping = RequirementPeriod.objects.filter(
        condition, mandatory=True, status__in=_NON_COMPLIANT, valid_from__lt=after, valid_to__gt=start
    )
    if requirement_ids is not None:
        overlapping = overlapping.filter(requirement_id__in=list(requirement_ids))
    span = ExpressionWrapper(
        Least(F("valid_to"), Value(after)) - Greatest(F("valid_from"), Value(start)), output_field=DurationField()
    )
    return (
        overlapping.values("employee_id", "requirement_id")
        .annotate(
            length=Sum(span),
            first_day=Min(Greatest(F("valid_from"), Value(start))),
            last_day=Max(Least(F("valid_to"), Value(after))),
        )
        .order_by("-length", "employee_id", "requirement_id")
    )


def gap_rows(rows: Iterable[dict]) -> list[Gap]:
    """The `gaps` query's rows as Gap values (last_day inclusive)."""
    return [
        Gap(row["employee_id"], row["requirement_id"], row["length"].days, row["first_day"], row["last_day"] - ONE_DAY)
        for row in rows
    ]


def requirement_rows_for(employee_id: int, day: datetime.date) -> list[RequirementPeriod]:
    """One employee's requirement periods in force on `day`, reasons worded for that day. One indexed query."""
    rows = list(requirement_periods_on(day, Q(employee_id=employee_id)).order_by("requirement_id"))
    for row in rows:
        row.reason = timeline.reason_on(row.reason, row.valid_from, row.expires_on, day)
    return rows
