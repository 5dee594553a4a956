"""The unit x certification matrix: for each department and each certification type, how many of the mandatory
requirements that type can satisfy are met today, from the current run's stored results.

One GROUP BY query over the stored results (department, requirement, status), spread over each requirement's
any-of set in Python, as the dashboard's "by certification" roll-up does: "BLS or CPR" counts under both.
It reads the stored results through the compliance read model's rows (`read.rows`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Count, QuerySet

from apps.compliance import read
from apps.compliance import selectors as compliance
from apps.compliance.read import Filters, Tally
from apps.compliance.read.overview import Catalogue
from apps.compliance.read.rows import stored_requirement_statuses
from apps.organisation.models import Department, Employee

# Bands are a reading aid for HR, not a rule of the domain: every cell also says its rate and counts in words.
GOOD_FROM = 0.95
FAIR_FROM = 0.80


class Band(StrEnum):
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"
    NONE = "none"


BAND_WORDS = {
    Band.GOOD: f"{GOOD_FROM:.0%} or more",
    Band.FAIR: f"{FAIR_FROM:.0%} to {GOOD_FROM:.0%}",
    Band.POOR: f"under {FAIR_FROM:.0%}",
    Band.NONE: "no one needs it",
}


def band(rate: float | None) -> Band:
    if rate is None:
        return Band.NONE
    if rate >= GOOD_FROM:
        return Band.GOOD
    return Band.FAIR if rate >= FAIR_FROM else Band.POOR


class Cell(Tally):
    """One department x certification type: the read model's tally of the requirement rows the type can satisfy."""

    @property
    def type_id(self) -> int:
        return self.key

    @property
    def band(self) -> Band:
        return band(self.rate)


@dataclass(frozen=True)
class Matrix:
    departments: list[Department]
    types: list  # certification types with at least one cell, in catalogue order
    rows: list[tuple[Department, list[Cell]]]


def unit_certification_matrix(*, employees: QuerySet[Employee], catalogue: Catalogue, filters: Filters) -> Matrix:
    run = compliance.current_run()
    results = stored_requirement_statuses(run, employees, filters)
    any_of = read.requirement_any_of()
    counts: dict[tuple[int, int], Counter] = defaultdict(Counter)
    for row in results.values("employee__department_id", "requirement_id", "status").annotate(n=Count("id")).order_by():
        for type_id in any_of[row["requirement_id"]]:
            if not filters.certification_id or type_id == filters.certification_id:
                counts[(row["employee__department_id"], type_id)][row["status"]] += row["n"]
    used = {type_id for _, type_id in counts}
    types = [t for t in catalogue.types if t.pk in used]
    departments = [d for d in catalogue.departments if any((d.pk, t.pk) in counts for t in types)]
    rows = [
        (department, [Cell(t.pk, t.code, counts.get((department.pk, t.pk), Counter())) for t in types])
        for department in departments
    ]
    return Matrix(departments=departments, types=types, rows=rows)
