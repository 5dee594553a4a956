"""One bad row never stops everyone's reminders: the person is skipped, logged and listed for HR.

The bad row is written straight into the database, past the validators and the date constraints
(tests/bad_rows.py), as legacy data or another tool would: a card that lapsed in 1925 makes a weekly
reminder step of -36,000 days that the outbox's small integer cannot hold (the DataError this used to abort on).
"""

import datetime

import pytest

from apps.certifications.models import Credential
from apps.compliance import services as compliance
from apps.notifications import planning
from apps.notifications.models import Notification
from apps.organisation.models import DataProblem
from tests.bad_rows import unchecked
from tests.notifications.conftest import D, on, ward_nurse

pytestmark = pytest.mark.django_db
TODAY = D(2026, 3, 2)


@pytest.fixture
def alice_and_legacy_bob(catalogue):
    with on(TODAY):
        alice, _ = ward_nurse(catalogue, bls_expires=TODAY + datetime.timedelta(days=30), email="alice@example.org")
        bob, card = ward_nurse(catalogue, bls_expires=D(2027, 9, 30), email="bob@example.org")
        with unchecked():
            Credential.objects.filter(pk=card.pk).update(issued_on=D(1923, 3, 1), expires_on=D(1925, 3, 31))
        compliance.scan_run()
    return alice, bob


def test_everyone_else_still_gets_their_reminders(alice_and_legacy_bob, caplog):
    alice, bob = alice_and_legacy_bob

    with on(TODAY):
        report = planning.notifications_plan()

    assert Notification.objects.filter(employee=alice, kind="reminder", days_before=30).exists()
    assert not Notification.objects.filter(employee=bob).exists()
    assert report.people == 2
    problem = DataProblem.objects.get()
    assert (problem.employee, problem.source) == (bob, DataProblem.Source.PLANNING)
    assert "36" in problem.reason and "check the hire, assignment and card dates" in problem.reason
    assert f"skipped employee {bob.pk}" in caplog.text


def test_the_problem_goes_once_hr_fixes_the_dates(alice_and_legacy_bob):
    alice, bob = alice_and_legacy_bob
    with on(TODAY):
        planning.notifications_plan()
        Credential.objects.filter(employee=bob).update(issued_on=D(2024, 3, 1), expires_on=D(2026, 3, 31))
        compliance.recompute_employees(employee_ids=[bob.pk])

        planning.notifications_plan()

    assert not DataProblem.objects.exists()
    assert Notification.objects.filter(employee=bob).exists()


def test_a_row_the_database_refuses_skips_only_its_person(alice_and_legacy_bob, monkeypatch):
    """A failure no check foresaw: the batch is retried row by row and only the failing person is skipped."""
    from django.db import DataError

    alice, bob = alice_and_legacy_bob
    monkeypatch.setattr(planning, "_check_storable", lambda notice: None)
    insert = planning._insert

    def refuses_bob(rows):
        if any(row.employee_id == bob.pk for row in rows):
            raise DataError('value "-37128" is out of range for type smallint')
        insert(rows)

    monkeypatch.setattr(planning, "_insert", refuses_bob)

    with on(TODAY):
        planning.notifications_plan()

    assert Notification.objects.filter(employee=alice, kind="reminder").exists()
    assert DataProblem.objects.get().employee == bob
