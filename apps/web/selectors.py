"""Reads behind the dashboards, lists, reports and self-service pages.

Callers scope first (apps.organisation.scoping) and pass the scoped employee queryset in; nothing
here decides who may see what. Today's answers come from the stored results of the current
compliance run, in a fixed number of GROUP BY queries however many people are in scope. A past
day's answers come from the engine (compliance.selectors.evaluate) and are counted in Python.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils.text import capfirst

from apps.certifications.models import CertificationType, Credential, Requirement
from apps.compliance import periods, read
from apps.compliance import selectors as compliance
from apps.compliance.engine import ATTENTION_STATUSES, COMPLIANT_STATUSES, Lapse, RequirementResult, Status
from apps.compliance.models import ComplianceRun, EmployeeStatus, RequirementPeriod, RequirementStatus, Snapshot
from apps.compliance.read import Tally
from apps.core import clock
from apps.notifications.models import Notification
from apps.organisation.models import Department, Employee, EmployeeQuerySet, Role
from apps.organisation.selectors import in_departments_on

RENEWAL_HORIZONS = periods.RENEWAL_HORIZONS
PREVIEW_ROWS = 10
TREND_WEEKS = 52  # a year of weekly points
HISTORY_ROWS = 60


@dataclass(frozen=True)
class Filters:
    department_id: int | None = None
    role_id: int | None = None
    status: Status | None = None
    certification_id: int | None = None

    @property
    def narrows_people(self) -> bool:
        """Filters the trend cannot follow: snapshots are kept per department, not per role, status or card."""
        return bool(self.role_id or self.status or self.certification_id)


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


# Today, from stored results ---------------------------------------------------------------------


def stored_employee_statuses(run: ComplianceRun | None, employees: QuerySet[Employee], filters: Filters):
    statuses = EmployeeStatus.objects.filter(run=run, employee__in=employees.values("id"))
    if filters.department_id:
        statuses = statuses.filter(employee__department_id=filters.department_id)
    if filters.role_id:
        statuses = statuses.filter(employee__role_id=filters.role_id)
    if filters.status:
        statuses = statuses.filter(status=filters.status)
    if filters.certification_id:
        statuses = statuses.filter(employee_id__in=_holders_of_requirement(run, filters.certification_id))
    return statuses


def _holders_of_requirement(run, certification_id: int):
    """Employees with a mandatory requirement that this certification type satisfies."""
    return RequirementStatus.objects.filter(run=run, mandatory=True, requirement__any_of=certification_id).values(
        "employee_id"
    )


def stored_requirement_statuses(run: ComplianceRun | None, employees: QuerySet[Employee], filters: Filters):
    """Mandatory requirement results of the filtered people (a certification filter narrows to its requirements)."""
    results = RequirementStatus.objects.filter(run=run, mandatory=True, employee__in=employees.values("id"))
    if filters.department_id:
        results = results.filter(employee__department_id=filters.department_id)
    if filters.role_id:
        results = results.filter(employee__role_id=filters.role_id)
    if filters.status:
        results = results.filter(
            employee_id__in=EmployeeStatus.objects.filter(run=run, status=filters.status).values("employee_id")
        )
    if filters.certification_id:
        results = results.filter(requirement__any_of=filters.certification_id)
    return results


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
    any_of = read.requirement_any_of()
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


def renewals(results: QuerySet[RequirementStatus], day: datetime.date, within_days: int):
    """Requirements met today whose card (or its prerequisite) runs out within `within_days`."""
    return results.filter(
        status__in=COMPLIANT_STATUSES, expires_on__gte=day, expires_on__lte=day + datetime.timedelta(within_days)
    )


def with_people(results: QuerySet[RequirementStatus]) -> QuerySet[RequirementStatus]:
    return results.select_related("employee__department", "employee__role", "requirement").prefetch_related(
        "requirement__any_of"
    )


# A past day, from the engine ---------------------------------------------------------------------


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
    return _overview(
        day=day,
        stored=False,
        run=None,
        counts=[(*key, n) for key, n in counts.items()],
        by_type=[(*key, n) for key, n in by_type.items()],
        catalogue=catalogue,
        filters=filters,
        attention=problem_rows(attention[:PREVIEW_ROWS], compliance.requirements_as_of(day, history)),
        attention_total=len(attention),
        renewals_within={days: len(renewing_people[days]) for days in RENEWAL_HORIZONS},
        renewals_per_day=[(on, len(cards)) for on, cards in renewal_cards.items()],
    )


# Any day within the horizon, from the stored status periods ---------------------------------------


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
    where = Q() if department_ids is None else Q(department_id__in=list(department_ids))
    if filters.department_id:
        where &= Q(department_id=filters.department_id)
    if filters.role_id:
        where &= Q(role_id=filters.role_id)
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
            r.employee, requirements.get(r.requirement_id), Status(r.status), r.reason, r.expires_on, r.due_on, r.since
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
    where = Q() if department_ids is None else Q(department_id__in=list(department_ids))
    if filters.department_id:
        where &= Q(department_id=filters.department_id)
    if filters.role_id:
        where &= Q(role_id=filters.role_id)
    lapses = periods.lapses_within(day, horizon_days, where)
    if filters.certification_id:
        lapses = lapses.filter(
            requirement_id__in=Requirement.any_of.through.objects.filter(
                certificationtype_id=filters.certification_id
            ).values("requirement_id")
        )
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


# Shared roll-ups --------------------------------------------------------------------------------


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


# Lists ----------------------------------------------------------------------------------------


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
    if filters.department_id:
        people = people.filter(department_id=filters.department_id)
    if filters.role_id:
        people = people.filter(role_id=filters.role_id)
    if filters.status:
        people = people.filter(compliance_status=filters.status)
    if filters.certification_id:
        people = people.filter(pk__in=_holders_of_requirement(run, filters.certification_id))
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


def forecast_list(
    *, employees: QuerySet[Employee], filters: Filters, day: datetime.date, horizon_days: int
) -> list[Lapse]:
    """Who stops being compliant within `horizon_days` if nobody renews, soonest first (the engine's answer)."""
    if filters.department_id:
        employees = employees.filter(department_id=filters.department_id)
    if filters.role_id:
        employees = employees.filter(role_id=filters.role_id)
    lapses = compliance.forecast(employees, day, horizon_days)
    if filters.status:
        lapses = [lapse for lapse in lapses if lapse.status == filters.status]
    if filters.certification_id:
        naming = set(
            Requirement.any_of.through.objects.filter(certificationtype_id=filters.certification_id).values_list(
                "requirement_id", flat=True
            )
        )
        lapses = [lapse for lapse in lapses if lapse.requirement_id in naming]
    return lapses


# One person -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequirementLine:
    requirement: Requirement | compliance.RequirementAsOf
    result: RequirementResult
    awaiting_hr: bool = False  # the credential behind this answer is proof HR has not verified yet

    @property
    def status(self) -> Status:
        return self.result.status


@dataclass(frozen=True)
class PersonCompliance:
    status: Status
    lines: list[RequirementLine]


def person_compliance(employee: Employee, day: datetime.date) -> PersonCompliance | None:
    """One person's requirements as the engine answers them right now (fresh after an upload or a decision).

    None when they are not employed on `day`.
    """
    answers = list(compliance.evaluate(Employee.objects.filter(pk=employee.pk), day))
    if not answers:
        return None
    facts, result = answers[0]
    pending = {c.id for c in facts.credentials if c.verification == Credential.Verification.PENDING}
    requirements: Mapping[int, Requirement | compliance.RequirementAsOf]
    if day < clock.today():  # as they stood that day, not as today's table has them (changed or deleted since)
        requirements = compliance.requirements_as_of(day)
    else:
        requirements = Requirement.objects.prefetch_related("any_of").in_bulk(
            [r.requirement_id for r in result.requirements]
        )
    lines = [
        RequirementLine(requirements[r.requirement_id], r, awaiting_hr=r.credential_id in pending)
        for r in result.requirements
    ]
    lines.sort(key=lambda line: (not line.result.mandatory, -line.status.severity))
    return PersonCompliance(result.status, lines)


def person_credentials(employee: Employee) -> QuerySet[Credential]:
    return employee.credentials.select_related("certification_type", "verified_by").order_by(
        "certification_type__code", "-issued_on"
    )


@dataclass(frozen=True)
class Change:
    when: datetime.datetime
    who: object
    subject: str
    kind: str
    details: list[str]


_HISTORY_KINDS = {"+": "Created", "~": "Changed", "-": "Deleted"}
_EMPLOYEE_FIELDS = [
    "employee_number",
    "first_name",
    "last_name",
    "email",
    "role",
    "department",
    "hired_on",
    "assigned_on",
    "terminated_on",
]
_CREDENTIAL_FIELDS = ["issued_on", "expires_on", "issuer", "card_number", "proof", "verification", "rejection_reason"]


def person_history(employee: Employee, limit: int | None = HISTORY_ROWS) -> list[Change]:
    """What changed on the person's record and credentials, newest first, from simple-history (two queries)."""
    employee_versions = (
        Employee.history.filter(id=employee.pk)
        .select_related("history_user", "role", "department")
        .order_by("history_date")
    )
    credential_versions = (
        Credential.history.filter(employee_id=employee.pk)
        .select_related("history_user", "certification_type")
        .order_by("id", "history_date")
    )
    changes = [
        *_changes(employee_versions, _EMPLOYEE_FIELDS, lambda v: "Employee record"),
        *_changes(
            credential_versions,
            _CREDENTIAL_FIELDS,
            lambda v: f"{v.certification_type.code if v.certification_type else 'Card'} issued {v.issued_on}",
        ),
    ]
    changes.sort(key=lambda change: change.when, reverse=True)
    return changes[:limit]


def _changes(versions, fields: list[str], subject) -> list[Change]:
    changes: list[Change] = []
    previous: dict[int, dict] = {}
    for version in versions:
        before = previous.get(version.id)
        details = []
        if before is not None and version.history_type == "~":
            delta = version.diff_against(before, included_fields=fields, foreign_keys_are_objs=True)
            for change in delta.changes:
                label = capfirst(version._meta.get_field(change.field).verbose_name)
                if change.field == "proof":
                    details.append("a new proof file was attached" if change.new else "the proof file was removed")
                else:
                    details.append(f"{label}: {_shown(change.old)} → {_shown(change.new)}")
        previous[version.id] = version
        if before is not None and version.history_type == "~" and not details:
            continue  # a save that changed nothing a person would notice
        changes.append(
            Change(
                when=version.history_date,
                who=version.history_user,
                subject=subject(version),
                kind=_HISTORY_KINDS.get(version.history_type, version.history_type),
                details=details,
            )
        )
    return changes


def _shown(value) -> str:
    return "—" if value in (None, "") else str(value)


# The audit report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditLine:
    requirement: compliance.RequirementAsOf
    result: RequirementResult
    credential: Credential | None


@dataclass(frozen=True)
class AuditPerson:
    employee: Employee
    role: str
    status: Status
    lines: list[AuditLine]
    findings: list[str]


@dataclass(frozen=True)
class AuditReport:
    department: Department
    day: datetime.date
    everyone: Tally
    people: list[AuditPerson]
    # The catalogue applied: the one in force on `day`, last changed then (None: as first loaded).
    catalogue_changed_on: datetime.date | None = None
    gaps: Gaps | None = None  # with a survey window: who had a gap in it, and for how many days


def audit(
    *,
    employees: QuerySet[Employee],
    department: Department,
    day: datetime.date,
    catalogue: Catalogue,
    window_start: datetime.date | None = None,
) -> AuditReport:
    """Everyone in the department on `day`, each requirement's status then, and the card that met it."""
    employees = employees.filter(in_departments_on([department.pk]))
    answers = list(compliance.evaluate(employees, day, [department.pk]))
    # Whole sets by subquery rather than long id lists: a fixed number of queries for any department size.
    people = {person.pk: person for person in employees}
    # The requirements as they stood that day: one since changed or deleted reads as it did then.
    requirements = compliance.requirements_as_of(day)
    credentials = {
        card.pk: card for card in Credential.objects.filter(employee__in=employees).select_related("certification_type")
    }
    rows = [
        AuditPerson(
            employee=people[facts.id],
            role=catalogue.role_name(facts.role_id),
            status=result.status,
            lines=[
                AuditLine(
                    requirements[r.requirement_id], r, credentials.get(r.credential_id) if r.credential_id else None
                )
                for r in sorted(result.requirements, key=lambda r: (not r.mandatory, r.requirement_id))
            ],
            findings=[finding.message for finding in result.findings],
        )
        for facts, result in answers
        if facts.id in people
    ]
    rows.sort(key=lambda row: (row.employee.last_name, row.employee.first_name, row.employee.employee_number))
    return AuditReport(
        department=department,
        day=day,
        everyone=Tally(0, department.name, Counter(row.status.value for row in rows)),
        people=rows,
        catalogue_changed_on=compliance.load_catalogue(day).changed_on,
        gaps=gaps(department_ids=[department.pk], start=window_start, end=day) if window_start else None,
    )


def person_reminders(employee: Employee, limit: int = HISTORY_ROWS):
    """Emails about this person (reminders to them, escalations about them), newest first."""
    return Notification.objects.filter(employee=employee).select_related("credential__certification_type")[:limit]
