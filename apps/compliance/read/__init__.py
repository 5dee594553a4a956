"""The compliance read model: the one place pages, the API, notifications and exports ask compliance questions.

Security rule (written down here, as zulip's narrow.py does for its query builder): this package never decides
who may see whom, and never widens what it is given. Every read that returns or counts people starts from a
`People` (built by `People.overseen(scope)`, from `organisation.scoping`) or from employees, or department ids,
the caller took from `organisation.scoping` (`visible_employees(scope)`, `overseen_employees(scope)`,
`employees_on_any_day(scope)`), and only ever narrows them further (a filter, a day, a department the filter form
offered). Nothing here starts from `Employee.objects`, `EmployeeStatus.objects` or the periods without that
narrowing, except to name people already found through it. Catalogue reads (the any-of mapping, the names of
departments, roles and types) say nothing about people and need no scope.

Where an answer comes from (`source_for`), one rule for every caller:
- asked for no day in particular (the API's default), the stored results of the current run;
- the stored status periods, when they reach the day (any day: past, today or ahead; for a forecast, every
  day up to its horizon);
- otherwise for today, the stored results of the current run (an explicit "as of today" included);
- otherwise, or before the first run, the engine, evaluated for that day.

Modules: this one holds the rule, `People`, `Filters`, `Tally` and the any-of mapping; `rows` the requirement and
people rows with filters (today's lists); `overview` the counts grouped by department, role and certification
for any day (the dashboard), the trend and the gaps; `groups` the same counts for the API's roll-ups;
`forecast` who lapses within a horizon.
"""

from __future__ import annotations

import datetime
import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import QuerySet

from apps.certifications.models import Requirement
from apps.organisation import scoping
from apps.organisation.models import Employee
from apps.organisation.scoping import Scope

from .. import periods, selectors
from ..engine import COMPLIANT_STATUSES, CatalogueHistory, Status


class Source(enum.StrEnum):
    PERIODS = "periods"
    STORED = "stored"
    COMPUTED = "computed"


def source_for(
    day: datetime.date | None,
    *,
    today: datetime.date,
    until: datetime.date | None = None,
    run_exists: bool = True,
) -> Source:
    """Where the answer for `day` comes from (the rule in the package's docstring). `day=None`: no day asked;
    `until`: the answer needs every day up to it (a forecast); `run_exists=False`: no scan has run yet. The run
    matters for today only: a caller asking about another day need not look it up."""
    if day is None:
        if run_exists:
            return Source.STORED
        day = today
    if periods.covers(day, until=until):
        return Source.PERIODS
    if day == today and run_exists:
        return Source.STORED
    return Source.COMPUTED


@dataclass(frozen=True)
class People:
    """Whom a read may answer about, as `organisation.scoping` narrowed them for one caller (never widened here)."""

    today: QuerySet[Employee]  # in scope today: whom the current run's stored results may show
    on_any_day: QuerySet[Employee]  # everyone who may have been in scope on another day (a superset: transferees)
    department_ids: frozenset[int] | None  # narrows on_any_day, and the periods, to that day's departments (None: all)

    @classmethod
    def overseen(cls, scope: Scope) -> People:
        """Whom a dashboard, roll-up, list or export counts: HR everyone, a manager their departments, never the
        user themselves. Today that is who is employed today (staff who left drop out after their last day); on
        another day, whoever was in those departments then (leavers included, for the days they worked)."""
        on_any_day, department_ids = scoping.overseen_employees_on_any_day(scope)
        return cls(scoping.overseen_employees(scope), on_any_day, department_ids)


def requirement_any_of() -> defaultdict[int, frozenset[int]]:
    """Each requirement's any-of set of certification types, in one query; a requirement without one maps to
    the empty set (HR has not filled it yet, and nothing can meet it)."""
    sets: defaultdict[int, set[int]] = defaultdict(set)
    for requirement_id, type_id in Requirement.any_of.through.objects.values_list(
        "requirement_id", "certificationtype_id"
    ):
        sets[requirement_id].add(type_id)
    return defaultdict(frozenset, {key: frozenset(value) for key, value in sets.items()})


def requirement_codes(requirement_ids: Iterable[int] | None = None) -> dict[int, list[str]]:
    """{requirement id: the codes of its any-of set, sorted} in one query (the whole catalogue when ids is None)."""
    through = Requirement.any_of.through.objects.all()
    if requirement_ids is not None:
        through = through.filter(requirement_id__in=set(requirement_ids))
    codes: dict[int, list[str]] = defaultdict(list)
    for requirement_id, code in through.values_list("requirement_id", "certificationtype__code"):
        codes[requirement_id].append(code)
    return {key: sorted(value) for key, value in codes.items()}


def requirement_codes_on(day: datetime.date, history: CatalogueHistory | None = None) -> dict[int, list[str]]:
    """{requirement id: codes of its any-of set as it stood on `day`}, for answers about a past day (a set HR has
    changed since, or a requirement deleted since, reads as it was). From `history` when the caller has it."""
    return {pk: list(requirement.codes) for pk, requirement in selectors.requirements_as_of(day, history).items()}


def requirements_met_by(type_id: int) -> QuerySet:
    """The ids of the requirements a certification type can meet (a subquery: it names no people)."""
    return Requirement.any_of.through.objects.filter(certificationtype_id=type_id).values("requirement_id")


@dataclass(frozen=True)
class Tally:
    """Counts by status for one slice (a department, a role, a certification type, or everyone): people, or
    requirement rows when the slice is a certification type. Pages, the API and the digests count with it."""

    key: int
    label: str
    counts: Mapping[str, int]
    lapsing: int | None = None  # with a forecast: the people in the slice who lapse within it

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def compliant(self) -> int:
        return sum(n for status, n in self.counts.items() if Status(status) in COMPLIANT_STATUSES)

    @property
    def not_compliant(self) -> int:
        return self.total - self.compliant

    @property
    def rate(self) -> float | None:
        return self.compliant / self.total if self.total else None

    def count(self, status: Status) -> int:
        return self.counts.get(status.value, 0)

    @property
    def status_counts(self) -> dict[str, int]:
        """Every status, zero included."""
        return {status.value: self.count(status) for status in Status}


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
