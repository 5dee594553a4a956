"""People a batch job had to skip: recorded for HR (admin, "Data problems") and logged, never fatal.

A batch (the scan, reminder planning, digests, exports) evaluates person after person. One person
whose data it cannot handle (a date no rule can compute with, a value the database refuses) must not
stop everyone else's reminders: the job skips them, calls `problems_record`, and goes on.
"""

import datetime
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from django.db import DataError, connection, transaction
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from .models import DataProblem, Employee

logger = logging.getLogger(__name__)
REASON_LIMIT = 2000
T = TypeVar("T")
EMPLOYEE_DATES = ("hired_on", "assigned_on", "terminated_on")


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


def unreadable_people(rows: QuerySet, *, employee: str, dates: Sequence[str]) -> dict[int, str]:
    """The people whose rows among `rows` hold a date PostgreSQL keeps and Python cannot read ('infinity', a
    year before 1), with the reason: asked of the database in one query, before a stream of rows starts, so
    the stream can leave them out instead of breaking halfway. `employee` is the path to the employee's id.
    (SQLite stores dates as text that Django parses; nothing there is out of Python's range.)"""
    if connection.vendor != "postgresql" or not dates:
        return {}
    outside = Q()
    for name in dates:
        outside |= Q(**{f"{name}__gt": datetime.date.max}) | Q(**{f"{name}__lt": datetime.date.min})
    found: dict[int, list[str]] = {}
    texts = [Cast(name, output_field=TextField()) for name in dates]
    for pk, *values in rows.filter(outside).order_by().values_list(employee, *texts).distinct():
        found.setdefault(pk, []).extend(
            f"{name.rsplit('__', 1)[-1]} is {value!r}"
            for name, value in zip(dates, values, strict=True)
            if value is not None and not _python_date(value)
        )
    return {pk: unreadable(DataError("; ".join(sorted(set(reasons))))) for pk, reasons in found.items()}


def _python_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def unreadable_recorded(rows: QuerySet, *, source: str, employee: str, dates: Sequence[str]) -> list[int]:
    """`unreadable_people` of `rows`, recorded as `source`'s data problems; the people of `rows` who read
    cleanly now come off `source`'s list (two queries when all is well). Returns the ids to leave out."""
    skipped = unreadable_people(rows, employee=employee, dates=dates)
    DataProblem.objects.filter(source=source, employee_id__in=rows.order_by().values(employee)).exclude(
        employee_id__in=list(skipped)
    ).delete()
    problems_record(source=source, problems=skipped)
    return list(skipped)


def leave_out_unreadable(rows: QuerySet, *, source: str, employee: str, dates: Sequence[str]) -> QuerySet:
    """`rows` without the people whose rows cannot be read (`unreadable_recorded`)."""
    skipped = unreadable_recorded(rows, source=source, employee=employee, dates=dates)
    return rows.exclude(**{f"{employee}__in": skipped}) if skipped else rows
