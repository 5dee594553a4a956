import datetime

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.certifications.models import Credential
from apps.imports import importer
from apps.imports.credentials import CredentialImport, credentials_import
from apps.organisation.models import Employee
from tests import factories
from tests.imports.conftest import CREDENTIAL_HEADER, credential_row, csv_file, csv_rows, xlsx_file

pytestmark = pytest.mark.django_db

D = datetime.date
PENDING, VERIFIED, REJECTED = Credential.Verification


@pytest.fixture
def staff(org):
    return [factories.EmployeeFactory(employee_number=f"E{i}", role=org.nurse, department=org.ed) for i in range(1, 4)]


def run(rows, user, *, dry_run=False, header=CREDENTIAL_HEADER):
    file = csv_file(csv_rows(header, rows), name="cards.csv")
    return credentials_import(file=file, user=user, dry_run=dry_run)


def messages(report):
    return [(error.row, error.column, error.message) for error in report.errors]


def test_it_creates_verified_credentials_with_proposed_expiry(staff, hr_admin, recomputes):
    report = run(
        [
            credential_row("E1", "BLS", "2025-09-05", card="AHA-1"),
            credential_row("E1", "ACLS", "2025-09-05", expires="2027-08-31"),
            credential_row("E2", "LIFE", "2020-01-01"),
        ],
        hr_admin,
    )

    assert report.ok and report.new == 3
    bls = Credential.objects.get(certification_type__code="BLS")
    assert (bls.expires_on, bls.card_number, bls.issuer) == (D(2027, 9, 30), "AHA-1", "AHA")
    assert (bls.verification, bls.verified_by, bls.verified_at) == (VERIFIED, hr_admin, timezone.now())
    assert Credential.objects.get(certification_type__code="ACLS").expires_on == D(2027, 8, 31)
    assert Credential.objects.get(certification_type__code="LIFE").expires_on is None
    assert report.changes[0].cells["expires_on"] == "2027-09-30 (proposed)"
    history = bls.history.get()
    assert (history.history_type, history.history_user) == ("+", hr_admin)
    assert recomputes == [sorted([staff[0].id, staff[1].id])]


def test_it_reads_xlsx(staff, hr_admin, recomputes):
    file = xlsx_file(CREDENTIAL_HEADER, [credential_row("E1", "BLS", D(2025, 9, 5)), credential_row("E2", "BLS")])

    report = credentials_import(file=file, user=hr_admin)

    assert report.ok and report.new == 2
    assert set(Credential.objects.values_list("issued_on", flat=True)) == {D(2025, 9, 5)}


def test_a_verification_column_overrides_the_default(staff, hr_admin, recomputes):
    run(
        [
            credential_row("E1", "BLS", verification="pending"),
            credential_row("E2", "BLS", verification="Rejected", reason="Blurred photo"),
        ],
        hr_admin,
    )

    pending = Credential.objects.get(employee=staff[0])
    assert (pending.verification, pending.verified_by, pending.verified_at) == (PENDING, None, None)
    rejected = Credential.objects.get(employee=staff[1])
    assert (rejected.verification, rejected.rejection_reason, rejected.verified_by) == (
        REJECTED,
        "Blurred photo",
        hr_admin,
    )


def test_reimporting_the_same_file_changes_nothing(staff, hr_admin, recomputes):
    rows = [credential_row("E1", "BLS", card="AHA-1"), credential_row("E2", "ACLS", expires="2027-01-31")]
    run(rows, hr_admin)
    history = Credential.history.count()

    again = run(rows, hr_admin)

    assert (again.new, again.changed, again.unchanged) == (0, 0, 2)
    assert Credential.history.count() == history
    assert len(recomputes) == 1


def test_a_card_number_identifies_the_card_to_correct(org, staff, hr_admin, recomputes):
    card = factories.CredentialFactory(
        employee=staff[0],
        certification_type=org.bls,
        issued_on=D(2025, 9, 1),
        expires_on=D(2027, 9, 30),
        card_number="AHA-7",
        verification=PENDING,
    )

    report = run(
        [credential_row("E1", "BLS", "2025-09-05", card="AHA-7", issuer="", verification="verified")], hr_admin
    )

    assert (report.new, report.changed) == (0, 1)
    card.refresh_from_db()
    assert (card.issued_on, card.verification, card.verified_by) == (D(2025, 9, 5), VERIFIED, hr_admin)
    assert report.changes[0].before == {"issued_on": "2025-09-01", "verification": "pending"}
    latest = card.history.latest()
    assert (latest.history_type, latest.history_user) == ("~", hr_admin)


def test_without_card_number_it_matches_on_the_issue_date(org, staff, hr_admin, recomputes):
    card = factories.CredentialFactory(
        employee=staff[0], certification_type=org.bls, issued_on=D(2025, 9, 5), card_number="", issuer=""
    )

    report = run([credential_row("E1", "BLS", "2025-09-05", card="AHA-9", issuer="Red Cross")], hr_admin)

    assert report.changed == 1
    card.refresh_from_db()
    assert (card.card_number, card.issuer) == ("AHA-9", "Red Cross")


def test_each_kind_of_bad_row_is_named_with_its_row_and_column(staff, hr_admin, recomputes):
    report = run(
        [
            credential_row("E1", "BLS"),
            credential_row("E1", "XYZ"),
            credential_row("E404", "BLS"),
            credential_row("E2", "BLS", "2025-09-05", expires="2025-01-31"),
            credential_row("E2", "ACLS", "05/09/2025"),
            credential_row("E1", "BLS"),
            credential_row("E3", "BLS", "2026-04-01"),
            credential_row("E3", "ACLS", verification="maybe"),
            credential_row("E2", "LIFE", verification="rejected"),
            credential_row("E3", "LIFE", reason="Looks fake"),
            credential_row("E1", "ACLS", issuer="x" * 201),
        ],
        hr_admin,
    )

    assert messages(report) == [
        (3, "certification", "Unknown certification code 'XYZ'; the codes are: ACLS, BLS, CPR, LIFE."),
        (4, "employee_number", "No employee has the number 'E404'; import the staff file first."),
        (5, "expires_on", "The expiry date 2025-01-31 is before the issue date 2025-09-05."),
        (6, "issued_on", "'05/09/2025' is not a date in the format YYYY-MM-DD (%Y-%m-%d)."),
        (7, "issued_on", "E1's BLS issued on 2025-09-05 appears again in this file (first on row 2)."),
        (8, "issued_on", "The issue date 2026-04-01 is in the future."),
        (9, "verification", "Unknown verification 'maybe': use verified, pending or rejected."),
        (10, "rejection_reason", "Give the reason this credential is rejected; the employee sees it."),
        (11, "rejection_reason", "A rejection reason goes only with verification 'rejected'."),
        (12, "issuer", "Longer than 200 characters (201)."),
    ]
    assert not Credential.objects.exists()
    assert recomputes == []


def test_a_missing_required_column_imports_nothing(staff, hr_admin, recomputes):
    report = run([["E1", "BLS"]], hr_admin, header="employee_number,certification")

    assert messages(report) == [(1, "issued_on", "Required column 'issued_on' is missing.")]


@pytest.mark.slow  # thousands of rows
def test_one_bad_row_among_thousands_imports_nothing_and_names_the_row(org, hr_admin, recomputes):
    Employee.objects.bulk_create(
        Employee(
            employee_number=f"N{i}",
            first_name="F",
            last_name="L",
            role=org.nurse,
            department=org.ed,
            hired_on=D(2020, 1, 1),
            assigned_on=D(2020, 1, 1),
        )
        for i in range(3000)
    )
    rows = [credential_row(f"N{i}", "BLS", "2025-09-05") for i in range(3000)]
    rows[2345] = credential_row("N2345", "BLS", "2025-09-31")

    report = run(rows, hr_admin)

    assert (report.rows, report.error_count) == (3000, 1)
    assert messages(report) == [(2347, "issued_on", "'2025-09-31' is not a date in the format YYYY-MM-DD (%Y-%m-%d).")]
    assert not Credential.objects.exists() and not Credential.history.exists()


@pytest.mark.slow  # a big file
def test_the_query_count_does_not_grow_with_rows(org, hr_admin, recomputes):
    employees = Employee.objects.bulk_create(
        Employee(
            employee_number=f"N{i}",
            first_name="F",
            last_name="L",
            role=org.nurse,
            department=org.ed,
            hired_on=D(2020, 1, 1),
            assigned_on=D(2020, 1, 1),
        )
        for i in range(1000)
    )

    def queries(numbers):
        with CaptureQueriesContext(connection) as captured:
            report = run([credential_row(f"N{i}", "BLS", "2025-09-05") for i in numbers], hr_admin)
        assert report.ok and report.new + report.changed == len(numbers)
        statements = [query["sql"].split()[0] for query in captured]
        return statements.count("SELECT"), len(statements)

    # Reads are per batch of 1000 rows; writes are multi-row statements, as many rows per statement as the
    # database takes (SQLite caps a statement at 999 parameters, PostgreSQL takes the whole batch).
    (small_reads, small), (large_reads, large) = queries(range(50)), queries(range(50, 500))
    assert small_reads == large_reads and large <= small + 450 // 25
    Credential.objects.filter(employee__in=employees).update(issuer="Old")
    (small_reads, small), (large_reads, large) = queries(range(50)), queries(range(50, 500))
    assert small_reads == large_reads and large <= small + 450 // 25


def test_a_database_refusal_imports_nothing_and_says_so(staff, hr_admin, recomputes, monkeypatch):
    def refuse(*args, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(importer.Importer, "create_with_history", refuse)
    report = run([credential_row("E1", "BLS")], hr_admin)

    assert [str(error) for error in report.errors] == [
        "The database refused the import, so nothing was imported: duplicate key value violates unique constraint"
    ]
    assert not report.committed and not Credential.objects.exists() and recomputes == []


def test_a_failure_while_writing_rolls_everything_back(staff, hr_admin, recomputes, monkeypatch):
    original = CredentialImport.write
    calls = []

    def write_then_find_a_problem(importer, planned):
        original(importer, planned)
        calls.append(1)
        importer.report.add_error(99, "issued_on", "Changed since the check.")

    monkeypatch.setattr(CredentialImport, "write", write_then_find_a_problem)
    report = run([credential_row("E1", "BLS")], hr_admin)

    assert calls and not report.ok and not report.committed
    assert not Credential.objects.exists() and not Credential.history.exists()
    assert recomputes == []


def test_on_postgresql_new_cards_and_their_history_are_copied_with_ids_from_the_sequence(
    postgres, staff, hr_admin, recomputes
):
    report = run([credential_row(f"E{i}", "BLS", "2025-09-05", card=f"AHA-{i}") for i in (1, 2, 3)], hr_admin)

    assert report.ok and report.new == 3
    cards = list(Credential.objects.order_by("id"))
    assert [c.card_number for c in cards] == ["AHA-1", "AHA-2", "AHA-3"]
    assert [c.created_at for c in cards] == [timezone.now()] * 3
    history = Credential.history.order_by("id")
    assert [(h.id, h.history_type, h.history_user, h.history_change_reason) for h in history] == [
        (c.id, "+", hr_admin, "Imported from cards.csv") for c in cards
    ]
    assert [h.history_date for h in history] == [timezone.now()] * 3
    # The sequence moved past the copied ids: the next card made the ordinary way follows them.
    assert factories.CredentialFactory(employee=staff[0]).id > cards[-1].id


def test_on_postgresql_a_card_that_appeared_since_the_check_refuses_the_whole_copy(
    postgres, org, staff, hr_admin, recomputes, monkeypatch
):
    factories.CredentialFactory(employee=staff[1], certification_type=org.bls, issued_on=D(2025, 9, 5))
    original = CredentialImport.look_up

    def look_up_missing_the_stored_card(importer, batch):
        found = original(importer, batch)
        found.by_issue.clear()
        return found

    monkeypatch.setattr(CredentialImport, "look_up", look_up_missing_the_stored_card)
    report = run([credential_row(f"E{i}", "BLS", "2025-09-05") for i in (1, 2)], hr_admin)

    assert not report.committed and len(report.errors) == 1
    assert report.errors[0].message.startswith("The database refused the import, so nothing was imported:")
    assert Credential.objects.count() == 1 and not Credential.history.filter(history_user=hr_admin).exists()


def test_repeats_are_found_across_batches_and_name_the_first_row(org, staff, hr_admin, recomputes, monkeypatch):
    card = factories.CredentialFactory(
        employee=staff[0], certification_type=org.bls, issued_on=D(2025, 9, 1), card_number="AHA-7"
    )
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)

    report = run(
        [
            credential_row("E2", "BLS", "2025-09-05", card="AHA-1"),
            credential_row("E3", "BLS", "2025-09-05"),
            credential_row("E1", "BLS", "2025-09-02", card="AHA-7"),  # corrects the stored card's issue day
            credential_row("E2", "BLS", "2025-09-05"),
            credential_row("E3", "ACLS", "2025-09-05", card="AHA-1"),
            credential_row("E2", "BLS", "2025-08-01", card="AHA-1"),
            credential_row("E1", "BLS", "2025-09-01"),  # the same stored card, by its stored issue day
        ],
        hr_admin,
    )

    assert messages(report) == [
        (5, "issued_on", "E2's BLS issued on 2025-09-05 appears again in this file (first on row 2)."),
        (7, "card_number", "E2's BLS card AHA-1 appears again in this file (first on row 2)."),
        (8, None, "Row 4 already updates this same credential."),
    ]
    assert not report.committed and Credential.objects.get() == card
