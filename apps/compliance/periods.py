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
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from django.core.cache import cache
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Greatest, Least

from apps.organisation.scoping import Scope

from . import timeline
from .engine import ATTENTION_STATUSES, COMPLIANT_STATUSES, NON_COMPLIANT_STATUSES, Status
from .models import EmployeePeriod, RequirementPeriod, TimelineState

ONE_DAY = datetime.timedelta(days=1)
T = TypeVar("T")
_COMPLIANT = [s.value for s in COMPLIANT_STATUSES]
_NON_COMPLIANT = [s.value for s in NON_COMPLIANT_STATUSES]
_ATTENTION = [s.value for s in ATTENTION_STATUSES]
RENEWAL_HORIZONS = (30, 60, 90)
EVERYONE = Q()  # no narrowing: HR's scope
CACHE_SECONDS = 6 * 3600  # a version's tallies; a write moves the version, so this only bounds the memory


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
    (key 0 when None). Read from the covering index on (valid_from, valid_to), and kept in the cache under the
    periods' version (TimelineState.version, moved by every write), so a day asked again is one small query."""

    def tally():
        fields = [by, "status"] if by else ["status"]
        counts: dict[int, Counter] = {}
        rows = employee_periods_on(day, condition).values(*fields).annotate(n=Sum(Value(1))).order_by()
        for row in rows:
            counts.setdefault(row[by] if by else 0, Counter())[row["status"]] = row["n"]
        return counts

    return _cached("counts", (day, condition, by), tally)


def _cached(name: str, asked: tuple, compute: Callable[[], T]) -> T:
    """`compute()`, kept in the cache under the periods' version (TimelineState.version, moved by every write
    in the writer's transaction), so a tally asked again costs one small query until the periods change."""
    version = TimelineState.objects.values_list("version", flat=True).first()
    if version is None:
        return compute()
    key = f"timeline:{version}:{name}:{hashlib.sha1(repr(asked).encode()).hexdigest()}"
    cached = cache.get(key)
    if cached is None:
        cached = compute()
        cache.set(key, cached, CACHE_SECONDS)
    return cached


@dataclass(frozen=True)
class Figures:
    """What one day's overview counts, each figure named by what it counts: people (by their overall status),
    mandatory requirement rows (one per person and requirement), or cards to renew (one per card, however
    many requirements it keeps met). The dashboard and `seed_demo`'s summary both read these."""

    day: datetime.date
    people: list[tuple[int, int, str, int]]  # (department_id, role_id, overall status, people)
    requirements: list[tuple[int, str, int]]  # (requirement_id, status, mandatory requirement rows)
    attention: QuerySet[RequirementPeriod]  # the mandatory requirement rows needing attention now
    people_renewing: dict[int, int]  # horizon in days -> people with a card to renew by then
    cards_per_day: list[tuple[datetime.date, int]]  # expiry day -> cards to renew that day

    @property
    def people_by_status(self) -> Counter:
        counts: Counter = Counter()
        for *_, status, n in self.people:
            counts[status] += n
        return counts

    @property
    def rows_by_status(self) -> Counter:
        counts: Counter = Counter()
        for _, status, n in self.requirements:
            counts[status] += n
        return counts

    @property
    def attention_rows(self) -> int:
        rows = self.rows_by_status
        return sum(rows[status] for status in _ATTENTION)

    def cards_to_renew(self, within_days: int) -> int:
        last = self.day + datetime.timedelta(days=within_days)
        return sum(n for on, n in self.cards_per_day if on <= last)


def figures_on(
    day: datetime.date,
    condition: Q = EVERYONE,
    *,
    status: Status | None = None,
    requirement_ids: Iterable[int] | None = None,
) -> Figures:
    """The overview's figures on `day` for the people and requirement periods `condition` selects, in four
    GROUP BYs. `status`: only people whose overall status it is; `requirement_ids`: only those requirements
    (a certification filter), and only the people who have one of them."""
    rows = requirement_periods_on(day, condition).filter(mandatory=True)
    people = employee_periods_on(day, condition)
    if status is not None:
        people = people.filter(status=status.value)
        rows = rows.filter(employee_id__in=people.values("employee_id"))
    if requirement_ids is not None:
        rows = rows.filter(requirement_id__in=list(requirement_ids))
        people = people.filter(employee_id__in=rows.values("employee_id"))
    renewing = rows.filter(
        status__in=_COMPLIANT,
        expires_on__gte=day,
        expires_on__lte=day + datetime.timedelta(days=max(RENEWAL_HORIZONS)),
    )

    def tallies():
        within = renewing.aggregate(
            **{
                f"d{days}": Count(
                    "employee_id", distinct=True, filter=Q(expires_on__lte=day + datetime.timedelta(days))
                )
                for days in RENEWAL_HORIZONS
            }
        )
        people_rows = people.values("department_id", "role_id", "status").annotate(n=Count("employee_id"))
        requirement_rows = rows.values("requirement_id", "status").annotate(n=Count("employee_id"))
        return (
            [(row["department_id"], row["role_id"], row["status"], row["n"]) for row in people_rows.order_by()],
            [(row["requirement_id"], row["status"], row["n"]) for row in requirement_rows.order_by()],
            {days: within[f"d{days}"] for days in RENEWAL_HORIZONS},
            # Cards, not rows: an ED nurse's BLS keeps her BLS and ACLS requirements met, one renewal.
            [
                (on, n)
                for on, n in renewing.values("expires_on")
                .annotate(n=Count("renew_credential_id", distinct=True))
                .order_by("expires_on")
                .values_list("expires_on", "n")
                if on is not None  # the filter on expires_on leaves none; this tells the type checker
            ],
        )

    asked = (day, condition, status, sorted(requirement_ids) if requirement_ids is not None else None)
    people_tally, requirement_tally, people_renewing, cards_per_day = _cached("figures", asked, tallies)
    return Figures(
        day=day,
        people=people_tally,
        requirements=requirement_tally,
        attention=rows.filter(status__in=_ATTENTION),
        people_renewing=people_renewing,
        cards_per_day=cards_per_day,
    )


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
