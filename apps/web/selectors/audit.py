"""The audit report: everyone in a department on a day, each requirement's status then and the card that met
it, from the engine (any day, the catalogue then in force), with the gaps of a survey window from the read model."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass

from django.db.models import QuerySet

from apps.certifications.models import Credential
from apps.compliance import selectors as compliance
from apps.compliance.engine import RequirementResult, Status
from apps.compliance.read import Tally
from apps.compliance.read.overview import Catalogue, Gaps, gaps
from apps.organisation.models import Department, Employee
from apps.organisation.selectors import in_departments_on


@dataclass(frozen=True)
class AuditLine:
    requirement: compliance.RequirementAsOf
    result: RequirementResult
    credential: Credential | None


@dataclass(frozen=True)
class AuditPerson:
    employee: Employee
    role: str
    status: Status
    lines: list[AuditLine]
    findings: list[str]


@dataclass(frozen=True)
class AuditReport:
    department: Department
    day: datetime.date
    everyone: Tally
    people: list[AuditPerson]
    # The catalogue applied: the one in force on `day`, last changed then (None: as first loaded).
    catalogue_changed_on: datetime.date | None = None
    gaps: Gaps | None = None  # with a survey window: who had a gap in it, and for how many days


def audit(
    *,
    employees: QuerySet[Employee],
    department: Department,
    day: datetime.date,
    catalogue: Catalogue,
    window_start: datetime.date | None = None,
) -> AuditReport:
    """Everyone in the department on `day`, each requirement's status then, and the card that met it."""
    employees = employees.filter(in_departments_on([department.pk]))
    answers = list(compliance.evaluate(employees, day, [department.pk]))
    # Whole sets by subquery rather than long id lists: a fixed number of queries for any department size.
    people = {person.pk: person for person in employees}
    # The requirements as they stood that day: one since changed or deleted reads as it did then.
    requirements = compliance.requirements_as_of(day)
    credentials = {
        card.pk: card for card in Credential.objects.filter(employee__in=employees).select_related("certification_type")
    }
    rows = [
        AuditPerson(
            employee=people[facts.id],
            role=catalogue.role_name(facts.role_id),
            status=result.status,
            lines=[
                AuditLine(
                    requirements[r.requirement_id], r, credentials.get(r.credential_id) if r.credential_id else None
                )
                for r in sorted(result.requirements, key=lambda r: (not r.mandatory, r.requirement_id))
            ],
            findings=[finding.message for finding in result.findings],
        )
        for facts, result in answers
        if facts.id in people
    ]
    rows.sort(key=lambda row: (row.employee.last_name, row.employee.first_name, row.employee.employee_number))
    return AuditReport(
        department=department,
        day=day,
        everyone=Tally(0, department.name, Counter(row.status.value for row in rows)),
        people=rows,
        catalogue_changed_on=compliance.load_catalogue(day).changed_on,
        gaps=gaps(department_ids=[department.pk], start=window_start, end=day) if window_start else None,
    )
