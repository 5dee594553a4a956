"""Status periods: each person's compliance as a sequence of [valid_from, valid_to) spans. No Django.

A status can only change on a day the person's data names: a card issued, the day after an (effective)
expiry, a renewal window opening, a due date and the day after it, a hire, the day after a termination, an
assignment, a catalogue version taking effect. `build` evaluates the engine (the reference) on exactly
those days and collapses equal consecutive answers into periods, so a look-up of any day inside a period
gives what `engine.evaluate_employee` gives on that day. Periods are exact up to the horizon asked for; the
last one of a series runs on (`OPEN_END`) until the next change past the horizon, which the nightly
extension computes once the horizon reaches it.

Everything here takes plain data and returns tuples ready for COPY, so the rebuild streams them straight
into the database without building model instances.
"""

from __future__ import annotations

import bisect
import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from . import engine

ONE_DAY = datetime.timedelta(days=1)
# A period that runs past the horizon ends on the next change not computed yet: stored as the largest date,
# so "valid_from <= D < valid_to" holds for it; readers only trust days before the horizon.
OPEN_END = datetime.date.max


@dataclass(frozen=True, slots=True)
class Assignment:
    """A role and department in force from `assigned_on` (an effective date) until the next assignment."""

    assigned_on: datetime.date
    role_id: int
    department_id: int


@dataclass(frozen=True, slots=True)
class PersonHistory:
    """Everything that decides one employee's statuses on any day: employment, assignments, credentials."""

    employee_id: int
    hired_on: datetime.date
    terminated_on: datetime.date | None
    assignments: tuple[Assignment, ...]  # sorted by assigned_on, one per day
    credentials: tuple[engine.CredentialFact, ...]


@dataclass(frozen=True)
class CatalogueHistory:
    """The catalogue versions and the day each took effect, oldest first. The first applies to every earlier day."""

    versions: tuple[tuple[datetime.date, engine.Catalogue], ...]

    def __post_init__(self):
        if not self.versions:
            raise ValueError("a catalogue history needs at least one version")

    @classmethod
    def constant(cls, catalogue: engine.Catalogue) -> CatalogueHistory:
        return cls(((datetime.date.min, catalogue),))

    def on(self, day: datetime.date) -> engine.Catalogue:
        if len(self.versions) == 1:
            return self.versions[0][1]
        index = bisect.bisect_right([start for start, _ in self.versions], day) - 1
        return self.versions[max(index, 0)][1]

    @property
    def change_days(self) -> list[datetime.date]:
        return [start for start, _ in self.versions[1:]]

    @property
    def windows(self) -> frozenset[int]:
        return frozenset(t.renewal_window_days for _, c in self.versions for t in c.types.values())

    @property
    def due_offsets(self) -> frozenset[int]:
        return frozenset(r.due_within_days for _, c in self.versions for r in c.requirements)


def facts_on(history: PersonHistory, day: datetime.date) -> engine.EmployeeFacts | None:
    """The engine's view of the person on `day`: the assignment in force then; None if none was yet."""
    index = bisect.bisect_right([a.assigned_on for a in history.assignments], day) - 1
    if index < 0:
        return None
    assignment = history.assignments[index]
    return engine.EmployeeFacts(
        id=history.employee_id,
        role_id=assignment.role_id,
        department_id=assignment.department_id,
        assigned_on=assignment.assigned_on,
        hired_on=history.hired_on,
        terminated_on=history.terminated_on,
        credentials=history.credentials,
    )


def change_days(history: PersonHistory, catalogues: CatalogueHistory) -> list[datetime.date]:
    """Every day on which this person's answer may differ from the day before, sorted.

    A superset is harmless (equal answers merge into one period); a missing day would hide a change,
    which the property test in tests/compliance/test_timeline.py is there to catch.
    """
    days = {history.hired_on}
    if history.terminated_on:
        days.add(history.terminated_on + ONE_DAY)
    windows = catalogues.windows
    for credential in history.credentials:
        days.add(credential.issued_on)
        if credential.expires_on is not None:
            days.add(credential.expires_on + ONE_DAY)
            days.update(credential.expires_on - datetime.timedelta(days=w) for w in windows)
    # Due periods count from a hire, an assignment or a catalogue change; the due day and the day after
    # it are both candidates, whichever of them the engine treats as the first overdue day.
    anchors = [history.hired_on, *(a.assigned_on for a in history.assignments), *catalogues.change_days]
    for anchor in anchors:
        for offset in catalogues.due_offsets:
            due = anchor + datetime.timedelta(days=offset)
            days.update((due, due + ONE_DAY))
    days.update(a.assigned_on for a in history.assignments)
    days.update(catalogues.change_days)
    if history.terminated_on:
        # After the day they left nothing changes (a rehire is a new hire day, already in the set).
        last = history.terminated_on + ONE_DAY
        days = {d for d in days if d <= last}
    return sorted(days)


_DAYS_LEFT = re.compile(r"in \d+ days?")


def _steady(reason: str) -> str:
    """A reason without its day count: "expires on X, in 12 days" says the same thing every day of the window."""
    return _DAYS_LEFT.sub("in N days", reason)


def _same_reason(a: str, b: str) -> bool:
    return a == b or _steady(a) == _steady(b)


def reason_on(reason: str, valid_from: datetime.date, expires_on: datetime.date | None, day: datetime.date) -> str:
    """The stored reason (written for `valid_from`) as the engine words it on `day`: the day count moves on."""
    if expires_on is None or day == valid_from:
        return reason
    before, after = (expires_on - valid_from).days, (expires_on - day).days
    old = f"in {before} day{'s' if before != 1 else ''}"
    return reason.replace(old, f"in {after} day{'s' if after != 1 else ''}", 1)


# Row layouts, in the order the rebuild writes them (see services.TIMELINE_*_COLUMNS).
EmployeeRow = tuple  # (employee_id, valid_from, valid_to, status, role_id, department_id, next_expiry)
RequirementRow = tuple  # (employee_id, requirement_id, valid_from, valid_to, status, mandatory, role_id,
#                          department_id, reason, credential_id, expires_on, due_on, since)


@dataclass(slots=True)
class Periods:
    employee: list[EmployeeRow]
    requirements: list[RequirementRow]
    next_change_on: datetime.date | None  # the first candidate day at or after the horizon, not evaluated yet


def build(
    history: PersonHistory,
    catalogues: CatalogueHistory,
    horizon: datetime.date,
    start: datetime.date | None = None,
) -> Periods:
    """The person's periods from `start` (default: their first day) with every change before `horizon`."""
    candidates = change_days(history, catalogues)
    first = start or history.hired_on
    split = bisect.bisect_left(candidates, horizon)
    days = [first, *(d for d in candidates[:split] if d > first)] if first < horizon else []
    next_change = candidates[split] if split < len(candidates) else None

    employee_id = history.employee_id
    employee_rows: list[EmployeeRow] = []
    requirement_rows: list[RequirementRow] = []
    open_employee: list | None = None  # [valid_from, key]
    open_requirements: dict[int, list] = {}  # requirement_id -> [valid_from, key, row values]

    def close_employee(day):
        nonlocal open_employee
        if open_employee is not None:
            valid_from, (status, role_id, department_id, next_expiry) = open_employee
            employee_rows.append((employee_id, valid_from, day, status, role_id, department_id, next_expiry))
            open_employee = None

    def close_requirement(requirement_id, day):
        valid_from, _, values = open_requirements.pop(requirement_id)
        requirement_rows.append((employee_id, requirement_id, valid_from, day, *values))

    # The engine's facts change only with the assignment: one per assignment, reused on every day under it.
    facts_by_start = {a.assigned_on: facts_on(history, a.assigned_on) for a in history.assignments}
    starts = [a.assigned_on for a in history.assignments]
    for day in days:
        index = bisect.bisect_right(starts, day) - 1
        facts = facts_by_start[starts[index]] if index >= 0 else None
        result = engine.evaluate_employee(facts, catalogues.on(day), day) if facts else None
        if result is None:
            close_employee(day)
            for requirement_id in list(open_requirements):
                close_requirement(requirement_id, day)
            continue
        key = (result.status.value, facts.role_id, facts.department_id, result.next_expiry)
        if open_employee is None or open_employee[1] != key:
            close_employee(day)
            open_employee = [day, key]
        seen = set()
        for r in result.requirements:
            seen.add(r.requirement_id)
            values = (
                r.status.value,
                r.mandatory,
                facts.role_id,
                facts.department_id,
                r.reason,
                r.credential_id,
                r.expires_on,
                r.due_on,
                r.since,
            )
            key = (*values[:4], *values[5:])
            current = open_requirements.get(r.requirement_id)
            # The reason may differ only by its day count, which moves every day of a renewal window.
            if current is not None and current[1] == key and _same_reason(current[2][4], r.reason):
                continue
            if current is not None:
                close_requirement(r.requirement_id, day)
            open_requirements[r.requirement_id] = [day, key, values]
        for requirement_id in [k for k in open_requirements if k not in seen]:
            close_requirement(requirement_id, day)
    close_employee(OPEN_END)
    for requirement_id in list(open_requirements):
        close_requirement(requirement_id, OPEN_END)
    return Periods(employee_rows, requirement_rows, next_change)


def extend(
    history: PersonHistory,
    catalogues: CatalogueHistory,
    starts: Mapping[int | None, datetime.date],
    built_to: datetime.date,
    horizon: datetime.date,
) -> Periods:
    """The rows that replace a person's open periods when the horizon moves from `built_to` to `horizon`.

    `starts` gives where each open period begins: the employee series under key None, each requirement
    under its id. Everything closed before stays as stored. The engine re-evaluates from the earliest open
    period, and each series keeps only what lies from its own open period on (from `built_to` for a series
    with none open), so the result is exactly what a rebuild to `horizon` would store from there.
    """
    begin = min([built_to, *starts.values()])
    return _clip(build(history, catalogues, horizon, start=begin), starts, built_to)


def _clip(periods: Periods, starts: Mapping[int | None, datetime.date], default: datetime.date) -> Periods:
    def cut(row, valid_from_at, key):
        begin = starts.get(key, default)
        valid_from, valid_to = row[valid_from_at], row[valid_from_at + 1]
        if valid_to <= begin:
            return None
        if valid_from >= begin:
            return row
        row = (*row[:valid_from_at], begin, *row[valid_from_at + 1 :])
        if key is not None:  # a requirement's reason is worded for its first day: reword it for the new one
            reason = reason_on(row[8], valid_from, row[10], begin)
            row = (*row[:8], reason, *row[9:])
        return row

    employee = [r for r in (cut(row, 1, None) for row in periods.employee) if r]
    requirements = [r for r in (cut(row, 2, row[1]) for row in periods.requirements) if r]
    return Periods(employee, requirements, periods.next_change_on)


def status_on(rows: Iterable[Sequence], day: datetime.date, valid_from_at: int) -> list[Sequence]:
    """The rows in force on `day` (for tests and small in-memory look-ups)."""
    return [row for row in rows if row[valid_from_at] <= day < row[valid_from_at + 1]]
