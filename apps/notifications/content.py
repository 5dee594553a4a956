"""What each email says: the template context for every kind, from plain objects.

The same builders serve real sends (delivery.py) and HR's preview with sample data (`samples`),
so the preview shows exactly what staff and managers receive.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import formats

from apps.certifications.models import CertificationType, Credential
from apps.compliance.engine import Status
from apps.core import clock, dates
from apps.organisation.models import Department, Employee

from . import rules
from .emails import absolute
from .selectors import Digest, DigestLine


def options_for(type_ids, types: dict[int, CertificationType]) -> list[CertificationType]:
    return sorted((types[t] for t in type_ids if t in types), key=lambda t: t.code)


def options_text(options: list[CertificationType]) -> str:
    return " or ".join(f"{t.name} ({t.code})" for t in options) or "a certification"


def person_name(user) -> str:
    return user.get_full_name() or user.get_username()


def reminder_context(
    *,
    employee: Employee,
    credential: Credential,
    certification: CertificationType,
    expires_on: datetime.date,
    today: datetime.date,
    dependents: Sequence[CertificationType] = (),
) -> dict:
    days_left = (expires_on - today).days
    return {
        # Cards that count only while this one is current: one renewal keeps them all.
        "dependents": list(dependents),
        "dependents_text": " and ".join(t.code for t in dependents),
        "recipient_name": employee.first_name,
        "certification": certification,
        "expires_on": expires_on,
        "days_left": days_left,
        "days_ago": -days_left,
        "state": "ahead" if days_left > 0 else "today" if days_left == 0 else "lapsed",
    }


def proof_received_context(*, employee: Employee, credential: Credential, certification: CertificationType) -> dict:
    return {
        "recipient_name": employee.first_name,
        "certification": certification,
        "issued_on": credential.issued_on,
        "card_expires_on": credential.expires_on,
    }


def missing_context(
    *, employee: Employee, options: list[CertificationType], due_on: datetime.date, today: datetime.date
) -> dict:
    days_left = (due_on - today).days
    return {
        "recipient_name": employee.first_name,
        "options": options,
        "options_text": options_text(options),
        "due_on": due_on,
        "days_left": days_left,
        "days_overdue": -days_left,
    }


def escalation_context(
    *,
    manager,
    employee: Employee,
    department: Department,
    options: list[CertificationType],
    certification: CertificationType | None,
    status: Status,
    since: datetime.date,
    reason: str,
    today: datetime.date,
    affected: Sequence[CertificationType] = (),
) -> dict:
    return {
        # Cards that stopped counting with this one: the same lapse, so the same email.
        "affected_text": " and ".join(t.code for t in affected),
        "recipient_name": person_name(manager),
        "employee": employee,
        "department": department,
        "options_text": options_text(options),
        "certification": certification,
        "status_label": status.label,
        "since": since,
        "days_since": (today - since).days,
        "reason": dates.local_dates(reason),  # the engine's ISO days, in the one date format pages use
        "employee_url": absolute(reverse("web:employee_detail", args=[employee.pk])),
    }


def backfill_summary_context(*, manager, day: datetime.date, rows: list, types, any_of) -> dict:
    """One manager's lapses found by a backfill (first scan, or an import marked backfill), in one email."""
    lines = []
    for row in rows:
        options = options_for(any_of.get(row.requirement_id, ()), types)
        lines.append(
            {
                "employee": row.employee,
                "department": row.employee.department.name,
                "what": options_text(options),
                "since": row.about_date,
            }
        )
    return {
        "recipient_name": person_name(manager),
        "day": day,
        "lines": lines,
        "count": len(lines),
        "dashboard_url": absolute(reverse("web:dashboard")),
        "data_problems_url": absolute(reverse("admin:organisation_dataproblem_changelist")),
    }


def digest_context(*, digest: Digest) -> dict:
    return {
        "recipient_name": person_name(digest.manager),
        "digest": digest,
        "rate_percent": None if digest.rate is None else round(digest.rate * 100, 1),
        "lapsed_more": digest.lapsed_total - len(digest.lapsed),
        "expiring_more": digest.expiring_total - len(digest.expiring),
        "dashboard_url": absolute(reverse("web:dashboard")),
        "data_problems_url": absolute(reverse("admin:organisation_dataproblem_changelist")),
    }


@dataclass(frozen=True)
class AttentionItem:
    what: str
    status_label: str
    date_label: str
    date: datetime.date | None
    guidance: list[CertificationType]


def attention_items(
    requirements: list[rules.RequirementFact], types: dict[int, CertificationType], today: datetime.date
) -> list[AttentionItem]:
    items = []
    for requirement in requirements:
        held = types.get(requirement.credential_type_id) if requirement.credential_type_id else None
        options = options_for(requirement.any_of, types)
        if requirement.status in (Status.MISSING, Status.NOT_YET_DUE) or held is None:
            what, guidance = options_text(options), options
        else:
            what, guidance = f"{held.name} ({held.code})", [held]
        if requirement.status in (Status.COMPLIANT, Status.EXPIRING):
            date_label, date, label = "expires on", requirement.expires_on, "Expiring soon"
        elif requirement.status == Status.NOT_YET_DUE:
            date_label, date, label = "due by", requirement.due_on, requirement.status.label
        else:
            date_label, date, label = "since", requirement.since, requirement.status.label
        items.append(AttentionItem(what, label, date_label, date, guidance))
    return items


def manual_reminder_context(*, employee: Employee, items: list[AttentionItem]) -> dict:
    guidance = {option.code: option for item in items for option in item.guidance}
    return {
        "recipient_name": employee.first_name,
        "employee": employee,
        "items": items,
        "guidance": list(guidance.values()),
    }


def no_address_report_context(*, day: datetime.date, rows: list, total: int) -> dict:
    return {
        "recipient_name": "HR team",
        "day": day,
        "rows": rows,
        "total": total,
        "more": total - len(rows),
        "admin_url": absolute(reverse("admin:notifications_notification_changelist") + "?status__exact=no_address"),
    }


@dataclass(frozen=True)
class NoAddressLine:
    name: str
    reference: str
    where: str
    kind_label: str


# Sample data for HR's preview: unsaved objects, never written anywhere.


@dataclass(frozen=True)
class _SampleRolledUp:
    employee: Employee
    requirement_id: int
    about_date: datetime.date


IMPORT_EMAILED_ERRORS = 20


def import_finished_context(
    *,
    kind: str,
    file_name: str,
    started,
    summary: str,
    outcome: str,
    errors: Sequence[str],
    error_count: int,
    job_path: str,
) -> dict:
    """The import's result for the user who started it (`outcome`: imported, refused or failed)."""
    return {
        "kind": kind,
        "file_name": file_name,
        "started": formats.date_format(
            started, "DATETIME_FORMAT" if isinstance(started, datetime.datetime) else "DATE_FORMAT"
        ),
        "summary": summary,
        "errors": list(errors[:IMPORT_EMAILED_ERRORS]),
        "more_errors": max(error_count - IMPORT_EMAILED_ERRORS, 0),
        "committed": outcome == "imported",
        "failed": outcome == "failed",
        "job_url": absolute(job_path),
    }


def samples() -> list[tuple[str, str, dict]]:
    """(email name, variant, context) for every email staff, managers and HR can receive."""
    today = clock.today()
    bls = CertificationType(
        id=1,
        code="BLS",
        name="Basic Life Support",
        renewal_guidance="Book a BLS renewal (classroom or blended) with an AHA training centre; "
        "the skills check takes about four hours.",
        renewal_url="https://cpr.heart.org/en/courses/basic-life-support-course-options",
    )
    cpr = CertificationType(id=2, code="CPR", name="Cardiopulmonary Resuscitation (incl. AED, first aid)")
    acls = CertificationType(id=3, code="ACLS", name="Advanced Cardiovascular Life Support")
    types = {t.id: t for t in (bls, cpr, acls)}
    department = Department(name="Emergency Department", code="ED")
    alice = Employee(id=123, first_name="Alice", last_name="Adams", employee_number="E000123", department=department)
    manager = get_user_model()(username="mmorgan", first_name="Maria", last_name="Morgan")
    card = Credential(issued_on=today - datetime.timedelta(days=700), expires_on=today + datetime.timedelta(days=30))
    renewal = Credential(issued_on=today, expires_on=today + datetime.timedelta(days=730))
    lapsed = today - datetime.timedelta(days=14)

    def reminder(days_left: int) -> dict:
        expiry = today + datetime.timedelta(days=days_left)
        credential = Credential(issued_on=card.issued_on, expires_on=expiry)
        return reminder_context(
            employee=alice, credential=credential, certification=bls, expires_on=expiry, today=today, dependents=[acls]
        )

    line = DigestLine(alice, department.name, "BLS", Status.EXPIRED.label, lapsed)
    soon = DigestLine(
        Employee(first_name="Bob", last_name="Baker", employee_number="E000124", department=department),
        department.name,
        "ACLS",
        Status.EXPIRING.label,
        today + datetime.timedelta(days=12),
    )
    digest = Digest(
        manager=manager,
        day=today,
        departments=[department, Department(name="Intensive Care Unit", code="ICU")],
        total=42,
        compliant=39,
        counts=[(Status.COMPLIANT.label, 35), (Status.EXPIRING.label, 4), (Status.EXPIRED.label, 3)],
        lapsed=[line],
        lapsed_total=3,
        expiring=[soon],
        expiring_total=4,
    )
    missing = [bls, cpr]
    items = attention_items(
        [
            rules.RequirementFact(1, True, Status.EXPIRING, frozenset({1, 2}), 10, 1, card.expires_on),
            rules.RequirementFact(2, True, Status.MISSING, frozenset({3}), due_on=lapsed, since=lapsed),
        ],
        types,
        today,
    )
    return [
        ("reminder", "30 days before expiry", reminder(30)),
        ("reminder", "on the day of expiry", reminder(0)),
        ("reminder", "lapsed, weekly", reminder(-14)),
        (
            "proof_received",
            "renewal uploaded",
            proof_received_context(employee=alice, credential=renewal, certification=bls),
        ),
        (
            "missing_before_due",
            "newcomer, 14 days left",
            missing_context(employee=alice, options=missing, due_on=today + datetime.timedelta(days=14), today=today),
        ),
        ("missing_overdue", "overdue", missing_context(employee=alice, options=missing, due_on=lapsed, today=today)),
        (
            "escalation",
            "expired",
            escalation_context(
                manager=manager,
                employee=alice,
                department=department,
                options=missing,
                certification=bls,
                status=Status.EXPIRED,
                since=lapsed,
                reason=f"BLS expired on {lapsed - datetime.timedelta(days=1)}; lapsed since {lapsed}.",
                today=today,
                affected=[acls],
            ),
        ),
        ("digest", "weekly", digest_context(digest=digest)),
        (
            "backfill_summary",
            "first scan or an import marked backfill",
            backfill_summary_context(
                manager=manager,
                day=today,
                rows=[
                    _SampleRolledUp(alice, 1, lapsed),
                    _SampleRolledUp(soon.employee, 2, today - datetime.timedelta(days=200)),
                ],
                types=types,
                any_of={1: frozenset({1, 2}), 2: frozenset({3})},
            ),
        ),
        ("manual_reminder", "sent by HR", manual_reminder_context(employee=alice, items=items)),
        (
            "no_address_report",
            "daily",
            no_address_report_context(
                day=today,
                rows=[
                    NoAddressLine(alice.full_name, alice.employee_number, department.name, rules.Kind.REMINDER.label)
                ],
                total=1,
            ),
        ),
        (
            "sign_in_link",
            "asked for at the sign-in page",
            {
                "recipient_name": alice.first_name,
                "links": [{"name": alice.full_name, "url": absolute(f"{reverse('sign_in_link')}?sesame=SAMPLE")}],
                "link_days": settings.SESAME_MAX_AGE.days,
            },
        ),
        (
            "password_reset",
            "asked for at the sign-in page",
            {
                "recipient_name": alice.first_name,
                "resets": [{"username": alice.employee_number, "url": absolute("/accounts/reset/SAMPLE/set/")}],
                "reset_days": 3,
            },
        ),
        (
            "import_finished",
            "refused",
            import_finished_context(
                kind="credentials",
                file_name="cards.xlsx",
                started=today,
                summary="cards.xlsx: 3 row(s): 2 new, 0 changed, 0 unchanged, 1 error(s). Nothing was imported.",
                outcome="refused",
                errors=["Row 3, column certification: Unknown certification type 'BSL'."],
                error_count=1,
                job_path="/admin/imports/importjob/1/change/",
            )
            | {"recipient_name": person_name(manager)},
        ),
    ]
