"""People counted by overall status per department or role, for any day: the API's roll-ups.

The same counts as the dashboard's (`overview`), from the same sources by the same rule (`source_for`): the current
run's stored results by each person's department and role today, or the periods or the engine by the department
and role each person had on the day asked. With a forecast, who lapses within it, from the periods when they reach
its horizon, from the engine otherwise.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q

from apps.organisation.selectors import in_departments_on

from .. import engine, periods
from .. import selectors as compliance
from ..models import ComplianceRun, EmployeeStatus
from . import People, Source, Tally, source_for


@dataclass(frozen=True)
class GroupCounts:
    day: datetime.date
    source: Source
    run: ComplianceRun | None  # the run read, for stored counts
    counts: dict[int, Counter]  # group id -> Counter(status -> people)
    lapsing: dict[int, set[int]] | None  # with a forecast: group id -> who lapses within it

    def tally(self, key: int, label: str) -> Tally:
        lapsing = None if self.lapsing is None else len(self.lapsing.get(key, ()))
        return Tally(key, label, self.counts.get(key, Counter()), lapsing)


def counts_by(
    people: People,
    by: str,
    *,
    as_of: datetime.date | None,
    today: datetime.date,
    forecast_days: int | None = None,
    department_id: int | None = None,
) -> GroupCounts:
    """Counts per `by` ("department_id" or "role_id") on `as_of` (None: the current answer), narrowed to one
    department when asked. Groups nobody is counted in are absent: the caller names the groups it shows."""
    run = compliance.current_run() if as_of in (None, today) else None  # another day never reads the run
    day = as_of or today
    horizon = datetime.timedelta(days=forecast_days or 0)
    source = source_for(as_of, today=today, until=day + horizon, run_exists=run is not None)
    if source == Source.STORED:
        assert run is not None  # source_for answers STORED only with a run
        day = run.as_of
    counts: dict[int, Counter] = defaultdict(Counter)
    lapsing: dict[int, set[int]] = defaultdict(set)
    lapses_from_periods = source == Source.PERIODS or periods.covers(day, until=day + horizon)
    if lapses_from_periods:
        # Counted by the department or role each person had on `day`, as the computed answer is.
        where = Q() if people.department_ids is None else Q(department_id__in=people.department_ids)
        if department_id is not None:
            where &= Q(department_id=department_id)
        if source == Source.PERIODS:
            counts.update(periods.counts_on(day, where, by=by))
        if forecast_days:
            lapsing_people = periods.lapses_within(day, forecast_days, where).values("employee_id")
            for key, employee_id in (
                periods.employee_periods_on(day, where)
                .filter(employee_id__in=lapsing_people)
                .values_list(by, "employee_id")
            ):
                lapsing[key].add(employee_id)
    if source == Source.STORED:
        stored = EmployeeStatus.objects.filter(run=run, employee__in=people.today.values("id"))
        if department_id is not None:
            stored = stored.filter(employee__department_id=department_id)
        for row in stored.values(f"employee__{by}", "status").annotate(n=Count("id")).order_by():
            counts[row[f"employee__{by}"]][row["status"]] += row["n"]
    if source == Source.COMPUTED or (forecast_days and not lapses_from_periods):
        catalogue = compliance.load_catalogue(day) if forecast_days else None
        employees = people.on_any_day
        if department_id is not None:
            employees = employees.filter(in_departments_on([department_id]))
        for facts, result in compliance.evaluate(employees, day, people.department_ids):
            if department_id is not None and facts.department_id != department_id:
                continue
            key = getattr(facts, by)
            if source == Source.COMPUTED:
                counts[key][result.status.value] += 1
            if (
                catalogue is not None
                and forecast_days
                and engine.forecast_employee(facts, catalogue, day, forecast_days)
            ):
                lapsing[key].add(facts.id)
    return GroupCounts(
        day, source, run if source == Source.STORED else None, counts, lapsing if forecast_days else None
    )
