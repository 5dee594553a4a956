"""The dashboard's questions for any day: people counted by status and grouped by department, role and
certification, the requirement rows needing attention, renewals ahead, the weekly trend and the gaps of a window.

`overview` answers the day from where `source_for` says: the periods (indexed look-ups and GROUP BYs), the current
run's stored results (a fixed number of GROUP BY queries), or the engine (counted in Python). Each person is
counted in the department and role they had on the day asked.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from apps.certifications.models import CertificationType
from apps.organisation.models import Department, Employee, Role
from apps.organisation.selectors import in_departments_on

from .. import periods
from .. import selectors as compliance
from ..engine import ATTENTION_STATUSES, COMPLIANT_STATUSES, RequirementResult, Status
from ..models import ComplianceRun, Snapshot
from ..periods import RENEWAL_HORIZONS
from . import Filters, People, Source, Tally, requirement_any_of, source_for
from .rows import (
    ProblemRow,
    placed,
    problem_rows,
    renewals,
    stored_employee_statuses,
    stored_requirement_statuses,
    with_people,
)

PREVIEW_ROWS = 10
TREND_WEEKS = 52  # a year of weekly points


@dataclass(frozen=True)
class TrendPoint:
    day: datetime.date
    total: int
    compliant: int

    @property
    def rate(self) -> float | None:
        return self.compliant / self.total if self.total else None


@dataclass
class Overview:
    day: datetime.date
    stored: bool  # True: today's stored results; False: the engine's answer for a past day
    run: ComplianceRun | None
    everyone: Tally
    by_department: list[Tally]
    by_role: list[Tally]
    by_certification: list[Tally]
    attention: list[ProblemRow]
    attention_total: int
    renewals_within: dict[int, int]  # horizon in days -> people with a renewal due by then
    renewals_by_week: list[tuple[datetime.date, int]]
    trend: list[TrendPoint] = field(default_factory=list)


@dataclass(frozen=True)
class Catalogue:
    """The names the pages need, loaded once per request (three small queries)."""

    departments: Sequence[Department]
    roles: Sequence[Role]
    types: Sequence[CertificationType]

    def department_name(self, pk) -> str:
        return _name(self.departments, pk, "Department")

    def role_name(self, pk) -> str:
        return _name(self.roles, pk, "Role")

    def place(self, employee: Employee, department_id, role_id) -> Employee:
        """`employee` as placed on a day other than today, for rows that name their department and role:
        that day's, when the page knows it (an auditor asks where the person stood, not where they stand)."""
        for department in self.departments:
            if department.pk == department_id:
                employee.department = department
        for role in self.roles:
            if role.pk == role_id:
                employee.role = role
        return employee

    def type_name(self, pk) -> str:
        for certification_type in self.types:
            if certification_type.pk == pk:
                return certification_type.code
        return f"Certification #{pk}"


def _name(objects, pk, kind: str) -> str:
    for obj in objects:
        if obj.pk == pk:
            return obj.name
    return f"{kind} #{pk}"


def catalogue_for(departments: QuerySet[Department]) -> Catalogue:
    return Catalogue(
        departments=list(departments),
        roles=list(Role.objects.all()),
        types=list(CertificationType.objects.all()),
    )


def overview(
    people: People, *, filters: Filters, catalogue: Catalogue, day: datetime.date, today: datetime.date
) -> Overview:
    """The overview on `day`, from where `source_for` says it comes from."""
    source = source_for(day, today=today)
    if source == Source.PERIODS:
        return overview_from_periods(
            department_ids=people.department_ids, filters=filters, catalogue=catalogue, day=day, today=today
        )
    if source == Source.STORED:
        return overview_today(employees=people.today, filters=filters, catalogue=catalogue, day=day)
    return overview_on(
        employees=people.on_any_day,
        department_ids=people.department_ids,
        filters=filters,
        catalogue=catalogue,
        day=day,
    )


def overview_today(
    *, employees: QuerySet[Employee], filters: Filters, catalogue: Catalogue, day: datetime.date
) -> Overview:
    run = compliance.current_run()
    statuses = stored_employee_statuses(run, employees, filters)
    counts = [
        (row["employee__department_id"], row["employee__role_id"], row["status"], row["n"])
        for row in statuses.values("employee__department_id", "employee__role_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    ]
    results = stored_requirement_statuses(run, employees, filters)
    # Grouped by requirement, then spread over each requirement's types here: cheaper than joining the any-of set.
    any_of = requirement_any_of()
    by_type = [
        (type_id, row["status"], row["n"])
        for row in results.values("requirement_id", "status").annotate(n=Count("id")).order_by()
        for type_id in any_of[row["requirement_id"]]
    ]
    attention = results.filter(status__in=ATTENTION_STATUSES)
    attention_rows = [
        ProblemRow(r.employee, r.requirement, Status(r.status), r.reason, r.expires_on, r.due_on, r.since)
        for r in with_people(attention).order_by("since", "employee__last_name", "employee__first_name", "id")[
            :PREVIEW_ROWS
        ]
    ]
    renewing = renewals(results, day, max(RENEWAL_HORIZONS))
    within = renewing.aggregate(
        **{
            f"d{days}": Count("employee_id", distinct=True, filter=Q(expires_on__lte=day + datetime.timedelta(days)))
            for days in RENEWAL_HORIZONS
        }
    )
    # Cards to renew, not requirement rows: an ED nurse's BLS keeps her BLS and ACLS rows met, one renewal.
    per_day = (
        renewing.values("expires_on")
        .annotate(n=Count("renew_credential_id", distinct=True))
        .order_by()
        .values_list("expires_on", "n")
    )
    return _overview(
        day=day,
        stored=True,
        run=run,
        counts=counts,
        by_type=by_type,
        catalogue=catalogue,
        filters=filters,
        attention=attention_rows,
        attention_total=attention.count(),
        renewals_within={days: within[f"d{days}"] for days in RENEWAL_HORIZONS},
        renewals_per_day=per_day,
    )


def overview_on(
    *,
    employees: QuerySet[Employee],
    department_ids: Iterable[int] | None,
    filters: Filters,
    catalogue: Catalogue,
    day: datetime.date,
) -> Overview:
    """The same overview as things stood on `day`, with each person's role and department of that day."""
    if filters.department_id:  # one of the caller's departments: the filter form offers no others
        department_ids = {filters.department_id}
        employees = employees.filter(in_departments_on(department_ids))
    history = compliance.load_catalogue_history()  # once: the rules, the any-of sets and the labels of that day
    any_of = {rule.id: rule.any_of for rule in history.on(day).requirements}
    counts: Counter = Counter()
    by_type: Counter = Counter()
    attention: list[tuple[int, RequirementResult]] = []
    placed: dict[int, tuple[int, int]] = {}  # person -> their department and role on `day`
    renewal_cards: dict[datetime.date, set[int | None]] = defaultdict(set)
    renewing_people: dict[int, set[int]] = defaultdict(set)
    last_horizon = day + datetime.timedelta(max(RENEWAL_HORIZONS))
    for facts, result in compliance.evaluate(employees, day, department_ids, catalogues=history):
        if not _matches(facts, result, filters, any_of):
            continue
        counts[(facts.department_id, facts.role_id, result.status.value)] += 1
        for requirement in result.requirements:
            if not requirement.mandatory:
                continue
            if filters.certification_id and filters.certification_id not in any_of[requirement.requirement_id]:
                continue
            for type_id in any_of[requirement.requirement_id]:
                by_type[(type_id, requirement.status.value)] += 1
            if requirement.status in ATTENTION_STATUSES:
                attention.append((facts.id, requirement))
                placed[facts.id] = (facts.department_id, facts.role_id)
            elif (
                requirement.status in COMPLIANT_STATUSES
                and requirement.expires_on is not None
                and day <= requirement.expires_on <= last_horizon
            ):
                # Cards, not rows, as from the stored results and the periods.
                renewal_cards[requirement.expires_on].add(requirement.renew_credential_id)
                for days in RENEWAL_HORIZONS:
                    if requirement.expires_on <= day + datetime.timedelta(days):
                        renewing_people[days].add(facts.id)
    attention.sort(key=lambda item: (item[1].since or day, item[0], item[1].requirement_id))
    preview = problem_rows(attention[:PREVIEW_ROWS], compliance.requirements_as_of(day, history))
    for row in preview:
        catalogue.place(row.employee, *placed[row.employee.pk])
    return _overview(
        day=day,
        stored=False,
        run=None,
        counts=[(*key, n) for key, n in counts.items()],
        by_type=[(*key, n) for key, n in by_type.items()],
        catalogue=catalogue,
        filters=filters,
        attention=preview,
        attention_total=len(attention),
        renewals_within={days: len(renewing_people[days]) for days in RENEWAL_HORIZONS},
        renewals_per_day=[(on, len(cards)) for on, cards in renewal_cards.items()],
    )


def overview_from_periods(
    *,
    department_ids: Iterable[int] | None,
    filters: Filters,
    catalogue: Catalogue,
    day: datetime.date,
    today: datetime.date,
) -> Overview:
    """The overview on `day` (today, past or ahead, within the periods' horizon) as indexed look-ups and
    GROUP BYs, counted by the department and role each person had that day (as `overview_on` does from the
    engine). `department_ids=None`: everyone (HR). Today's overview links to the lists of the current run.
    """
    where = placed(filters) & (Q() if department_ids is None else Q(department_id__in=list(department_ids)))
    history = compliance.load_catalogue_history()
    any_of = {rule.id: rule.any_of for rule in history.on(day).requirements}
    naming = None
    if filters.certification_id:
        naming = [pk for pk, types in any_of.items() if filters.certification_id in types]
    figures = periods.figures_on(day, where, status=filters.status, requirement_ids=naming)
    preview = figures.attention.select_related("employee__department", "employee__role").order_by(
        "since", "employee_id", "requirement_id"
    )[:PREVIEW_ROWS]
    requirements = compliance.requirements_as_of(day, history)  # as they stood that day, deleted since or not
    attention_rows = [
        ProblemRow(
            catalogue.place(r.employee, r.department_id, r.role_id),
            requirements.get(r.requirement_id),
            Status(r.status),
            r.reason,
            r.expires_on,
            r.due_on,
            r.since,
        )
        for r in preview
    ]
    return _overview(
        day=day,
        stored=day == today,
        run=compliance.current_run() if day == today else None,
        counts=figures.people,
        by_type=[
            (type_id, status, n)
            for requirement_id, status, n in figures.requirements
            for type_id in any_of.get(requirement_id, ())
        ],
        catalogue=catalogue,
        filters=filters,
        attention=attention_rows,
        attention_total=figures.attention_rows,
        renewals_within=figures.people_renewing,
        renewals_per_day=figures.cards_per_day,
    )


def _matches(facts, result, filters: Filters, any_of: Mapping[int, frozenset[int]]) -> bool:
    if filters.department_id and facts.department_id != filters.department_id:
        return False
    if filters.role_id and facts.role_id != filters.role_id:
        return False
    if filters.status and result.status != filters.status:
        return False
    if filters.certification_id:
        return any(r.mandatory and filters.certification_id in any_of[r.requirement_id] for r in result.requirements)
    return True


def _overview(*, counts, by_type, catalogue: Catalogue, filters: Filters, renewals_per_day, **fields) -> Overview:
    everyone: Counter = Counter()
    departments: dict[int, Counter] = defaultdict(Counter)
    roles: dict[int, Counter] = defaultdict(Counter)
    for department_id, role_id, status, n in counts:
        everyone[status] += n
        departments[department_id][status] += n
        roles[role_id][status] += n
    types: dict[int, Counter] = defaultdict(Counter)
    for type_id, status, n in by_type:
        if not filters.certification_id or type_id == filters.certification_id:
            types[type_id][status] += n
    return Overview(
        everyone=Tally(0, "Everyone", everyone),
        by_department=_tallies(departments, catalogue.department_name),
        by_role=_tallies(roles, catalogue.role_name),
        by_certification=_tallies(types, catalogue.type_name),
        renewals_by_week=_by_week(fields["day"], renewals_per_day, weeks=13),
        **fields,
    )


def _tallies(groups: Mapping[int, Counter], name) -> list[Tally]:
    return sorted((Tally(key, name(key), counts) for key, counts in groups.items()), key=lambda t: t.label)


def _by_week(day: datetime.date, per_day, weeks: int) -> list[tuple[datetime.date, int]]:
    """Counts per day folded into weeks starting on `day`: week 1 is the next seven days."""
    totals = [0] * weeks
    for when, n in per_day:
        index = (when - day).days // 7
        if 0 <= index < weeks:
            totals[index] += n
    return [(day + datetime.timedelta(weeks=i), n) for i, n in enumerate(totals)]


def trend(*, department_ids: Iterable[int] | None, until: datetime.date, weeks: int = TREND_WEEKS) -> list[TrendPoint]:
    """Weekly compliance from the daily snapshots: the last snapshot of each week, summed over the departments.

    `department_ids=None` reads the organisation's own snapshots.
    """
    snapshots = Snapshot.objects.filter(day__gt=until - datetime.timedelta(weeks=weeks), day__lte=until)
    if department_ids is None:
        snapshots = snapshots.filter(dimension=Snapshot.Dimension.ORGANISATION, key=0)
    else:
        snapshots = snapshots.filter(dimension=Snapshot.Dimension.DEPARTMENT, key__in=list(department_ids))
    per_day: dict[datetime.date, list[int]] = defaultdict(lambda: [0, 0])
    for snapshot in snapshots.order_by("day"):
        per_day[snapshot.day][0] += snapshot.total
        per_day[snapshot.day][1] += snapshot.compliant
    last_of_week: dict[tuple[int, int], datetime.date] = {}
    for day in sorted(per_day):
        last_of_week[day.isocalendar()[:2]] = day
    return [TrendPoint(day, *per_day[day]) for day in sorted(last_of_week.values())]


@dataclass(frozen=True)
class GapRow:
    employee: Employee
    requirement: compliance.RequirementAsOf
    days: int
    first_day: datetime.date
    last_day: datetime.date


@dataclass(frozen=True)
class Gaps:
    """The surveyor's question for a window: who had any gap in a requirement, and for how many days."""

    start: datetime.date
    end: datetime.date
    total: int  # employee x requirement pairs with at least one gap day
    rows: list[GapRow]  # the longest first, up to the limit asked


def gaps(
    *, department_ids: Iterable[int] | None, start: datetime.date, end: datetime.date, limit: int | None = None
) -> Gaps | None:
    """Gaps between `start` and `end` (both included) by the department each person was in on each day;
    None when the stored periods do not reach that far. Three queries however many people."""
    if not periods.covers(start, until=end):
        return None
    where = Q() if department_ids is None else Q(department_id__in=list(department_ids))
    found = periods.gaps(start, end, where)
    page = periods.gap_rows(found[:limit] if limit else found)
    people = Employee.objects.select_related("department", "role").in_bulk({gap.employee_id for gap in page})
    requirements = compliance.requirements_as_of(end)  # as they stood: one deleted since keeps its gaps
    rows = [
        GapRow(people[g.employee_id], requirements[g.requirement_id], g.days, g.first_day, g.last_day)
        for g in page
        if g.employee_id in people and g.requirement_id in requirements
    ]
    return Gaps(start, end, found.count() if limit else len(rows), rows)
