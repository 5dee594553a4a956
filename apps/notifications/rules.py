"""Which notifications are due on a day: plain data in, notices out. No Django, no database.

Every notice has a natural key (KEY_FIELDS); the outbox stores at most one row per key, so
planning may run any number of times a day and still sends each notice once.

Sequences step by "days before" a date (negative: days after it):
- Messages count actions: a reminder is about the card to renew (the stored result's
  `renew_credential_id`: the card itself, or the prerequisite card its effective expiry comes from),
  keyed by that card, so one BLS renewal is one reminder per step however many requirements it
  keeps met. Its reminders step through its thresholds (default 90, 60, 30, 14, 7, 0 days before
  its expiry), then every `repeat_every_days` while lapsed. Only the step in force today is due:
  someone first seen 45 days before expiry gets the 60-day reminder, not the 90 as well.
- A missing requirement steps through `missing_days` before its due day and on the day itself (the
  last day to comply), then from the day after (overdue) every `repeat_every_days`.
- A renewal recorded (a newer credential verified: the stored result moves on to it) or uploaded
  (proof pending verification) ends the old credential's sequence; the upload is acknowledged once.
- Managers hear once per lapse, however long ago it began (a record entered late is still
  escalated): one escalation per card to renew and day the lapse began (a lapsed BLS that also
  stops an ACLS counting is one escalation, keyed by the BLS's own requirement), or per missing
  requirement. Only an explicit backfill rolls old lapses into one summary per manager
  (planning.py decides when; the rules only say which escalations are old: `is_backfill`).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from apps.compliance.engine import Status

ONE_DAY = datetime.timedelta(days=1)


class Kind(enum.StrEnum):
    REMINDER = "reminder"
    PROOF_RECEIVED = "proof_received"
    MISSING_BEFORE_DUE = "missing_before_due"
    MISSING_OVERDUE = "missing_overdue"
    ESCALATION = "escalation"
    DIGEST = "digest"
    MANUAL_REMINDER = "manual_reminder"
    NO_ADDRESS_REPORT = "no_address_report"
    BACKFILL_SUMMARY = "backfill_summary"
    SIGN_IN_LINK = "sign_in_link"
    PASSWORD_RESET = "password_reset"
    IMPORT_FINISHED = "import_finished"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    Kind.REMINDER: "Renewal reminder",
    Kind.PROOF_RECEIVED: "Proof received",
    Kind.MISSING_BEFORE_DUE: "Missing, before due date",
    Kind.MISSING_OVERDUE: "Missing, overdue",
    Kind.ESCALATION: "Manager escalation",
    Kind.DIGEST: "Manager weekly digest",
    Kind.MANUAL_REMINDER: "Reminder sent by HR",
    Kind.NO_ADDRESS_REPORT: "HR report: staff without an email address",
    Kind.BACKFILL_SUMMARY: "Manager summary of lapses found by a backfill",
    Kind.SIGN_IN_LINK: "Sign-in link asked for",
    Kind.PASSWORD_RESET: "Password reset asked for",
    Kind.IMPORT_FINISHED: "Import finished (to the HR user who started it)",
}

# The natural key of each kind: the outbox has one unique constraint per kind on exactly these.
KEY_FIELDS: dict[Kind, tuple[str, ...]] = {
    Kind.REMINDER: ("credential_id", "about_date", "days_before"),
    Kind.PROOF_RECEIVED: ("credential_id",),
    Kind.MISSING_BEFORE_DUE: ("employee_id", "requirement_id", "about_date", "days_before"),
    Kind.MISSING_OVERDUE: ("employee_id", "requirement_id", "about_date", "days_before"),
    Kind.ESCALATION: ("employee_id", "requirement_id", "about_date", "user_id"),
    Kind.DIGEST: ("user_id", "about_date"),
    Kind.MANUAL_REMINDER: ("employee_id", "about_date"),
    Kind.NO_ADDRESS_REPORT: ("about_date",),
    Kind.BACKFILL_SUMMARY: ("user_id", "about_date"),
    Kind.IMPORT_FINISHED: ("user_id", "reference"),
}

# Asked for by anyone at the sign-in page, for an address nobody looked up: one row per request (no natural
# key; the request throttle bounds them), and the logins are found only when it is sent.
ASKED_KINDS = frozenset({Kind.SIGN_IN_LINK, Kind.PASSWORD_RESET})

# Kinds whose relevance the rules decide again just before sending.
RULED_KINDS = frozenset(
    {Kind.REMINDER, Kind.PROOF_RECEIVED, Kind.MISSING_BEFORE_DUE, Kind.MISSING_OVERDUE, Kind.ESCALATION}
)
LAPSED_STATUSES = frozenset({Status.EXPIRED, Status.PREREQUISITE_LAPSED, Status.MISSING})
# Statuses whose card to renew is reminded about (a lapsed prerequisite's card included).
_REMINDED_STATUSES = frozenset({Status.COMPLIANT, Status.EXPIRING, Status.EXPIRED, Status.PREREQUISITE_LAPSED})
_MISSING_STATUSES = frozenset({Status.NOT_YET_DUE, Status.MISSING})


def parse_days(text: str) -> tuple[int, ...]:
    """ "90, 60,30" -> (90, 60, 30): distinct whole days, none negative, largest first. ValueError otherwise."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise ValueError("Give at least one number of days.")
    days = set()
    for part in parts:
        if not part.isdigit():
            raise ValueError(f"{part!r} is not a whole number of days (0 or more).")
        days.add(int(part))
    return tuple(sorted(days, reverse=True))


@dataclass(frozen=True)
class Policy:
    reminder_days: tuple[int, ...]
    missing_days: tuple[int, ...]
    repeat_every_days: int
    # Per certification type: (thresholds, repeat while lapsed)
    by_type: Mapping[int, tuple[tuple[int, ...], bool]] = field(default_factory=dict)

    def thresholds_for(self, type_id: int | None) -> tuple[int, ...]:
        return self.by_type[type_id][0] if type_id is not None and type_id in self.by_type else self.reminder_days

    def repeats_for(self, type_id: int | None) -> int:
        repeats = self.by_type[type_id][1] if type_id is not None and type_id in self.by_type else True
        return self.repeat_every_days if repeats else 0


@dataclass(frozen=True, slots=True)
class RequirementFact:
    """One stored compliance result (RequirementStatus) with what the rules need beside it."""

    requirement_id: int
    mandatory: bool
    status: Status
    any_of: frozenset[int]
    credential_id: int | None = None
    credential_type_id: int | None = None
    expires_on: datetime.date | None = None  # effective expiry
    due_on: datetime.date | None = None
    since: datetime.date | None = None
    reason: str = ""
    # The card to renew (see compliance.engine.RequirementResult), its type and its own expiry.
    renew_credential_id: int | None = None
    renew_type_id: int | None = None
    renew_expires_on: datetime.date | None = None


@dataclass(frozen=True, slots=True)
class PendingProof:
    """A credential uploaded and waiting for HR's verification."""

    credential_id: int
    type_id: int
    issued_on: datetime.date
    expires_on: datetime.date | None


@dataclass(frozen=True, slots=True)
class PersonFacts:
    employee_id: int
    department_id: int
    user_id: int | None  # their login: a manager is never escalated about themselves
    terminated_on: datetime.date | None
    requirements: tuple[RequirementFact, ...] = ()
    pending: tuple[PendingProof, ...] = ()


@dataclass(frozen=True, slots=True)
class Notice:
    kind: Kind
    employee_id: int | None = None
    about_date: datetime.date | None = None
    days_before: int = 0
    credential_id: int | None = None
    requirement_id: int | None = None
    user_id: int | None = None

    @property
    def key(self) -> tuple:
        return notice_key(self.kind, self)


def notice_key(kind: str, item) -> tuple:
    """The natural key of a notice or an outbox row (anything with the KEY_FIELDS attributes)."""
    kind = Kind(kind)
    return (kind, *(getattr(item, name) for name in KEY_FIELDS[kind]))


def current_step(days_left: int, thresholds: Iterable[int], repeat_every_days: int) -> int | None:
    """The step of a sequence in force `days_left` days before its date (negative: days after), or None.

    Before the date: the nearest threshold not yet passed, i.e. the smallest one >= days_left.
    After it: every `repeat_every_days` (-7, -14, ...) if repeating; in between, the last threshold.
    """
    if days_left < 0 and repeat_every_days:
        step = -((-days_left) // repeat_every_days) * repeat_every_days
        if step < 0:
            return step
    return min((t for t in thresholds if t >= days_left), default=None)


def missing_step(days_left: int, thresholds: Iterable[int], repeat_every_days: int) -> int | None:
    """The step of a missing requirement's sequence `days_left` days before its due day, or None.

    The due day is the last day to comply (step 0 is that day); overdue starts the day after, so
    the overdue steps are -1, then every `repeat_every_days` after it (-8, -15, ... for weekly).
    """
    if days_left >= 0:
        return current_step(days_left, (*thresholds, 0), 0)
    if not repeat_every_days:
        return -1
    late = -days_left - 1
    return -(1 + late // repeat_every_days * repeat_every_days)


def notices_for(
    person: PersonFacts,
    *,
    day: datetime.date,
    policy: Policy,
    managers: Mapping[int, Iterable[int]],
) -> list[Notice]:
    """Every notice due for this person on `day`, without duplicates: one per card to renew and step."""
    if person.terminated_on is not None and person.terminated_on < day:
        return []  # their last day is still a working day; from the next one, nothing
    notices: dict[tuple, Notice] = {}
    # A card meeting a mandatory and a recommended requirement is reminded about as a mandatory one.
    mandatory_cards = {r.renew_credential_id for r in person.requirements if r.mandatory and r.renew_credential_id}
    escalated = _escalated_rows(person.requirements)
    for requirement in person.requirements:
        renewals = [p for p in person.pending if _renews(p, requirement, day)]
        if renewals:
            for proof in renewals:
                notice = Notice(
                    Kind.PROOF_RECEIVED,
                    person.employee_id,
                    about_date=proof.issued_on,
                    credential_id=proof.credential_id,
                )
                notices.setdefault(notice.key, notice)
            continue
        mandatory_card = requirement.renew_credential_id in mandatory_cards
        for notice in _staff_notices(person, requirement, day, policy, mandatory_card):
            notices.setdefault(notice.key, notice)
        if requirement.requirement_id in escalated:
            for notice in _escalations(person, requirement, day, managers):
                notices.setdefault(notice.key, notice)
    return list(notices.values())


def _escalated_rows(requirements: Iterable[RequirementFact]) -> set[int]:
    """The requirement rows that carry an escalation: one per action (card to renew, or missing requirement).

    Rows lapsed because of the same card since the same day are one action; the escalation is keyed
    by the row the card itself meets (the BLS's own requirement), else by the lowest requirement id,
    so the same row is chosen on every run.
    """
    chosen: dict[tuple, RequirementFact] = {}
    for requirement in requirements:
        if not (requirement.mandatory and requirement.status in LAPSED_STATUSES and requirement.since):
            continue
        action = (
            ("card", requirement.renew_credential_id, requirement.since)
            if requirement.renew_credential_id
            else ("requirement", requirement.requirement_id)
        )
        best = chosen.get(action)
        if best is None or _rank(requirement) < _rank(best):
            chosen[action] = requirement
    return {requirement.requirement_id for requirement in chosen.values()}


def _rank(requirement: RequirementFact) -> tuple[bool, int]:
    return (requirement.credential_id != requirement.renew_credential_id, requirement.requirement_id)


def dependents_of(person: PersonFacts, credential_id: int) -> list[RequirementFact]:
    """The rows a card keeps met besides its own: an ACLS that counts only while this BLS is current."""
    return [
        r
        for r in person.requirements
        if r.renew_credential_id == credential_id and r.credential_id and r.credential_id != credential_id
    ]


def _renews(proof: PendingProof, requirement: RequirementFact, day: datetime.date) -> bool:
    """Is this uploaded proof a renewal of (or the first card for) the requirement?"""
    if proof.type_id not in requirement.any_of:
        return False
    if proof.issued_on > day or (proof.expires_on is not None and proof.expires_on < day):
        return False  # not current: it renews nothing
    if proof.credential_id == requirement.credential_id or requirement.expires_on is None:
        return True
    return proof.expires_on is None or proof.expires_on > requirement.expires_on


def _staff_notices(
    person: PersonFacts, requirement: RequirementFact, day: datetime.date, policy: Policy, mandatory_card: bool
) -> list[Notice]:
    status = requirement.status
    if status in _REMINDED_STATUSES and requirement.renew_credential_id and requirement.renew_expires_on:
        expiry = requirement.renew_expires_on
        if _leaves_before(person, expiry):
            return []
        type_id = requirement.renew_type_id
        # Recommended credentials get their reminders up to the day; nagging after it is for mandatory ones.
        repeat = policy.repeats_for(type_id) if requirement.mandatory or mandatory_card else 0
        step = current_step((expiry - day).days, policy.thresholds_for(type_id), repeat)
        if step is None:
            return []
        return [
            Notice(
                Kind.REMINDER,
                person.employee_id,
                about_date=expiry,
                days_before=step,
                credential_id=requirement.renew_credential_id,
                requirement_id=requirement.requirement_id,
            )
        ]

    if status in _MISSING_STATUSES and requirement.mandatory and requirement.due_on:
        if _leaves_before(person, requirement.due_on):
            return []
        step = missing_step((requirement.due_on - day).days, policy.missing_days, policy.repeat_every_days)
        if step is None:
            return []
        return [
            Notice(
                Kind.MISSING_BEFORE_DUE if step >= 0 else Kind.MISSING_OVERDUE,
                person.employee_id,
                about_date=requirement.due_on,
                days_before=step,
                requirement_id=requirement.requirement_id,
            )
        ]
    return []


def _leaves_before(person: PersonFacts, day: datetime.date) -> bool:
    return person.terminated_on is not None and person.terminated_on < day


def _escalations(
    person: PersonFacts, requirement: RequirementFact, day: datetime.date, managers: Mapping[int, Iterable[int]]
) -> list[Notice]:
    if requirement.since is None or requirement.since > day:  # only lapsed rows, which have a since, escalate
        return []
    return [
        Notice(
            Kind.ESCALATION,
            person.employee_id,
            about_date=requirement.since,
            credential_id=requirement.credential_id,
            requirement_id=requirement.requirement_id,
            user_id=manager_id,
        )
        for manager_id in managers.get(person.department_id, ())
        if manager_id != person.user_id
    ]


def is_backfill(notice: Notice, day: datetime.date) -> bool:
    """An escalation about a lapse that began before `day`: what a backfill rolls into a summary."""
    return notice.kind == Kind.ESCALATION and notice.about_date is not None and notice.about_date < day


def needs_attention(requirement: RequirementFact, day: datetime.date, horizon_days: int) -> bool:
    """For a reminder HR sends by hand: lapsed, missing, or expiring within the horizon."""
    if requirement.status in LAPSED_STATUSES:
        return True
    if requirement.status == Status.NOT_YET_DUE:
        return requirement.mandatory
    return (
        requirement.status in (Status.COMPLIANT, Status.EXPIRING)
        and requirement.expires_on is not None
        and (requirement.expires_on - day).days <= horizon_days
    )


def week_start(day: datetime.date) -> datetime.date:
    """The Monday of `day`'s week: the key that makes a manager's digest weekly."""
    return day - datetime.timedelta(days=day.weekday())
