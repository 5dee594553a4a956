"""The compliance rules: plain data in, statuses out. No Django, no database.

Semantics (see docs/domain.md):
- A credential is current on day D when issued_on <= D <= expires_on and it is not rejected.
- A credential whose type has prerequisites that must stay current counts only while one of
  each any-of set is current: its effective expiry is the earlier of its own and theirs, and
  the card that sets it is the one to renew.
- Attention goes to the card that needs renewing. When that card is a prerequisite the person
  is required to hold anyway (BLS for an ED nurse's ACLS), the dependent requirement stays
  compliant and only the prerequisite's own requirement is expiring; when it is not, the
  dependent requirement is expiring because of it and names it.
- A requirement (an any-of set) is met by the best effective, verified credential (latest
  effective expiry wins). A pending one makes it "pending verification", never compliant.
- A due period (grace) applies only to a requirement new to the person: counted from the start
  of the run of assignments, within the employment in force, that all carry it, or from the day
  the requirement came into force, whichever is later. The due day is the last day to comply.
- An employee's status is the worst status across their mandatory requirements.

Everything takes the day as an argument, so the same call answers for today, a past
day (an audit) or a future day (a forecast). Employment periods and assignments are plain
history on the facts, and `EmployeeFacts.change_days` / `CatalogueHistory.change_days` say on
which days an answer can change for reasons other than a card's dates.
"""

from __future__ import annotations

import datetime
import enum
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ONE_DAY = datetime.timedelta(days=1)


class Status(enum.StrEnum):
    COMPLIANT = "compliant"
    EXPIRING = "expiring"
    NOT_YET_DUE = "not_yet_due"
    PENDING_VERIFICATION = "pending_verification"
    PREREQUISITE_LAPSED = "prerequisite_lapsed"
    EXPIRED = "expired"
    MISSING = "missing"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    @property
    def is_compliant(self) -> bool:
        """Compliant today, even if something needs attention soon."""
        return self in COMPLIANT_STATUSES

    @property
    def label(self) -> str:
        return _LABELS[self]


_SEVERITY = {status: rank for rank, status in enumerate(Status)}
_LABELS = {
    Status.COMPLIANT: "Compliant",
    Status.EXPIRING: "Expiring soon",
    Status.NOT_YET_DUE: "Missing, not yet due",
    Status.PENDING_VERIFICATION: "Pending verification",
    Status.PREREQUISITE_LAPSED: "Prerequisite lapsed",
    Status.EXPIRED: "Expired",
    Status.MISSING: "Missing (overdue)",
}
# Statuses under which the person may work today. Pending proof is not yet evidence.
COMPLIANT_STATUSES = frozenset({Status.COMPLIANT, Status.EXPIRING, Status.NOT_YET_DUE})
NON_COMPLIANT_STATUSES = frozenset(set(Status) - COMPLIANT_STATUSES)
# What needs someone to act now: pending proof waits on HR, not on the person.
ATTENTION_STATUSES = (Status.EXPIRED, Status.MISSING, Status.PREREQUISITE_LAPSED)


class Verification(enum.StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class CertType:
    id: int
    code: str
    renewal_window_days: int = 90


@dataclass(frozen=True, slots=True)
class PrerequisiteRule:
    """`type_id` needs one of `any_of`; if `must_stay_current`, only while one of them is current."""

    type_id: int
    any_of: frozenset[int]
    must_stay_current: bool = True


@dataclass(frozen=True, slots=True)
class RequirementRule:
    id: int
    role_id: int
    department_id: int | None  # None: every department
    any_of: frozenset[int]
    mandatory: bool = True
    due_within_days: int = 30
    # The first day it was in force; people already in the role get their due period from then.
    in_force_from: datetime.date | None = None

    def applies_to(self, role_id: int, department_id: int) -> bool:
        return self.role_id == role_id and (self.department_id is None or self.department_id == department_id)


@dataclass(frozen=True, slots=True)
class CredentialFact:
    id: int
    type_id: int
    issued_on: datetime.date
    expires_on: datetime.date | None  # None: never expires
    verification: Verification = Verification.VERIFIED


@dataclass(frozen=True, slots=True)
class Assignment:
    """A role in a department from `started_on` until the next assignment (or the end of the employment)."""

    started_on: datetime.date
    role_id: int
    department_id: int


@dataclass(frozen=True, slots=True)
class Employment:
    """One period of employment: a rehire is a new period, never an edit of the first."""

    started_on: datetime.date
    ended_on: datetime.date | None = None  # the last day employed (still employed that day); None: ongoing

    def covers(self, day: datetime.date) -> bool:
        return self.started_on <= day and (self.ended_on is None or day <= self.ended_on)


@dataclass(frozen=True, slots=True)
class EmployeeFacts:
    """An employee: the current record, and optionally their history as plain data.

    `role_id`, `department_id`, `assigned_on`, `hired_on` and `terminated_on` are the record as it
    stands. `assignments` and `employments`, when given, are every assignment and employment period
    on record; the engine then answers any day within the employment in force that day. Left
    empty, the current record is the only assignment and the only employment.
    """

    id: int
    role_id: int
    department_id: int
    assigned_on: datetime.date
    hired_on: datetime.date | None = None
    terminated_on: datetime.date | None = None
    credentials: tuple[CredentialFact, ...] = ()
    assignments: tuple[Assignment, ...] = ()
    employments: tuple[Employment, ...] = ()

    def employment_on(self, day: datetime.date) -> Employment | None:
        periods = self.employments or (Employment(self.hired_on or datetime.date.min, self.terminated_on),)
        return next((period for period in periods if period.covers(day)), None)

    def assignments_on(self, day: datetime.date) -> tuple[Assignment, ...]:
        """The assignments of the employment in force on `day` that started by then, oldest first.

        The last one is in force. Empty when they were not employed, or no assignment was on record yet.
        """
        employment = self.employment_on(day)
        if employment is None:
            return ()
        records = self.assignments or (Assignment(self.assigned_on, self.role_id, self.department_id),)
        return tuple(
            sorted((a for a in records if employment.started_on <= a.started_on <= day), key=lambda a: a.started_on)
        )

    def change_days(self) -> set[datetime.date]:
        """Days on which employment or assignment alone can change the answer (cards' dates aside)."""
        periods = self.employments or (Employment(self.hired_on or datetime.date.min, self.terminated_on),)
        days = {a.started_on for a in self.assignments} | {self.assigned_on}
        for period in periods:
            if period.started_on != datetime.date.min:
                days.add(period.started_on)
            if period.ended_on is not None:
                days.add(period.ended_on + ONE_DAY)
        return days


@dataclass(frozen=True)
class Catalogue:
    types: Mapping[int, CertType]
    requirements: Sequence[RequirementRule]
    prerequisites: Sequence[PrerequisiteRule] = ()
    # The last recorded change in force (None: no history recorded): says which catalogue applied.
    changed_on: datetime.date | None = None
    _by_role: dict = field(init=False, repr=False, compare=False)
    _prereqs_by_type: dict = field(init=False, repr=False, compare=False)
    _types_read: dict = field(init=False, repr=False, compare=False)
    _for_assignment: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        by_role: dict[int, list[RequirementRule]] = {}
        for requirement in self.requirements:
            by_role.setdefault(requirement.role_id, []).append(requirement)
        prereqs: dict[int, list[PrerequisiteRule]] = {}
        for rule in self.prerequisites:
            prereqs.setdefault(rule.type_id, []).append(rule)
        object.__setattr__(self, "_by_role", by_role)
        object.__setattr__(self, "_prereqs_by_type", prereqs)
        object.__setattr__(self, "_types_read", {})
        object.__setattr__(self, "_for_assignment", {})

    def requirements_for(self, role_id: int, department_id: int) -> tuple[RequirementRule, ...]:
        key = (role_id, department_id)
        if key not in self._for_assignment:  # asked for every person on every day evaluated: worth keeping
            self._for_assignment[key] = tuple(r for r in self._by_role.get(role_id, ()) if r.applies_to(*key))
        return self._for_assignment[key]

    def prerequisites_of(self, type_id: int) -> list[PrerequisiteRule]:
        return self._prereqs_by_type.get(type_id, [])

    def types_read(self, requirement: RequirementRule) -> tuple[frozenset[int], frozenset[int]]:
        """(the types whose cards can move this requirement's answer, those of them read as prerequisites): its
        any-of set and, through must-stay-current prerequisites, theirs, transitively. Cards of any other type
        leave it as it was."""
        if requirement.id not in self._types_read:
            prerequisites: set[int] = set()
            queue = list(requirement.any_of)
            while queue:
                for rule in self.prerequisites_of(queue.pop()):
                    if rule.must_stay_current:
                        queue += [t for t in rule.any_of if t not in prerequisites]
                        prerequisites |= rule.any_of
            self._types_read[requirement.id] = (requirement.any_of | prerequisites, frozenset(prerequisites))
        return self._types_read[requirement.id]

    def codes(self, type_ids: Iterable[int]) -> str:
        """'BLS or CPR', in a stable order, for reasons written to people."""
        return " or ".join(sorted(self.types[t].code if t in self.types else f"#{t}" for t in type_ids))

    def code(self, type_id: int) -> str:
        return self.types[type_id].code if type_id in self.types else f"#{type_id}"


@dataclass(frozen=True)
class CatalogueHistory:
    """The catalogue as it stood over time: each version is in force from its day until the next one's."""

    versions: Sequence[tuple[datetime.date, Catalogue]]  # oldest first; the first also answers every earlier day

    def on(self, day: datetime.date) -> Catalogue:
        in_force = self.versions[0][1]
        for starts, catalogue in self.versions:
            if starts > day:
                break
            in_force = catalogue
        return in_force

    def change_days(self) -> list[datetime.date]:
        return [starts for starts, _ in self.versions[1:]]

    @functools.cached_property
    def renewal_windows(self) -> Mapping[int, frozenset[int]]:
        """Each type's renewal windows over every version: {type id: {days}}."""
        windows: dict[int, set[int]] = {}
        for _, catalogue in self.versions:
            for type_id, cert_type in catalogue.types.items():
                windows.setdefault(type_id, set()).add(cert_type.renewal_window_days)
        return {type_id: frozenset(days) for type_id, days in windows.items()}

    @functools.cached_property
    def due_periods(self) -> tuple[frozenset[int], frozenset[datetime.date]]:
        """(every requirement's due period in days, every day a requirement came into force), over every version."""
        rules = [r for _, catalogue in self.versions for r in catalogue.requirements]
        in_force = {r.in_force_from for r in rules if r.in_force_from is not None}
        return frozenset(r.due_within_days for r in rules), frozenset(in_force)


@dataclass(frozen=True, slots=True)
class RequirementResult:
    requirement_id: int
    mandatory: bool
    status: Status
    reason: str
    credential_id: int | None = None  # the credential that meets it, or last met it
    expires_on: datetime.date | None = None  # effective expiry of that credential
    due_on: datetime.date | None = None  # for a newcomer: the last day to obtain it
    since: datetime.date | None = None  # first day of the lapse (expired, missing, prerequisite lapsed)
    # The card whose renewal keeps (or would have kept) this requirement met: the card itself, or the
    # prerequisite card its effective expiry comes from. Messages and renewal counts go by this card.
    renew_credential_id: int | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A data-quality problem, reported apart from statuses: e.g. ACLS earned while no BLS was current."""

    credential_id: int
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class EmployeeResult:
    employee_id: int
    status: Status
    requirements: tuple[RequirementResult, ...]
    findings: tuple[Finding, ...] = ()

    @property
    def next_expiry(self) -> datetime.date | None:
        dates = [r.expires_on for r in self.requirements if r.mandatory and r.expires_on and r.status.is_compliant]
        return min(dates, default=None)


def _is_current(credential: CredentialFact, day: datetime.date) -> bool:
    return (
        credential.verification != Verification.REJECTED
        and credential.issued_on <= day
        and (credential.expires_on is None or day <= credential.expires_on)
    )


@dataclass(frozen=True, slots=True)
class _Effective:
    """What a current credential counts for: until `expiry`, which is `renew`'s expiry.

    `renew` is the credential itself, or the prerequisite card whose earlier expiry caps it.
    """

    expiry: datetime.date | None  # None: never expires
    renew: CredentialFact


class _Evaluator:
    """Evaluates one employee on one day; memoises effective expiries along prerequisite chains."""

    def __init__(self, catalogue: Catalogue, credentials: Sequence[CredentialFact], day: datetime.date):
        self.catalogue = catalogue
        self.day = day
        # Credentials issued after the day do not exist yet, as far as that day is concerned.
        self.credentials = [c for c in credentials if c.issued_on <= day and c.verification != Verification.REJECTED]
        self._effective: dict[int, _Effective | None] = {}

    def best_current(self, type_ids: Iterable[int], visiting: frozenset[int]) -> _Effective | None:
        """The effective credential of these types that counts longest today, if any counts."""
        best = None
        for type_id in type_ids:
            if type_id in visiting:  # a prerequisite cycle in the catalogue must not loop forever
                continue
            for credential in self.credentials:
                if credential.type_id != type_id or not _is_current(credential, self.day):
                    continue
                effective = self.effective(credential, visiting | {type_id})
                if effective is not None and (best is None or _later(effective.expiry, best.expiry)):
                    best = effective
        return best

    def effective(self, credential: CredentialFact, visiting: frozenset[int] = frozenset()) -> _Effective | None:
        """What a current credential counts for today; None if a must-stay-current prerequisite is not current."""
        if credential.id in self._effective:
            return self._effective[credential.id]
        result = _Effective(credential.expires_on, credential)
        for rule in self.catalogue.prerequisites_of(credential.type_id):
            if not rule.must_stay_current:
                continue
            prerequisite = self.best_current(rule.any_of, visiting | {credential.type_id})
            if prerequisite is None:
                self._effective[credential.id] = None
                return None
            if _later(result.expiry, prerequisite.expiry):
                result = prerequisite
        self._effective[credential.id] = result
        return result


def _later(a: datetime.date | None, b: datetime.date | None) -> bool:
    """Is expiry `a` later than `b`? None means never expires, the latest of all."""
    if a is None:
        return b is not None
    return b is not None and a > b


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def _applies_since(
    requirement: RequirementRule, assignments: Sequence[Assignment], catalogue: Catalogue
) -> datetime.date:
    """The start of the unbroken run of assignments, ending with the one in force, that all required it.

    An earlier assignment required it if one of its rules was met by nothing the new one does not
    accept (same or narrower any-of set) and was at least as binding. So a new position date in
    the same unit, or a transfer between two units that both require ACLS, starts nothing again:
    only a requirement new to the person gets a due period. Earlier assignments are read against
    the catalogue of the day asked about.
    """
    since = assignments[-1].started_on
    for assignment in reversed(assignments[:-1]):
        carried = any(
            rule.any_of <= requirement.any_of and rule.mandatory >= requirement.mandatory
            for rule in catalogue.requirements_for(assignment.role_id, assignment.department_id)
        )
        if not carried:
            break
        since = assignment.started_on
    return since


def evaluate_requirement(
    requirement: RequirementRule,
    employee: EmployeeFacts,
    catalogue: Catalogue,
    day: datetime.date,
    evaluator: _Evaluator | None = None,
    required_types: frozenset[int] | None = None,
    assignments: Sequence[Assignment] = (),
) -> RequirementResult:
    """One requirement on one day. `required_types`: the types the person's mandatory requirements name;
    `assignments`: `employee.assignments_on(day)` when the caller has it already."""
    evaluator = evaluator or _Evaluator(catalogue, employee.credentials, day)
    assignments = (
        assignments
        or employee.assignments_on(day)
        or (Assignment(employee.assigned_on, employee.role_id, employee.department_id),)
    )
    if required_types is None:
        required_types = _required_types(catalogue, assignments[-1])
    applies_since = _applies_since(requirement, assignments, catalogue)
    if requirement.in_force_from is not None and requirement.in_force_from > applies_since:
        applies_since = requirement.in_force_from
    due_on = applies_since + datetime.timedelta(days=requirement.due_within_days)
    base: dict[str, Any] = {"requirement_id": requirement.id, "mandatory": requirement.mandatory}

    held = [c for c in evaluator.credentials if c.type_id in requirement.any_of]
    current = [c for c in held if _is_current(c, day)]

    best_verified: tuple[CredentialFact, _Effective] | None = None
    best_pending: tuple[CredentialFact, _Effective] | None = None
    prerequisite_blocked: list[CredentialFact] = []
    for credential in current:
        effective = evaluator.effective(credential)
        if effective is None:
            prerequisite_blocked.append(credential)
            continue
        if credential.verification == Verification.VERIFIED:
            if best_verified is None or _later(effective.expiry, best_verified[1].expiry):
                best_verified = (credential, effective)
        elif best_pending is None or _later(effective.expiry, best_pending[1].expiry):
            best_pending = (credential, effective)

    if best_verified:
        credential, effective = best_verified
        prerequisite_required = effective.renew.type_id in required_types or (
            not requirement.mandatory and effective.renew.type_id in _any_types(catalogue, assignments[-1])
        )
        return _held(base, credential, effective, catalogue, day, prerequisite_required)

    # Unmet by verified proof. The due period holds only if nothing that met it lapsed since it applied.
    lapsed = [c for c in held if c.expires_on is not None and c.expires_on < day]
    last_lapsed = max(lapsed, key=_ended_on, default=None)
    lapsed_while_required = last_lapsed is not None and _ended_on(last_lapsed) >= applies_since
    in_grace = day <= due_on and not lapsed_while_required

    if best_pending:
        credential, effective = best_pending
        code = catalogue.code(credential.type_id)
        reason = f"{code} issued {credential.issued_on} uploaded; HR has not verified it yet"
        if in_grace:  # still inside their due period: not late, whatever HR's queue looks like
            return RequirementResult(
                **base,
                status=Status.NOT_YET_DUE,
                reason=f"{reason}; due by {due_on}.",
                credential_id=credential.id,
                due_on=due_on,
            )
        return RequirementResult(
            **base,
            status=Status.PENDING_VERIFICATION,
            reason=reason + ".",
            credential_id=credential.id,
            expires_on=effective.expiry,
        )

    if prerequisite_blocked:
        blocked = max(prerequisite_blocked, key=lambda c: (c.expires_on is None, c.expires_on))
        code = catalogue.code(blocked.type_id)
        needs = " and ".join(catalogue.codes(rule.any_of) for rule in catalogue.prerequisites_of(blocked.type_id))
        lapsed_prerequisite = _lapsed_prerequisite(evaluator, blocked, catalogue)
        since = _ended_on(lapsed_prerequisite) + ONE_DAY if lapsed_prerequisite else None
        reason = f"{code} is current but no {needs} is, so the {code} does not count"
        if since:
            reason += f" since {since}"
        if in_grace and not (since and since > applies_since):
            return RequirementResult(
                **base,
                status=Status.NOT_YET_DUE,
                reason=f"{reason}; due by {due_on}.",
                credential_id=blocked.id,
                due_on=due_on,
            )
        return RequirementResult(
            **base,
            status=Status.PREREQUISITE_LAPSED,
            reason=reason + ".",
            credential_id=blocked.id,
            expires_on=blocked.expires_on,
            since=since,
            renew_credential_id=lapsed_prerequisite.id if lapsed_prerequisite else None,
        )
    if in_grace:
        codes = catalogue.codes(requirement.any_of)
        if last_lapsed is not None:
            lapsed_code = catalogue.code(last_lapsed.type_id)
            reason = (
                f"{lapsed_code} expired on {last_lapsed.expires_on}, before this requirement applied to them; "
                f"a current {codes} is due by {due_on}."
            )
        else:
            reason = f"No {codes} on record yet; due by {due_on}."
        return RequirementResult(**base, status=Status.NOT_YET_DUE, reason=reason, due_on=due_on)
    if last_lapsed is not None:
        code = catalogue.code(last_lapsed.type_id)
        if lapsed_while_required:
            since = _ended_on(last_lapsed) + ONE_DAY
            reason = f"{code} expired on {last_lapsed.expires_on}; lapsed since {since}."
        else:  # it ran out before the requirement applied to them: late from the day after the due day
            since = due_on + ONE_DAY
            reason = f"{code} expired on {last_lapsed.expires_on}; a current one was due by {due_on}."
        return RequirementResult(
            **base,
            status=Status.EXPIRED,
            reason=reason,
            credential_id=last_lapsed.id,
            expires_on=last_lapsed.expires_on,
            since=since,
            renew_credential_id=last_lapsed.id,
        )
    return RequirementResult(
        **base,
        status=Status.MISSING,
        reason=f"No {catalogue.codes(requirement.any_of)} on record; it was due by {due_on}.",
        due_on=due_on,
        since=due_on + ONE_DAY,
    )


def _held(
    base: dict,
    credential: CredentialFact,
    effective: _Effective,
    catalogue: Catalogue,
    day: datetime.date,
    prerequisite_required: bool,
) -> RequirementResult:
    """A requirement met by a verified, effective card: compliant or expiring, and which card to renew."""
    code = catalogue.code(credential.type_id)
    expiry, renew = effective.expiry, effective.renew
    held: dict[str, Any] = {"credential_id": credential.id, "expires_on": expiry}
    if expiry is None:
        return RequirementResult(
            **base, status=Status.COMPLIANT, reason=f"{code} held; it does not expire.", credential_id=credential.id
        )
    own_window = catalogue.types[credential.type_id].renewal_window_days
    if renew.id == credential.id:
        days_left = (expiry - day).days
        if days_left <= own_window:
            return RequirementResult(
                **base,
                status=Status.EXPIRING,
                reason=f"{code} expires on {expiry}, in {_days(days_left)}.",
                renew_credential_id=credential.id,
                **held,
            )
        return RequirementResult(
            **base,
            status=Status.COMPLIANT,
            reason=f"{code} current until {expiry}.",
            renew_credential_id=credential.id,
            **held,
        )

    # The card counts only while a prerequisite card is current, and that card runs out first.
    renew_code = catalogue.code(renew.type_id)
    own = credential.expires_on
    depends = f"counts while {renew_code} is current ({renew_code} expires {expiry})"
    own_text = f"{code} current until {own}" if own else f"{code} held; it does not expire"
    if prerequisite_required:
        # The prerequisite's own requirement carries the reminder; this one waits only on its own card.
        own_left = (own - day).days if own else None
        if own_left is not None and own_left <= own_window:
            return RequirementResult(
                **base,
                status=Status.EXPIRING,
                reason=f"{code} expires on {own}, in {_days(own_left)}; it {depends}.",
                renew_credential_id=credential.id,
                **held,
            )
        return RequirementResult(
            **base, status=Status.COMPLIANT, reason=f"{own_text}; {depends}.", renew_credential_id=renew.id, **held
        )
    days_left = (expiry - day).days
    if days_left <= catalogue.types[renew.type_id].renewal_window_days:
        return RequirementResult(
            **base,
            status=Status.EXPIRING,
            reason=(
                f"{code} counts only while {renew_code} is current, and the {renew_code} expires on {expiry}, "
                f"in {_days(days_left)}: renew the {renew_code} to keep the {code} counting ({own_text})."
            ),
            renew_credential_id=renew.id,
            **held,
        )
    return RequirementResult(
        **base, status=Status.COMPLIANT, reason=f"{own_text}; {depends}.", renew_credential_id=renew.id, **held
    )


def _required_types(catalogue: Catalogue, assignment: Assignment) -> frozenset[int]:
    return frozenset(
        t
        for r in catalogue.requirements_for(assignment.role_id, assignment.department_id)
        if r.mandatory
        for t in r.any_of
    )


def _any_types(catalogue: Catalogue, assignment: Assignment) -> frozenset[int]:
    return frozenset(
        t for r in catalogue.requirements_for(assignment.role_id, assignment.department_id) for t in r.any_of
    )


def _lapsed_prerequisite(
    evaluator: _Evaluator, credential: CredentialFact, catalogue: Catalogue
) -> CredentialFact | None:
    """The prerequisite card of `credential` that ran out last before the day, if one ever was held."""
    ended = [
        c
        for rule in catalogue.prerequisites_of(credential.type_id)
        if rule.must_stay_current
        for c in evaluator.credentials
        if c.type_id in rule.any_of and c.expires_on is not None and c.expires_on < evaluator.day
    ]
    return max(ended, key=_ended_on, default=None)


def _ended_on(credential: CredentialFact) -> datetime.date:
    """The expiry of a card known to have run out: callers have left out the cards that never expire."""
    assert credential.expires_on is not None
    return credential.expires_on


def _findings(evaluator: _Evaluator, catalogue: Catalogue) -> list[Finding]:
    """Advanced credentials earned on a day when none of a prerequisite set was current."""
    findings = []
    for credential in evaluator.credentials:
        for rule in catalogue.prerequisites_of(credential.type_id):
            if not any(
                c.type_id in rule.any_of and _is_current(c, credential.issued_on) for c in evaluator.credentials
            ):
                code, needs = catalogue.types[credential.type_id].code, catalogue.codes(rule.any_of)
                findings.append(
                    Finding(
                        credential_id=credential.id,
                        kind="prerequisite_not_current_at_issue",
                        message=f"{code} issued {credential.issued_on} while no {needs} was current.",
                    )
                )
    return findings


def evaluate_employee(
    employee: EmployeeFacts,
    catalogue: Catalogue,
    day: datetime.date,
    *,
    known: Mapping[int, RequirementResult] | None = None,
    findings: bool = True,
) -> EmployeeResult | None:
    """Every requirement that applies to the employee on `day`, and their overall status.

    None when they were not employed that day (not yet hired, between employments, or after their
    last day), or no assignment of that employment had started yet: they have no requirements.

    `known`: answers, by requirement id, the caller knows nothing they read has changed since (the status
    periods walk a person's days and re-evaluate only what a day can move); `findings=False` leaves the
    data-quality findings out (an empty tuple) for callers that do not store them.
    """
    assignments = employee.assignments_on(day)
    if not assignments:
        return None
    in_force = assignments[-1]
    evaluator = _Evaluator(catalogue, employee.credentials, day)
    required_types = _required_types(catalogue, in_force)
    known = known or {}
    results = tuple(
        known.get(r.id) or evaluate_requirement(r, employee, catalogue, day, evaluator, required_types, assignments)
        for r in catalogue.requirements_for(in_force.role_id, in_force.department_id)
    )
    mandatory = [r.status for r in results if r.mandatory]
    overall = max(mandatory, key=lambda s: s.severity, default=Status.COMPLIANT)
    return EmployeeResult(employee.id, overall, results, tuple(_findings(evaluator, catalogue)) if findings else ())


class Move(enum.Enum):
    """What a day does to one card: it is issued, its renewal window opens, or it lapses (the day after expiry)."""

    ISSUED = "issued"
    WINDOW = "window"
    LAPSED = "lapsed"


def still_holds(
    before: RequirementResult,
    requirement: RequirementRule,
    catalogue: Catalogue,
    credential: CredentialFact,
    move: Move,
) -> bool:
    """Whether `before`, the requirement's answer the day before, is its answer on a day when nothing but
    `credential`'s `move` happened (same assignment, same catalogue). False means: evaluate.

    Only an answer met by verified proof is kept, and only when the moving card plays no part in it: the card
    that meets it and the card its effective expiry comes from are left alone (every card of the chain that
    sets the effective expiry runs at least as long), so another card lapsing or entering its window changes
    no choice; a new card counts only if it could win (verified and running longer) or feeds a prerequisite.
    """
    types, prerequisite_types = catalogue.types_read(requirement)
    if credential.type_id not in types:
        return True
    if before.status not in (Status.COMPLIANT, Status.EXPIRING) or credential.id == before.credential_id:
        return False
    expiry = before.expires_on  # the effective expiry; None: never expires
    if move is Move.LAPSED:
        return expiry is None or (credential.expires_on is not None and expiry > credential.expires_on)
    if move is Move.WINDOW:
        return credential.expires_on != expiry and credential.id != before.renew_credential_id
    if credential.type_id in prerequisite_types:
        return False
    return credential.verification != Verification.VERIFIED or (
        expiry is not None and credential.expires_on is not None and credential.expires_on < expiry
    )


def grace_holds(before: RequirementResult) -> bool:
    """Whether `before` stands on a day a due period may run out: only an answer inside one can move then
    (the grace only ever ends, and an answer outside it does not read it)."""
    return before.status != Status.NOT_YET_DUE


@dataclass(frozen=True, slots=True)
class Lapse:
    employee_id: int
    requirement_id: int
    on: datetime.date
    status: Status
    reason: str


def forecast_employee(
    employee: EmployeeFacts, catalogue: Catalogue, day: datetime.date, horizon_days: int
) -> list[Lapse]:
    """Mandatory requirements compliant on `day` that stop being so within `horizon_days` if nobody renews.

    Status only changes on the day after an (effective) expiry or a due date, or when an
    assignment or employment changes, so only those days are evaluated.
    """
    today = evaluate_employee(employee, catalogue, day)
    if today is None:
        return []
    end = day + datetime.timedelta(days=horizon_days)
    candidates = sorted(
        {c.expires_on + ONE_DAY for c in employee.credentials if c.expires_on and day <= c.expires_on < end}
        | {r.due_on + ONE_DAY for r in today.requirements if r.due_on and day <= r.due_on < end}
        | {d for d in employee.change_days() if day < d <= end}
    )
    pending = {r.requirement_id for r in today.requirements if r.mandatory and r.status.is_compliant}
    lapses = []
    for candidate in candidates:
        if not pending:
            break
        later = evaluate_employee(employee, catalogue, candidate)
        if later is None:
            break
        for result in later.requirements:
            if result.requirement_id in pending and not result.status.is_compliant:
                pending.discard(result.requirement_id)
                lapses.append(Lapse(employee.id, result.requirement_id, candidate, result.status, result.reason))
    return lapses
