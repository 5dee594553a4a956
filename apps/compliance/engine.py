"""The compliance rules: plain data in, statuses out. No Django, no database.

Semantics (see shared/DOMAIN.md):
- A credential is current on day D when issued_on <= D <= expires_on and it is not rejected.
- A credential whose type has prerequisites that must stay current counts only while one of
  each any-of set is current: its effective expiry is the earlier of its own and theirs.
- A requirement (an any-of set) is met by the best effective, verified credential (latest
  effective expiry wins). A pending one makes it "pending verification", never compliant.
- An employee's status is the worst status across their mandatory requirements.

Everything takes the day as an argument, so the same call answers for today, a past
day (an audit) or a future day (a forecast).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

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


@dataclass(frozen=True, slots=True)
class CredentialFact:
    id: int
    type_id: int
    issued_on: datetime.date
    expires_on: datetime.date | None  # None: never expires
    verification: Verification = Verification.VERIFIED


@dataclass(frozen=True, slots=True)
class EmployeeFacts:
    """An employee as they stood on the day asked about (role and department in force then)."""

    id: int
    role_id: int
    department_id: int
    assigned_on: datetime.date
    hired_on: datetime.date | None = None
    terminated_on: datetime.date | None = None
    credentials: tuple[CredentialFact, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    types: Mapping[int, CertType]
    requirements: Sequence[RequirementRule]
    prerequisites: Sequence[PrerequisiteRule] = ()
    _by_role: dict = field(init=False, repr=False, compare=False)
    _prereqs_by_type: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        by_role: dict[int, list[RequirementRule]] = {}
        for requirement in self.requirements:
            by_role.setdefault(requirement.role_id, []).append(requirement)
        prereqs: dict[int, list[PrerequisiteRule]] = {}
        for rule in self.prerequisites:
            prereqs.setdefault(rule.type_id, []).append(rule)
        object.__setattr__(self, "_by_role", by_role)
        object.__setattr__(self, "_prereqs_by_type", prereqs)

    def requirements_for(self, role_id: int, department_id: int) -> list[RequirementRule]:
        return [
            r for r in self._by_role.get(role_id, ()) if r.department_id is None or r.department_id == department_id
        ]

    def prerequisites_of(self, type_id: int) -> list[PrerequisiteRule]:
        return self._prereqs_by_type.get(type_id, [])

    def codes(self, type_ids: Iterable[int]) -> str:
        """'BLS or CPR', in a stable order, for reasons written to people."""
        return " or ".join(sorted(self.types[t].code if t in self.types else f"#{t}" for t in type_ids))


@dataclass(frozen=True, slots=True)
class RequirementResult:
    requirement_id: int
    mandatory: bool
    status: Status
    reason: str
    credential_id: int | None = None  # the credential that meets it, or last met it
    expires_on: datetime.date | None = None  # effective expiry of that credential
    due_on: datetime.date | None = None  # for a newcomer: by when it must be obtained
    since: datetime.date | None = None  # first day of the lapse (expired, missing, prerequisite lapsed)


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


class _Evaluator:
    """Evaluates one employee on one day; memoises effective expiries along prerequisite chains."""

    def __init__(self, catalogue: Catalogue, credentials: Sequence[CredentialFact], day: datetime.date):
        self.catalogue = catalogue
        self.day = day
        # Credentials issued after the day do not exist yet, as far as that day is concerned.
        self.credentials = [c for c in credentials if c.issued_on <= day and c.verification != Verification.REJECTED]
        self._effective: dict[int, datetime.date | None] = {}

    def best_current_expiry(
        self, type_ids: Iterable[int], visiting: frozenset[int]
    ) -> tuple[bool, datetime.date | None]:
        """Whether any effective credential of these types is current, and the latest effective expiry."""
        found, best = False, None
        for type_id in type_ids:
            if type_id in visiting:  # a prerequisite cycle in the catalogue must not loop forever
                continue
            for credential in self.credentials:
                if credential.type_id != type_id or not _is_current(credential, self.day):
                    continue
                ok, expiry = self.effective_expiry(credential, visiting | {type_id})
                if not ok:
                    continue
                if not found or _later(expiry, best):
                    found, best = True, expiry
        return found, best

    def effective_expiry(
        self, credential: CredentialFact, visiting: frozenset[int] = frozenset()
    ) -> tuple[bool, datetime.date | None]:
        """(counts today, effective expiry). Counts only if every must-stay-current prerequisite is current."""
        if credential.id in self._effective:
            value = self._effective[credential.id]
            return value is not _LAPSED, (None if value is _LAPSED else value)
        expiry = credential.expires_on
        for rule in self.catalogue.prerequisites_of(credential.type_id):
            if not rule.must_stay_current:
                continue
            ok, prereq_expiry = self.best_current_expiry(rule.any_of, visiting | {credential.type_id})
            if not ok:
                self._effective[credential.id] = _LAPSED
                return False, None
            if prereq_expiry is not None and (expiry is None or prereq_expiry < expiry):
                expiry = prereq_expiry
        self._effective[credential.id] = expiry
        return True, expiry


_LAPSED = object()


def _later(a: datetime.date | None, b: datetime.date | None) -> bool:
    """Is expiry `a` later than `b`? None means never expires, the latest of all."""
    if a is None:
        return b is not None
    return b is not None and a > b


def evaluate_requirement(
    requirement: RequirementRule,
    employee: EmployeeFacts,
    catalogue: Catalogue,
    day: datetime.date,
    evaluator: _Evaluator | None = None,
) -> RequirementResult:
    evaluator = evaluator or _Evaluator(catalogue, employee.credentials, day)
    due_on = employee.assigned_on + datetime.timedelta(days=requirement.due_within_days)
    base = {"requirement_id": requirement.id, "mandatory": requirement.mandatory}

    held = [c for c in evaluator.credentials if c.type_id in requirement.any_of]
    current = [c for c in held if _is_current(c, day)]

    best_verified: tuple[CredentialFact, datetime.date | None] | None = None
    best_pending: tuple[CredentialFact, datetime.date | None] | None = None
    prerequisite_blocked: list[CredentialFact] = []
    for credential in current:
        counts, expiry = evaluator.effective_expiry(credential)
        if not counts:
            prerequisite_blocked.append(credential)
            continue
        if credential.verification == Verification.VERIFIED:
            if best_verified is None or _later(expiry, best_verified[1]):
                best_verified = (credential, expiry)
        elif best_pending is None or _later(expiry, best_pending[1]):
            best_pending = (credential, expiry)

    if best_verified:
        credential, expiry = best_verified
        code = catalogue.types[credential.type_id].code
        limited = expiry is not None and credential.expires_on is not None and expiry < credential.expires_on
        limit_note = (
            f" (limited by its prerequisite; the {code} card itself runs to {credential.expires_on})" if limited else ""
        )
        if expiry is None:
            return RequirementResult(
                **base, status=Status.COMPLIANT, reason=f"{code} held; it does not expire.", credential_id=credential.id
            )
        days_left = (expiry - day).days
        window = catalogue.types[credential.type_id].renewal_window_days
        if days_left <= window:
            return RequirementResult(
                **base,
                status=Status.EXPIRING,
                reason=f"{code} expires on {expiry}, in {days_left} day{'s' if days_left != 1 else ''}{limit_note}.",
                credential_id=credential.id,
                expires_on=expiry,
            )
        return RequirementResult(
            **base,
            status=Status.COMPLIANT,
            reason=f"{code} current until {expiry}{limit_note}.",
            credential_id=credential.id,
            expires_on=expiry,
        )

    # Unmet by verified proof. A newcomer or transferee has until the due date, unless what
    # they held lapsed while in this assignment.
    lapsed = [c for c in held if c.expires_on is not None and c.expires_on < day]
    last_lapsed = max(lapsed, key=lambda c: c.expires_on, default=None)
    lapsed_on_the_job = last_lapsed is not None and last_lapsed.expires_on >= employee.assigned_on
    in_grace = day < due_on and not lapsed_on_the_job

    if best_pending:
        credential, expiry = best_pending
        code = catalogue.types[credential.type_id].code
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
            expires_on=expiry,
        )

    if prerequisite_blocked:
        blocked = max(prerequisite_blocked, key=lambda c: (c.expires_on is None, c.expires_on))
        code = catalogue.types[blocked.type_id].code
        needs = " and ".join(catalogue.codes(rule.any_of) for rule in catalogue.prerequisites_of(blocked.type_id))
        since = _prerequisite_lapsed_since(evaluator, blocked, catalogue)
        reason = f"{code} is current but no {needs} is, so the {code} does not count"
        if since:
            reason += f" since {since}"
        if in_grace:
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
        )
    if in_grace:
        return RequirementResult(
            **base,
            status=Status.NOT_YET_DUE,
            reason=f"No {catalogue.codes(requirement.any_of)} on record yet; due by {due_on}.",
            due_on=due_on,
        )
    if last_lapsed is not None:
        since = last_lapsed.expires_on + ONE_DAY
        code = catalogue.types[last_lapsed.type_id].code
        return RequirementResult(
            **base,
            status=Status.EXPIRED,
            reason=f"{code} expired on {last_lapsed.expires_on}; lapsed since {since}.",
            credential_id=last_lapsed.id,
            expires_on=last_lapsed.expires_on,
            since=since,
        )
    return RequirementResult(
        **base,
        status=Status.MISSING,
        reason=f"No {catalogue.codes(requirement.any_of)} on record; it was due by {due_on}.",
        due_on=due_on,
        since=due_on,
    )


def _prerequisite_lapsed_since(
    evaluator: _Evaluator, credential: CredentialFact, catalogue: Catalogue
) -> datetime.date | None:
    """The day after the last prerequisite of `credential` ran out, if it ever was current."""
    ends = [
        c.expires_on
        for rule in catalogue.prerequisites_of(credential.type_id)
        if rule.must_stay_current
        for c in evaluator.credentials
        if c.type_id in rule.any_of and c.expires_on is not None and c.expires_on < evaluator.day
    ]
    return max(ends) + ONE_DAY if ends else None


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


def evaluate_employee(employee: EmployeeFacts, catalogue: Catalogue, day: datetime.date) -> EmployeeResult | None:
    """Every requirement that applies to the employee on `day`, and their overall status.

    None when they were not employed that day (not yet hired, or terminated): they have no requirements.
    """
    if (employee.hired_on and day < employee.hired_on) or (employee.terminated_on and day > employee.terminated_on):
        return None
    evaluator = _Evaluator(catalogue, employee.credentials, day)
    results = tuple(
        evaluate_requirement(r, employee, catalogue, day, evaluator)
        for r in catalogue.requirements_for(employee.role_id, employee.department_id)
    )
    mandatory = [r.status for r in results if r.mandatory]
    overall = max(mandatory, key=lambda s: s.severity, default=Status.COMPLIANT)
    return EmployeeResult(employee.id, overall, results, tuple(_findings(evaluator, catalogue)))


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

    Status only changes on the day after an (effective) expiry or on a due date, so only
    those days are evaluated.
    """
    today = evaluate_employee(employee, catalogue, day)
    if today is None:
        return []
    end = day + datetime.timedelta(days=horizon_days)
    candidates = sorted(
        {c.expires_on + ONE_DAY for c in employee.credentials if c.expires_on and day <= c.expires_on < end}
        | {r.due_on for r in today.requirements if r.due_on and day < r.due_on <= end}
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
