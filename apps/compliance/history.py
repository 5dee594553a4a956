"""Snapshots for days no scan ran on, from the stored status periods: the trend's history.

A scan stores the day's snapshot as it runs; a new installation or a demo has none for the months before its
first scan, so the trend would start as a single dot. The status periods answer any past day in one GROUP BY,
so the weekly history is cheap to fill in: counts per organisation, department and role, as the scan writes
them (certification-type counts are the scan's alone). A day that already has a snapshot keeps it.
"""

import datetime
from collections.abc import Iterable

from . import periods
from .models import Snapshot

_DIMENSIONS = (
    (Snapshot.Dimension.ORGANISATION, None),
    (Snapshot.Dimension.DEPARTMENT, "department_id"),
    (Snapshot.Dimension.ROLE, "role_id"),
)


def weekly_days(*, until: datetime.date, weeks: int) -> list[datetime.date]:
    """The `weeks` days a week apart that end the day before `until`, oldest first."""
    return [until - datetime.timedelta(weeks=n, days=1) for n in range(weeks - 1, -1, -1)]


def snapshots_backfill(*, days: Iterable[datetime.date]) -> int:
    """Store snapshots for those of `days` the periods cover and no snapshot has yet; returns the days filled."""
    days = sorted(set(days))
    taken = set(Snapshot.objects.filter(day__in=days).values_list("day", flat=True).distinct())
    filled = [day for day in days if day not in taken and periods.covers(day)]
    rows = [
        Snapshot(day=day, dimension=dimension, key=key, total=sum(counts.values()), counts=dict(counts))
        for day in filled
        for dimension, by in _DIMENSIONS
        for key, counts in periods.counts_on(day, by=by).items()
        if key is not None
    ]
    Snapshot.objects.bulk_create(rows, batch_size=2000)
    return len(filled)
