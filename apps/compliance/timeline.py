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
from collections.abc import Mapping
from dataclasses import dataclass

from . import engine

ONE_DAY = datetime.timedelta(days=1)
# A period that runs past the horizon ends on the next change not computed yet: stored as the largest date,
# so "valid_from <= D < valid_to" holds for it; readers only trust days before the horizon.
OPEN_END = datetime.date.max


def _employments(facts: engine.EmployeeFacts) -> tuple[engine.Employment, ...]:
    return facts.employments or (engine.Employment(facts.hired_on or facts.assigned_on, facts.terminated_on),)


# What happens on a candidate day: a card moves (issued, its window opening, lapsing), or a due period of N
# days may run out (None, N). The engine says which answers such a day can move (`engine.still_holds`).
Touch = tuple[engine.CredentialFact | None, engine.Move | int]


def _candidates(
    facts: engine.EmployeeFacts, catalogues: engine.CatalogueHistory
) -> tuple[set[datetime.date], dict[datetime.date, list[Touch]]]:
    """(days that can move any answer, {day: what else a day can move}).

    Every day on which this person's answer may differ from the day before is in one or the other. A superset
    is harmless (equal answers merge into one period); a missing day would hide a change, which the property
    tests in tests/compliance/test_timeline.py are there to catch.
    """
    # Assignments, employments and catalogue versions change which requirements apply and from when.
    full = facts.change_days() | set(catalogues.change_days())
    touches: dict[datetime.date, list[Touch]] = {}
    windows = catalogues.renewal_windows
    for credential in facts.credentials:
        if credential.verification == engine.Verification.REJECTED:
            continue  # a rejected card counts for nothing on any day
        touches.setdefault(credential.issued_on, []).append((credential, engine.Move.ISSUED))
        if credential.expires_on is not None:
            touches.setdefault(credential.expires_on + ONE_DAY, []).append((credential, engine.Move.LAPSED))
            # A renewal window is always counted back from a card's own expiry by its own type's window,
            # whether the card meets the requirement itself or caps a dependent card as its prerequisite.
            for window in windows.get(credential.type_id, ()):
                day = credential.expires_on - datetime.timedelta(days=window)
                touches.setdefault(day, []).append((credential, engine.Move.WINDOW))
    # A due period counts from an assignment, an employment or a requirement coming into force; the day after
    # the due day (the last day to comply) is the first one overdue.
    anchors = {a.started_on for a in facts.assignments} | {facts.assigned_on}
    anchors |= {e.started_on for e in _employments(facts)} | set(catalogues.change_days())
    offsets, in_force_days = catalogues.due_periods
    anchors |= in_force_days
    for offset in offsets:
        for anchor in anchors:
            touches.setdefault(anchor + datetime.timedelta(days=offset + 1), []).append((None, offset))
    last = _employments(facts)[-1].ended_on
    if last is not None:
        # After the last day of the last employment nothing changes (a rehire would be a later employment).
        full = {d for d in full if d <= last + ONE_DAY}
        touches = {d: t for d, t in touches.items() if d <= last + ONE_DAY}
    return full, touches


def change_days(facts: engine.EmployeeFacts, catalogues: engine.CatalogueHistory) -> list[datetime.date]:
    """Every day on which this person's answer may differ from the day before, sorted."""
    full, touches = _candidates(facts, catalogues)
    return sorted(full | touches.keys())


def _holds(
    before: engine.RequirementResult, rule: engine.RequirementRule, catalogue: engine.Catalogue, moved: list[Touch]
) -> bool:
    for credential, move in moved:
        if isinstance(move, int):  # a due period of `move` days may run out
            if move == rule.due_within_days and not engine.grace_holds(before):
                return False
        elif credential is not None and not engine.still_holds(before, rule, catalogue, credential, move):
            return False
    return True


_DAYS_LEFT = re.compile(r"in \d+ days?")


def _steady(reason: str) -> str:
    """A reason without its day count: "expires on X, in 12 days" says the same thing every day of the window."""
    return _DAYS_LEFT.sub("in N days", reason)


def _same_reason(a: str, b: str) -> bool:
    return a == b or _steady(a) == _steady(b)


_COUNTDOWN = re.compile(r"expires on (\d{4}-\d{2}-\d{2}), in \d+ days?")


def reason_on(reason: str, valid_from: datetime.date, expires_on: datetime.date | None, day: datetime.date) -> str:
    """The stored reason (written for `valid_from`) as the engine words it on `day`: the day count moves on.

    Each count is to the date written just before it, which is not always `expires_on` (the effective expiry):
    a dependent card counts down to its own expiry while its prerequisite caps the effective one.
    """
    if expires_on is None or day == valid_from:
        return reason

    def reworded(match: re.Match) -> str:
        left = (datetime.date.fromisoformat(match[1]) - day).days
        return f"expires on {match[1]}, in {left} day{'s' if left != 1 else ''}"

    return _COUNTDOWN.sub(reworded, reason)


# Row layouts, in the order the rebuild writes them (see services.TIMELINE_*_COLUMNS).
EmployeeRow = tuple  # (employee_id, valid_from, valid_to, status, role_id, department_id, next_expiry)
RequirementRow = tuple  # (employee_id, requirement_id, valid_from, valid_to, status, mandatory, role_id,
#                          department_id, reason, credential_id, expires_on, due_on, since, renew_credential_id)


@dataclass(slots=True)
class Periods:
    employee: list[EmployeeRow]
    requirements: list[RequirementRow]
    next_change_on: datetime.date | None  # the first candidate day at or after the horizon, not evaluated yet


def build(
    facts: engine.EmployeeFacts,
    catalogues: engine.CatalogueHistory,
    horizon: datetime.date,
    start: datetime.date | None = None,
) -> Periods:
    """The person's periods from `start` (default: their first day) with every change before `horizon`."""
    full, touches = _candidates(facts, catalogues)
    candidates = sorted(full | touches.keys())
    first = start or min(e.started_on for e in _employments(facts))
    split = bisect.bisect_left(candidates, horizon)
    days = [first, *(d for d in candidates[:split] if d > first)] if first < horizon else []
    next_change = candidates[split] if split < len(candidates) else None

    employee_id = facts.id
    employee_rows: list[EmployeeRow] = []
    requirement_rows: list[RequirementRow] = []
    open_employee: list | None = None  # [valid_from, key]
    open_requirements: dict[int, list] = {}  # requirement_id -> [valid_from, key, row values]
    key: tuple

    def close_employee(day):
        nonlocal open_employee
        if open_employee is not None:
            valid_from, (status, role_id, department_id, next_expiry) = open_employee
            employee_rows.append((employee_id, valid_from, day, status, role_id, department_id, next_expiry))
            open_employee = None

    def close_requirement(requirement_id, day):
        valid_from, _, values = open_requirements.pop(requirement_id)
        requirement_rows.append((employee_id, requirement_id, valid_from, day, *values))

    previous: engine.EmployeeResult | None = None
    # Under the last full evaluation (a partial day has the same assignment and catalogue): the assignment in
    # force and its requirements.
    role_id = department_id = 0
    rules: dict[int, engine.RequirementRule] = {}
    for day in days:
        catalogue = catalogues.on(day)
        moved = touches.get(day, [])
        if day == first or day in full:
            result = engine.evaluate_employee(facts, catalogue, day, findings=False)
            if result is not None:
                in_force = facts.assignments_on(day)[-1]
                role_id, department_id = in_force.role_id, in_force.department_id
                rules = {r.id: r for r in catalogue.requirements_for(role_id, department_id)}
        elif previous is None:
            continue  # not employed, and only an employment or assignment day can change that
        else:
            # Same assignment, same catalogue: only answers the day's moves can change are evaluated again.
            before = previous.requirements
            known = {r.requirement_id: r for r in before if _holds(r, rules[r.requirement_id], catalogue, moved)}
            if len(known) == len(before):
                continue
            result = engine.evaluate_employee(facts, catalogue, day, known=known, findings=False)
        previous = result
        if result is None:
            close_employee(day)
            for requirement_id in list(open_requirements):
                close_requirement(requirement_id, day)
            continue
        key = (result.status.value, role_id, department_id, result.next_expiry)
        if open_employee is None or open_employee[1] != key:
            close_employee(day)
            open_employee = [day, key]
        seen = set()
        for r in result.requirements:
            seen.add(r.requirement_id)
            values = (
                r.status.value,
                r.mandatory,
                role_id,
                department_id,
                r.reason,
                r.credential_id,
                r.expires_on,
                r.due_on,
                r.since,
                r.renew_credential_id,
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
    facts: engine.EmployeeFacts,
    catalogues: engine.CatalogueHistory,
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
    return _clip(build(facts, catalogues, horizon, start=begin), starts, built_to)


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
