"""Reads behind one person's pages (their file, self-service, calendar): the engine's fresh answer for them,
their cards, what changed on their record and the emails about them. The caller opened the person through
`organisation.scoping` (`visible_employee_or_404`)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.text import capfirst

from apps.certifications.models import Credential, Requirement
from apps.compliance import selectors as compliance
from apps.compliance.engine import RequirementResult, Status
from apps.core import clock
from apps.notifications.models import Notification
from apps.organisation.models import Employee

HISTORY_ROWS = 60


@dataclass(frozen=True)
class RequirementLine:
    requirement: Requirement | compliance.RequirementAsOf
    result: RequirementResult
    awaiting_hr: bool = False  # the credential behind this answer is proof HR has not verified yet

    @property
    def status(self) -> Status:
        return self.result.status


@dataclass(frozen=True)
class PersonCompliance:
    status: Status
    lines: list[RequirementLine]


def person_compliance(employee: Employee, day: datetime.date) -> PersonCompliance | None:
    """One person's requirements as the engine answers them right now (fresh after an upload or a decision).

    None when they are not employed on `day`.
    """
    answers = list(compliance.evaluate(Employee.objects.filter(pk=employee.pk), day))
    if not answers:
        return None
    facts, result = answers[0]
    pending = {c.id for c in facts.credentials if c.verification == Credential.Verification.PENDING}
    requirements: Mapping[int, Requirement | compliance.RequirementAsOf]
    if day < clock.today():  # as they stood that day, not as today's table has them (changed or deleted since)
        requirements = compliance.requirements_as_of(day)
    else:
        requirements = Requirement.objects.prefetch_related("any_of").in_bulk(
            [r.requirement_id for r in result.requirements]
        )
    lines = [
        RequirementLine(requirements[r.requirement_id], r, awaiting_hr=r.credential_id in pending)
        for r in result.requirements
    ]
    lines.sort(key=lambda line: (not line.result.mandatory, -line.status.severity))
    return PersonCompliance(result.status, lines)


def person_credentials(employee: Employee) -> QuerySet[Credential]:
    return employee.credentials.select_related("certification_type", "verified_by").order_by(
        "certification_type__code", "-issued_on"
    )


@dataclass(frozen=True)
class Change:
    when: datetime.datetime
    who: object
    subject: str
    kind: str
    details: list[str]


_HISTORY_KINDS = {"+": "Created", "~": "Changed", "-": "Deleted"}


_EMPLOYEE_FIELDS = [
    "employee_number",
    "first_name",
    "last_name",
    "email",
    "role",
    "department",
    "hired_on",
    "assigned_on",
    "terminated_on",
]


_CREDENTIAL_FIELDS = ["issued_on", "expires_on", "issuer", "card_number", "proof", "verification", "rejection_reason"]


def person_history(employee: Employee, limit: int | None = HISTORY_ROWS) -> list[Change]:
    """What changed on the person's record and credentials, newest first, from simple-history (two queries)."""
    employee_versions = (
        Employee.history.filter(id=employee.pk)
        .select_related("history_user", "role", "department")
        .order_by("history_date")
    )
    credential_versions = (
        Credential.history.filter(employee_id=employee.pk)
        .select_related("history_user", "certification_type")
        .order_by("id", "history_date")
    )
    changes = [
        *_changes(employee_versions, _EMPLOYEE_FIELDS, lambda v: "Employee record"),
        *_changes(
            credential_versions,
            _CREDENTIAL_FIELDS,
            lambda v: f"{v.certification_type.code if v.certification_type else 'Card'} issued {v.issued_on}",
        ),
    ]
    changes.sort(key=lambda change: change.when, reverse=True)
    return changes[:limit]


def _changes(versions, fields: list[str], subject) -> list[Change]:
    changes: list[Change] = []
    previous: dict[int, dict] = {}
    for version in versions:
        before = previous.get(version.id)
        details = []
        if before is not None and version.history_type == "~":
            delta = version.diff_against(before, included_fields=fields, foreign_keys_are_objs=True)
            for change in delta.changes:
                label = capfirst(version._meta.get_field(change.field).verbose_name)
                if change.field == "proof":
                    details.append("a new proof file was attached" if change.new else "the proof file was removed")
                else:
                    details.append(f"{label}: {_shown(change.old)} → {_shown(change.new)}")
        previous[version.id] = version
        if before is not None and version.history_type == "~" and not details:
            continue  # a save that changed nothing a person would notice
        changes.append(
            Change(
                when=version.history_date,
                who=version.history_user,
                subject=subject(version),
                kind=_HISTORY_KINDS.get(version.history_type, version.history_type),
                details=details,
            )
        )
    return changes


def _shown(value) -> str:
    return "—" if value in (None, "") else str(value)


def person_reminders(employee: Employee, limit: int = HISTORY_ROWS):
    """Emails about this person (reminders to them, escalations about them), newest first."""
    return Notification.objects.filter(employee=employee).select_related("credential__certification_type")[:limit]
