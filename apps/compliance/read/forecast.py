"""Who stops being compliant within a horizon if nobody renews: from the stored periods when they reach the
whole horizon (one query), otherwise from the engine."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from apps.organisation.models import Employee

from .. import periods
from .. import selectors as compliance
from ..engine import Lapse, Status
from ..models import RequirementPeriod
from . import Filters, People, Source, requirements_met_by, source_for
from .rows import placed


def forecast(
    people: People, *, filters: Filters, day: datetime.date, horizon_days: int
) -> list[PeriodLapse] | list[Lapse]:
    """Who stops being compliant within `horizon_days` after `day` if nobody renews, soonest first: from the
    periods when they reach the whole horizon, otherwise from the engine over today's people."""
    if source_for(day, today=day, until=day + datetime.timedelta(horizon_days)) == Source.PERIODS:
        return forecast_from_periods(
            department_ids=people.department_ids, filters=filters, day=day, horizon_days=horizon_days
        )
    return forecast_list(employees=people.today, filters=filters, day=day, horizon_days=horizon_days)


@dataclass(frozen=True)
class PeriodLapse:
    """A forecast lapse read from the periods, shaped like the engine's Lapse for `problem_rows`."""

    employee_id: int
    requirement_id: int
    on: datetime.date
    status: Status
    reason: str


def forecast_from_periods(
    *, department_ids: Iterable[int] | None, filters: Filters, day: datetime.date, horizon_days: int
) -> list[PeriodLapse]:
    """Who stops being compliant within `horizon_days` after `day` if nobody renews: one query on the periods."""
    where = placed(filters) & (Q() if department_ids is None else Q(department_id__in=list(department_ids)))
    lapses = periods.lapses_within(day, horizon_days, where)
    if filters.certification_id:
        lapses = lapses.filter(requirement_id__in=requirements_met_by(filters.certification_id))
    # What each lapse turns into, from the periods starting inside the horizon: a second query, no join.
    starting = RequirementPeriod.objects.filter(
        where, valid_from__gt=day, valid_from__lte=day + datetime.timedelta(horizon_days)
    ).values_list("employee_id", "requirement_id", "valid_from", "status", "reason")
    what = {(e, r, on): (status, reason) for e, r, on, status, reason in starting}
    found = [
        PeriodLapse(row["employee_id"], row["requirement_id"], row["on"], Status(status), reason)
        for row in lapses
        for status, reason in [what[(row["employee_id"], row["requirement_id"], row["on"])]]
    ]
    return [lapse for lapse in found if not filters.status or lapse.status == filters.status]


def forecast_list(
    *, employees: QuerySet[Employee], filters: Filters, day: datetime.date, horizon_days: int
) -> list[Lapse]:
    """Who stops being compliant within `horizon_days` if nobody renews, soonest first (the engine's answer)."""
    lapses = compliance.forecast(employees.filter(placed(filters)), day, horizon_days)
    if filters.status:
        lapses = [lapse for lapse in lapses if lapse.status == filters.status]
    if filters.certification_id:
        naming = set(requirements_met_by(filters.certification_id).values_list("requirement_id", flat=True))
        lapses = [lapse for lapse in lapses if lapse.requirement_id in naming]
    return lapses
