"""Beat's daily run over simulated sequences of days: exactly the expected emails, no more, no fewer."""

import datetime
import logging

import pytest
from django.core import mail

from apps.certifications.services import credential_create, credential_reject
from apps.compliance import services as compliance
from apps.notifications import delivery, planning, tasks
from apps.notifications.models import Notification
from tests import factories
from tests import world as cast
from tests.notifications.conftest import D, on, run_day, ward_nurse

pytestmark = pytest.mark.django_db

EXPIRY = D(2026, 6, 30)


def day(offset: int) -> datetime.date:
    return EXPIRY + datetime.timedelta(days=offset)


def simulate(first: int, last: int, *, on_day=None) -> list[tuple[int, str, str]]:
    """Run beat's day for every day from EXPIRY+first to EXPIRY+last; (offset, recipient, subject) of each email."""
    sent = []
    for offset in range(first, last + 1):
        if on_day:
            with on(day(offset), hour=8):
                on_day(offset)
        sent += [(offset, message.to[0], message.subject) for message in run_day(day(offset))]
    return sent


def test_a_credential_is_reminded_at_each_threshold_then_weekly_and_its_manager_told_once(catalogue, manager):
    ward_nurse(catalogue, bls_expires=EXPIRY, first_name="Nora", last_name="Nurse", email="nora@example.org")

    assert simulate(-100, 22) == [
        (-90, "nora@example.org", "Your BLS expires in 90 days (Jun 30, 2026)"),
        (-60, "nora@example.org", "Your BLS expires in 60 days (Jun 30, 2026)"),
        (-30, "nora@example.org", "Your BLS expires in 30 days (Jun 30, 2026)"),
        (-14, "nora@example.org", "Your BLS expires in 14 days (Jun 30, 2026)"),
        (-7, "nora@example.org", "Your BLS expires in 7 days (Jun 30, 2026)"),
        (0, "nora@example.org", "Your BLS expires today"),
        (1, "margaret@example.org", "Nora Nurse (Medical ward): expired since Jul 1, 2026"),
        (7, "nora@example.org", "Your BLS expired 7 days ago: please renew it"),
        (14, "nora@example.org", "Your BLS expired 14 days ago: please renew it"),
        (21, "nora@example.org", "Your BLS expired 21 days ago: please renew it"),
    ]
    assert Notification.objects.exclude(status=Notification.Status.SENT).count() == 0


def test_first_seen_late_only_the_current_step_goes_out(catalogue):
    ward_nurse(catalogue, bls_expires=EXPIRY, email="nora@example.org")
    assert [subject for _, _, subject in simulate(-45, -40)] == ["Your BLS expires in 45 days (Jun 30, 2026)"]
    assert Notification.objects.get().days_before == 60


def test_running_the_day_twice_sends_nothing_more(catalogue, manager):
    ward_nurse(catalogue, bls_expires=day(30))
    ward_nurse(catalogue, bls_expires=day(-1))
    first = run_day(EXPIRY)
    assert len(first) == 3  # a 30-day reminder, an expiry-day reminder, one escalation
    assert run_day(EXPIRY) == []
    with on(EXPIRY):
        planning.notifications_plan()
        delivery.outbox_deliver()
        tasks.plan_notifications.delay()
    assert len(mail.outbox) == 3


def test_recording_the_renewal_stops_the_sequence(catalogue, manager):
    nurse, _ = ward_nurse(catalogue, bls_expires=EXPIRY)

    def renew(offset):
        if offset == -25:
            credential_create(
                employee=nurse,
                certification_type=catalogue.bls,
                issued_on=day(-25),
                verification="verified",
            )

    assert [(offset, subject) for offset, _, subject in simulate(-30, 10, on_day=renew)] == [
        (-30, "Your BLS expires in 30 days (Jun 30, 2026)")
    ]


def test_uploaded_proof_is_acknowledged_once_instead_and_a_rejection_resumes_the_sequence(catalogue, hr_admin):
    nurse, _ = ward_nurse(catalogue, bls_expires=EXPIRY, email="nora@example.org")
    uploaded = {}

    def upload_then_reject(offset):
        if offset == -20:
            uploaded["card"] = credential_create(
                employee=nurse, certification_type=catalogue.bls, issued_on=day(-21), card_number="NEW-1"
            )
        if offset == -10:
            credential_reject(credential=uploaded["card"], user=hr_admin, reason="The photo is unreadable.")

    assert [(offset, subject) for offset, _, subject in simulate(-22, -5, on_day=upload_then_reject)] == [
        (-22, "Your BLS expires in 22 days (Jun 30, 2026)"),  # first seen inside the 30-day step
        (-20, "We have your BLS proof: HR is verifying it"),
        (-10, "Your BLS expires in 10 days (Jun 30, 2026)"),  # the 14-day step, now that the proof is gone
        (-7, "Your BLS expires in 7 days (Jun 30, 2026)"),
    ]


def test_a_newcomer_is_reminded_before_the_due_date_then_weekly_once_overdue(catalogue):
    hired = D(2026, 3, 2)
    cast.margaret(catalogue)  # the ED's manager
    newcomer = factories.EmployeeFactory(
        role=catalogue.nurse, department=catalogue.ed, hired_on=hired, first_name="Nia", last_name="New"
    )
    factories.CredentialFactory(
        employee=newcomer, certification_type=catalogue.bls, issued_on=D(2025, 9, 5), expires_on=D(2027, 9, 30)
    )
    sent = []
    for offset in range(40):
        sent += [(offset, m.to[0], m.subject) for m in run_day(hired + datetime.timedelta(days=offset))]

    nia = newcomer.email
    assert sent == [
        (0, nia, "Needed for your role by Apr 1, 2026: ACLS"),
        (16, nia, "Needed for your role by Apr 1, 2026: ACLS"),
        (23, nia, "Needed for your role by Apr 1, 2026: ACLS"),
        (29, nia, "Needed for your role by Apr 1, 2026: ACLS"),
        (30, nia, "Needed for your role by Apr 1, 2026: ACLS"),  # the due day: the last day to comply
        (31, nia, "Overdue: ACLS was due on Apr 1, 2026"),  # overdue from the day after
        (31, "margaret@example.org", "Nia New (Emergency Department): missing (overdue) since Apr 2, 2026"),
        (38, nia, "Overdue: ACLS was due on Apr 1, 2026"),
    ]


def test_terminated_people_get_nothing(catalogue, manager):
    ward_nurse(catalogue, bls_expires=day(7), terminated_on=day(-1))
    left_today, _ = ward_nurse(catalogue, bls_expires=day(14))
    with on(day(-1)):
        compliance.scan_run()
    # They left yesterday; tonight's scan has not run yet, but the stored results still list them.
    left_today.terminated_on = day(-1)
    left_today.save()
    with on(EXPIRY):
        tasks.plan_notifications.delay()
    assert mail.outbox == []
    assert run_day(day(1)) == []


def test_people_without_an_address_are_reported_to_hr_and_reminded_once_one_is_added(catalogue, settings, caplog):
    settings.HR_CONTACT_EMAIL = "hr@example.org"
    nurse, _ = ward_nurse(catalogue, bls_expires=day(30), email="", first_name="Ned", last_name="Noaddress")

    with caplog.at_level(logging.WARNING, logger="apps.notifications.planning"):
        (report,) = run_day(EXPIRY)
    assert report.to == ["hr@example.org"]
    assert report.subject == "1 notification could not be sent on Jun 30, 2026: no email address"
    assert f"Ned Noaddress ({nurse.employee_number}, Medical ward): renewal reminder" in report.body
    assert nurse.employee_number in caplog.text
    held = Notification.objects.get(employee=nurse)
    assert held.status == Notification.Status.NO_ADDRESS
    assert run_day(day(1)) == []  # neither a second reminder row nor a second report

    nurse.email = "ned@example.org"
    nurse.save()
    (reminder,) = run_day(day(2))
    assert reminder.to == ["ned@example.org"]
    assert reminder.subject == "Your BLS expires in 28 days (Jul 30, 2026)"
    held.refresh_from_db()
    assert held.status == Notification.Status.SENT
