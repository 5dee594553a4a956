"""People a batch job had to skip: recorded for HR (admin, "Data problems") and logged, never fatal.

A batch (the scan, reminder planning, digests, exports) evaluates person after person. One person
whose data it cannot handle (a date no rule can compute with, a value the database refuses) must not
stop everyone else's reminders: the job skips them, calls `problems_record`, and goes on.
"""

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from django.db import DataError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import DataProblem, Employee

logger = logging.getLogger(__name__)
REASON_LIMIT = 2000
T = TypeVar("T")


def describe(error: BaseException) -> str:
    """A reason HR can act on: the error's own words, with its kind for whoever reads the log."""
    return f"{type(error).__name__}: {error}"[:REASON_LIMIT]


def problems_record(*, source: str, problems: Mapping[int, str]) -> None:
    """Record (or refresh) why each of these employees was skipped by `source`. Two queries per call."""
    if not problems:
        return
    for employee_id, reason in problems.items():
        logger.warning("%s skipped employee %s: %s", source, employee_id, reason)
    now = timezone.now()
    rows = [
        DataProblem(employee_id=employee_id, source=source, reason=reason[:REASON_LIMIT], first_seen=now, last_seen=now)
        for employee_id, reason in problems.items()
    ]
    with transaction.atomic():
        DataProblem.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["employee", "source"],
            update_fields=["reason", "last_seen"],
        )


def problems_clear(*, source: str, employee_ids: Iterable[int] | QuerySet | None = None) -> int:
    """Forget `source`'s problems for these employees (all of them if None): it handled them cleanly."""
    rows = DataProblem.objects.filter(source=source)
    if employee_ids is not None:
        rows = rows.filter(employee_id__in=employee_ids)
    return rows.delete()[0]


def unreadable(error: BaseException) -> str:
    return (
        f"{describe(error)} (a stored value the application cannot read, written past the checks: "
        "correct it in the database)"
    )[:REASON_LIMIT]


def isolate(
    people: QuerySet[Employee], attempt: Callable[[QuerySet[Employee]], list[T]], skipped: dict[int, str]
) -> list[T]:
    """`attempt(people)`; if loading them meets a value the database driver cannot read (a date of 'infinity' or
    before year 1, put there past the validators), halve the people and try again until whoever holds it is
    alone, and put them in `skipped`. No extra query when the data is sound; a few per bad person otherwise.

    Such a DataError is raised while decoding the fetched rows, in this process: the transaction is unharmed.
    """
    try:
        return attempt(people)
    except DataError as error:
        ids = list(people.values_list("id", flat=True))
        if len(ids) <= 1:
            for pk in ids:
                skipped[pk] = unreadable(error)
            return []
        middle = len(ids) // 2
        return isolate(people.filter(id__in=ids[:middle]), attempt, skipped) + isolate(
            people.filter(id__in=ids[middle:]), attempt, skipped
        )
