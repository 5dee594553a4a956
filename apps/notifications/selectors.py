"""Reads for notifications: the stored compliance results turned into the rules' plain data.

Nothing here decides what is due (rules.py does). Every loader runs a fixed number of queries,
whatever the size of the organisation; the per-person facts are streamed in employee order.
"""

from __future__ import annotations

import datetime
import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q

from apps.certifications.models import CertificationType, Credential
from apps.compliance import read
from apps.compliance import selectors as compliance
from apps.compliance.engine import NON_COMPLIANT_STATUSES, Status
from apps.organisation import problems
from apps.organisation.models import DataProblem, Department, Employee
from apps.organisation.scoping import Scope, is_hr_admin

from . import rules
from .models import NotificationPreference, ReminderPolicy

STREAM_CHUNK = 2000
DIGEST_HORIZON_DAYS = 30
DIGEST_LIST_LIMIT = 100

_STATUS_FIELDS = (
    "employee_id",
    "employee__department_id",
    "employee__user_id",
    "employee__terminated_on",
    "employee__email",
    "requirement_id",
    "mandatory",
    "status",
    "credential_id",
    "credential__certification_type_id",
    "expires_on",
    "due_on",
    "since",
    "reason",
    "renew_credential_id",
    "renew_credential__certification_type_id",
    "renew_credential__expires_on",
)


def reminder_policy() -> rules.Policy:
    """The thresholds in force: settings' defaults and HR's per-type overrides (one query)."""
    overrides = {
        type_id: (rules.parse_days(days), repeat)
        for type_id, days, repeat in ReminderPolicy.objects.values_list(
            "certification_type_id", "reminder_days", "repeat_while_lapsed"
        )
    }
    return rules.Policy(
        reminder_days=tuple(settings.NOTIFICATIONS_REMINDER_DAYS),
        missing_days=tuple(settings.NOTIFICATIONS_MISSING_DAYS),
        repeat_every_days=settings.NOTIFICATIONS_REPEAT_EVERY_DAYS,
        by_type=overrides,
    )


@dataclass(frozen=True)
class Managers:
    """Active managers per department, and their addresses (one query)."""

    by_department: dict[int, tuple[int, ...]]
    emails: dict[int, str]


def department_managers() -> Managers:
    rows = Department.managers.through.objects.filter(user__is_active=True).values_list(
        "department_id", "user_id", "user__email"
    )
    by_department: dict[int, list[int]] = defaultdict(list)
    emails = {}
    for department_id, user_id, email in rows.order_by("department_id", "user_id"):
        by_department[department_id].append(user_id)
        emails[user_id] = email or ""
    return Managers({key: tuple(ids) for key, ids in by_department.items()}, emails)


def pending_proofs(employee_ids: Iterable[int] | None = None) -> dict[int, tuple[rules.PendingProof, ...]]:
    """Uploaded credentials awaiting verification, per employee (rarely more than a few hundred)."""
    pending = Credential.objects.filter(verification=Credential.Verification.PENDING)
    if employee_ids is not None:
        pending = pending.filter(employee_id__in=list(employee_ids))
    by_employee: dict[int, list[rules.PendingProof]] = defaultdict(list)
    for employee_id, credential_id, type_id, issued_on, expires_on in pending.order_by("id").values_list(
        "employee_id", "id", "certification_type_id", "issued_on", "expires_on"
    ):
        by_employee[employee_id].append(rules.PendingProof(credential_id, type_id, issued_on, expires_on))
    return {key: tuple(value) for key, value in by_employee.items()}


@dataclass(frozen=True)
class Person:
    facts: rules.PersonFacts
    email: str


def people(employee_ids: Iterable[int] | None = None) -> Iterator[Person]:
    """Each employee with stored results in the current run, with their results and pending proof.

    Four queries whatever the number of employees; the results stream in employee order so
    memory holds one chunk of rows at a time.
    """
    statuses = compliance.current_requirement_statuses()
    ids = None if employee_ids is None else sorted(set(employee_ids))
    if ids is not None:
        statuses = statuses.filter(employee_id__in=ids)
    any_of = read.requirement_any_of()
    pending = pending_proofs(ids)
    rows = (
        statuses.order_by("employee_id", "requirement_id")
        .values_list(*_STATUS_FIELDS)
        .iterator(chunk_size=STREAM_CHUNK)
    )
    for employee_id, grouped in itertools.groupby(rows, key=lambda row: row[0]):
        group = list(grouped)
        _, department_id, user_id, terminated_on, email = group[0][:5]
        requirements = tuple(
            rules.RequirementFact(
                requirement_id=requirement_id,
                mandatory=mandatory,
                status=Status(status),
                any_of=any_of.get(requirement_id, frozenset()),
                credential_id=credential_id,
                credential_type_id=type_id,
                expires_on=expires_on,
                due_on=due_on,
                since=since,
                reason=reason,
                renew_credential_id=renew_id,
                renew_type_id=renew_type_id,
                renew_expires_on=renew_expires_on,
            )
            for (
                *_,
                requirement_id,
                mandatory,
                status,
                credential_id,
                type_id,
                expires_on,
                due_on,
                since,
                reason,
                renew_id,
                renew_type_id,
                renew_expires_on,
            ) in group
        )
        facts = rules.PersonFacts(
            employee_id=employee_id,
            department_id=department_id,
            user_id=user_id,
            terminated_on=terminated_on,
            requirements=requirements,
            pending=pending.get(employee_id, ()),
        )
        yield Person(facts=facts, email=email or "")


def certification_types() -> dict[int, CertificationType]:
    """The whole (small) catalogue of types, for naming things in emails."""
    return CertificationType.objects.in_bulk()


@dataclass
class DepartmentSummary:
    statuses: Counter = field(default_factory=Counter)
    expiring_soon: int = 0

    @property
    def has_news(self) -> bool:
        """Anyone not compliant, or anyone expiring soon: something a digest should say."""
        return bool(self.expiring_soon) or any(n and not Status(s).is_compliant for s, n in self.statuses.items())


def department_summaries(day: datetime.date) -> dict[int, DepartmentSummary]:
    """Per department: employees by overall status, and people with a card expiring within 30 days (two queries)."""
    summaries: dict[int, DepartmentSummary] = defaultdict(DepartmentSummary)
    for department_id, status, count in (
        compliance.current_employee_statuses()
        .values_list("employee__department_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        summaries[department_id].statuses[status] = count
    for department_id, count in (
        _expiring_soon(compliance.current_requirement_statuses(), day)
        .values_list("employee__department_id")
        .annotate(n=Count("employee_id", distinct=True))
        .order_by()
    ):
        summaries[department_id].expiring_soon = count
    return summaries


def _one_per_card(rows):
    """One line per action: leave out a row whose card to renew is the card another row of the list names
    (an ED nurse's ACLS, stopped by the BLS that her BLS row already lists)."""
    named = rows.filter(employee=OuterRef("employee"), credential=OuterRef("renew_credential")).exclude(
        pk=OuterRef("pk")
    )
    return rows.exclude(Q(renew_credential__isnull=False) & ~Q(credential=F("renew_credential")) & Exists(named))


def _expiring_soon(statuses, day: datetime.date):
    return statuses.filter(
        mandatory=True,
        status__in=[Status.COMPLIANT, Status.EXPIRING],
        expires_on__gte=day,
        expires_on__lte=day + datetime.timedelta(days=DIGEST_HORIZON_DAYS),
    )


@dataclass(frozen=True)
class DigestManager:
    user_id: int
    email: str
    department_ids: tuple[int, ...]
    skip_empty: bool


def digest_managers() -> list[DigestManager]:
    """Every active manager with the departments they manage and their preference (two queries)."""
    departments: dict[int, list[int]] = defaultdict(list)
    emails: dict[int, str] = {}
    for user_id, department_id, email in (
        Department.managers.through.objects.filter(user__is_active=True)
        .order_by("user_id", "department_id")
        .values_list("user_id", "department_id", "user__email")
    ):
        departments[user_id].append(department_id)
        emails[user_id] = email or ""
    skipping = set(
        NotificationPreference.objects.filter(user_id__in=list(departments), skip_empty_digest=True).values_list(
            "user_id", flat=True
        )
    )
    return [
        DigestManager(user_id, emails[user_id], tuple(ids), user_id in skipping) for user_id, ids in departments.items()
    ]


@dataclass
class DigestLine:
    employee: Employee
    department: str
    what: str
    status_label: str
    on: datetime.date | None


@dataclass
class Digest:
    manager: object
    day: datetime.date
    departments: list[Department]
    total: int
    compliant: int
    counts: list[tuple[str, int]]
    lapsed: list[DigestLine]
    lapsed_total: int
    expiring: list[DigestLine]
    expiring_total: int
    data_problems: int | None = None

    @property
    def rate(self) -> float | None:
        return self.compliant / self.total if self.total else None

    @property
    def has_news(self) -> bool:
        return bool(self.lapsed_total or self.expiring_total or self.total - self.compliant)


def digest_for(*, user, day: datetime.date, types: dict[int, CertificationType], any_of) -> Digest:
    """A manager's week across all their departments, in eight queries whatever their size.

    Lists are capped (the totals say how many more); the dashboard has the rest.
    """
    departments = list(Department.objects.filter(managers=user).order_by("name"))
    # The people the manager oversees, as on their dashboard: staff who left count nowhere from the day after their
    # last day, even before tonight's scan drops them.
    overseen = read.People.overseen(Scope(False, frozenset(d.pk for d in departments), None))
    in_scope = Q(employee__in=overseen.today.values("id"))
    # Someone whose record cannot be read is left out (and listed for HR), not the end of everyone's digest.
    unreadable = problems.unreadable_recorded(
        Employee.objects.filter(department__in=departments),
        source=DataProblem.Source.DIGEST,
        employee="id",
        dates=problems.EMPLOYEE_DATES,
    )
    if unreadable:
        in_scope &= ~Q(employee_id__in=unreadable)
    counts = Counter(
        dict(
            compliance.current_employee_statuses()
            .filter(in_scope)
            .values_list("status")
            .annotate(n=Count("id"))
            .order_by()
        )
    )
    statuses = (
        compliance.current_requirement_statuses()
        .filter(in_scope)
        .select_related("employee__department")
        .annotate(credential_type_id=F("credential__certification_type_id"))
    )
    lapsed = _one_per_card(statuses.filter(mandatory=True, status__in=sorted(NON_COMPLIANT_STATUSES))).order_by(
        "employee__department__name", "employee__last_name", "employee__first_name", "employee_id", "requirement_id"
    )
    expiring = _one_per_card(_expiring_soon(statuses, day)).order_by(
        "expires_on", "employee__last_name", "employee__first_name", "employee_id"
    )

    def line(row, on: datetime.date | None) -> DigestLine:
        if row.credential_type_id in types and row.status != Status.MISSING:
            what = types[row.credential_type_id].code
        else:
            what = " or ".join(sorted(types[t].code for t in any_of.get(row.requirement_id, ()) if t in types))
        return DigestLine(row.employee, row.employee.department.name, what, Status(row.status).label, on)

    return Digest(
        manager=user,
        day=day,
        departments=departments,
        total=sum(counts.values()),
        compliant=sum(n for status, n in counts.items() if Status(status).is_compliant),
        counts=[(status.label, counts[status.value]) for status in Status if counts.get(status.value)],
        lapsed=[line(row, row.since) for row in lapsed[:DIGEST_LIST_LIMIT]],
        lapsed_total=lapsed.count(),
        expiring=[line(row, row.expires_on) for row in expiring[:DIGEST_LIST_LIMIT]],
        expiring_total=expiring.count(),
        # HR's own list to work through: how many people batch jobs had to skip.
        data_problems=DataProblem.objects.values("employee_id").distinct().count() if is_hr_admin(user) else None,
    )
