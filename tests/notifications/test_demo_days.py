"""Beat over two simulated weeks of the demo workforce: exactly the expected emails, no more, no fewer.

The expected reminders come from a day-over-day comparison of the stored results (which credentials
crossed into a new step since yesterday), not from the outbox's own bookkeeping.
"""

import datetime
from collections import Counter

import pytest
from django.conf import settings
from django.core import mail

from apps.certifications.models import Credential
from apps.compliance import selectors as compliance
from apps.compliance.engine import Status
from apps.demo import workforce
from apps.notifications import tasks
from apps.notifications.models import Notification
from apps.notifications.rules import Kind, current_step
from apps.organisation.models import Employee
from tests.notifications.conftest import D, notification_of, on, run_day

pytestmark = pytest.mark.django_db

START = D(2026, 3, 2)  # a Monday
DAYS = 14


def reminder_steps(day: datetime.date, quiet: set[int]) -> dict[tuple[int, datetime.date], int]:
    """(card to renew, its expiry) -> the reminder step in force on `day`, from the stored results.

    One key per card to renew, however many requirement rows it keeps met: messages count actions.
    """
    mandatory: dict[tuple[int, datetime.date], bool] = {}
    reminded = [Status.COMPLIANT, Status.EXPIRING, Status.EXPIRED, Status.PREREQUISITE_LAPSED]
    rows = compliance.current_requirement_statuses().filter(renew_credential__isnull=False, status__in=reminded)
    for employee_id, renew_id, expires_on, is_mandatory in rows.values_list(
        "employee_id", "renew_credential_id", "renew_credential__expires_on", "mandatory"
    ):
        if employee_id not in quiet and expires_on is not None:
            key = (renew_id, expires_on)
            mandatory[key] = mandatory.get(key, False) or is_mandatory
    steps = {}
    for (credential_id, expires_on), is_mandatory in mandatory.items():
        repeat = settings.NOTIFICATIONS_REPEAT_EVERY_DAYS if is_mandatory else 0
        step = current_step((expires_on - day).days, settings.NOTIFICATIONS_REMINDER_DAYS, repeat)
        if step is not None:
            steps[(credential_id, expires_on)] = step
    return steps


@pytest.mark.slow  # a demo workforce, two weeks of beat
def test_two_weeks_of_beat_over_the_demo_workforce(django_user_model):
    with on(START, hour=1):
        workforce.demo_workforce_create(employees=200, seed=7)
    # Left out of the reminder oracle: people with proof waiting for HR (acknowledged instead of reminded) and
    # people without an address (held in the outbox and reported to HR).
    quiet = set(
        Credential.objects.filter(verification=Credential.Verification.PENDING).values_list("employee_id", flat=True)
    ) | set(Employee.objects.filter(email="").values_list("id", flat=True))
    manager = django_user_model.objects.get(username=workforce.MANAGER_USERNAME)
    yesterday: dict = {}
    sent_by_kind = Counter()
    for offset in range(DAYS):
        day = START + datetime.timedelta(days=offset)
        messages = run_day(day)
        if day.weekday() == 0:
            before = len(mail.outbox)
            with on(day, hour=7):
                tasks.plan_digests.delay()
            messages += mail.outbox[before:]
        rows = [notification_of(message) for message in messages]

        today = reminder_steps(day, quiet)
        expected = {(*key, step) for key, step in today.items() if yesterday.get(key) != step}
        sent = {
            (row.credential_id, row.about_date, row.days_before)
            for row in rows
            if row.kind == Kind.REMINDER and row.employee_id not in quiet
        }
        assert sent == expected, f"on {day}"
        yesterday = today

        # The same day again (a second beat run, a retried task) delivers nothing more.
        before = len(mail.outbox)
        with on(day, hour=9):
            tasks.plan_notifications.delay()
            tasks.send_outbox.delay()
        assert len(mail.outbox) == before
        sent_by_kind.update(row.kind for row in rows)

    keys = [row.key for row in Notification.objects.all()]
    assert len(keys) == len(set(keys))
    assert len(mail.outbox) == Notification.objects.filter(status=Notification.Status.SENT).count()
    assert sent_by_kind[Kind.REMINDER] > 20 and sent_by_kind[Kind.PROOF_RECEIVED] > 0
    to_manager = Counter(notification_of(m).kind for m in mail.outbox if m.to == [manager.email])
    assert to_manager[Kind.DIGEST] == 2  # one on each of the two Mondays
    assert to_manager[Kind.ESCALATION] > 0
    assert Notification.objects.filter(status=Notification.Status.NO_ADDRESS).exists()  # the demo has some
    assert Notification.objects.filter(kind=Kind.NO_ADDRESS_REPORT).count() >= 1
