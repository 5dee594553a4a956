"""The compliance read model: where pages, the API, notifications and exports ask their questions of compliance.

Security rule (written down here, as zulip's narrow.py does for its query builder): this module never decides
who may see whom. Every read that returns people takes the employees, or the department ids, it may answer
about from the caller, already narrowed by `organisation.scoping` (`visible_employees(scope)`,
`overseen_employees(scope)`, `employees_on_any_day(scope)`), and only ever narrows them further. Nothing here
starts from `Employee.objects` or from a department the caller did not pass. Catalogue reads (the any-of
mapping below) say nothing about people and need no scope.

Where an answer comes from (`source_for`), one rule for every caller:
- the stored status periods, when they reach the day (any day: past, today or ahead);
- otherwise for today, the stored results of the current run;
- otherwise the engine, evaluated for that day.
"""

from __future__ import annotations

import datetime
import enum
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from apps.certifications.models import Requirement

from . import periods
from .engine import COMPLIANT_STATUSES, Status


class Source(enum.StrEnum):
    PERIODS = "periods"
    STORED = "stored"
    COMPUTED = "computed"


def source_for(day: datetime.date, *, today: datetime.date) -> Source:
    if periods.covers(day):
        return Source.PERIODS
    if day == today:
        return Source.STORED
    return Source.COMPUTED


def requirement_any_of() -> defaultdict[int, frozenset[int]]:
    """Each requirement's any-of set of certification types, in one query; a requirement without one maps to
    the empty set (HR has not filled it yet, and nothing can meet it)."""
    sets: defaultdict[int, set[int]] = defaultdict(set)
    for requirement_id, type_id in Requirement.any_of.through.objects.values_list(
        "requirement_id", "certificationtype_id"
    ):
        sets[requirement_id].add(type_id)
    return defaultdict(frozenset, {key: frozenset(value) for key, value in sets.items()})


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
