import csv
import datetime
import io
from dataclasses import dataclass

import pytest
import time_machine
from openpyxl import Workbook

from apps.certifications.models import CertificationType
from apps.imports.parsing import ImportFile
from apps.organisation.models import Role
from tests import factories
from tests.world import Hospital

TODAY = datetime.date(2026, 3, 10)
STAFF_HEADER = (
    "employee_number,first_name,last_name,email,username,role,department,manager,hired_on,assigned_on,terminated_on"
)
CREDENTIAL_HEADER = (
    "employee_number,certification,issued_on,expires_on,issuer,card_number,verification,rejection_reason,notes"
)


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(datetime.datetime(2026, 3, 10, 17, 0, tzinfo=datetime.UTC), tick=False):
        yield


@dataclass
class Organisation(Hospital):
    paramedic: Role
    life: CertificationType  # a card that never expires


@pytest.fixture
def org(hospital):
    """The hospital of tests/world.py, with a role that needs nothing and a card that never expires."""
    return Organisation(
        **vars(hospital),
        paramedic=factories.RoleFactory(code="paramedic", name="Paramedic"),
        life=factories.CertificationTypeFactory(code="LIFE", expires=False, validity_months=None),
    )


def csv_file(text: str, *, name: str = "file.csv", encoding: str = "utf-8") -> ImportFile:
    return ImportFile.from_bytes(text.encode(encoding), name=name)


def csv_rows(header: str, rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header.split(","))
    writer.writerows(rows)
    return buffer.getvalue()


def xlsx_bytes(header: str, rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header.split(","))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_file(header: str, rows: list[list], *, name: str = "file.xlsx") -> ImportFile:
    return ImportFile.from_bytes(xlsx_bytes(header, rows), name=name)


def staff_row(
    number="E1",
    first="Ana",
    last="Silva",
    *,
    email="",
    username="",
    role="rn",
    department="ED",
    manager="",
    hired="2024-01-15",
    assigned="",
    terminated="",
):
    return [number, first, last, email, username, role, department, manager, hired, assigned, terminated]


def credential_row(
    number="E1",
    code="BLS",
    issued="2025-09-05",
    *,
    expires="",
    issuer="AHA",
    card="",
    verification="",
    reason="",
    notes="",
):
    return [number, code, issued, expires, issuer, card, verification, reason, notes]


@pytest.fixture
def recomputes(monkeypatch):
    """Every queue_recompute call, instead of queueing (tests never commit, so nothing would run anyway)."""
    calls = []
    monkeypatch.setattr(
        "apps.compliance.tasks.queue_recompute", lambda *, employee_ids: calls.append(sorted(employee_ids))
    )
    return calls
