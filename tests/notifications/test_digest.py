"""The managers' weekly digest: what it says, once a week, skipped when empty if they prefer, bounded queries."""

import datetime

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.compliance import read
from apps.compliance import services as compliance
from apps.notifications import planning, selectors, tasks
from apps.notifications.models import Notification, NotificationPreference
from credtrack.celery import app
from tests import factories
from tests.notifications.conftest import D, html_of, on, visible_text, ward_nurse

pytestmark = pytest.mark.django_db

MONDAY = D(2026, 6, 1)


def send_digests(day=MONDAY):
    with on(day, hour=7):
        tasks.plan_digests.delay()


@pytest.fixture
def staff(catalogue, manager):
    """Margaret manages the ward and the ED; the ICU is someone else's."""
    catalogue.ed.managers.add(manager)
    ward_nurse(catalogue, bls_expires=D(2026, 5, 20), first_name="Nora", last_name="Nurse")
    ward_nurse(catalogue, bls_expires=D(2026, 6, 11), first_name="Bea", last_name="Baker")
    ward_nurse(catalogue, bls_expires=D(2027, 9, 30), first_name="Carl", last_name="Clark")
    dee = factories.EmployeeFactory(role=catalogue.nurse, department=catalogue.ed, first_name="Dee", last_name="Doe")
    factories.CredentialFactory(
        employee=dee, certification_type=catalogue.bls, issued_on=D(2025, 9, 5), expires_on=D(2027, 9, 30)
    )
    zed = factories.EmployeeFactory(role=catalogue.nurse, department=catalogue.icu, first_name="Zed", last_name="Zane")
    factories.CredentialFactory(
        employee=zed, certification_type=catalogue.bls, issued_on=D(2024, 5, 1), expires_on=D(2026, 5, 1)
    )
    with on(MONDAY, hour=2):
        compliance.scan_run()


def test_the_digest_gives_the_rate_the_counts_the_lapsed_and_the_expiring_across_departments(staff, mailoutbox):
    send_digests()
    (message,) = mailoutbox
    assert message.to == ["margaret@example.org"]
    assert message.subject == "Weekly compliance digest: 50.0% compliant, 2 to act on, 1 expiring soon"
    text, html = message.body, visible_text(html_of(message))
    assert "Hello Margaret Moss," in text
    assert "for Emergency Department, Medical ward." in text
    assert "Compliance rate: 50.0% (2 of 4 people)" in text
    assert "- Compliant: 1\n- Expiring soon: 1\n- Expired: 1\n- Missing (overdue): 1\n" in text
    assert (
        "Not compliant (2):\n"
        "- Dee Doe (Emergency Department): ACLS, missing (overdue) since Feb 6, 2020\n"
        "- Nora Nurse (Medical ward): BLS, expired since May 21, 2026\n"
    ) in text
    assert "Expiring in the next 30 days (1):\n- Bea Baker (Medical ward): BLS on Jun 11, 2026\n" in text
    assert "Zed" not in text and "Intensive Care Unit" not in text
    assert "Dashboard: https://credtrack.example.org/dashboard/" in text
    for expected in ("50.0% compliant", "Dee Doe", "Nora Nurse", "Bea Baker", "Jun 11, 2026", "Expired: 1"):
        assert expected in html
    assert "Zed" not in html


def test_one_digest_a_week_however_often_it_runs(staff, mailoutbox):
    send_digests()
    send_digests()
    send_digests(MONDAY + datetime.timedelta(days=2))
    assert len(mailoutbox) == 1
    send_digests(MONDAY + datetime.timedelta(days=7))
    assert len(mailoutbox) == 2


def test_an_empty_digest_is_skipped_only_for_managers_who_prefer_that(catalogue, manager, mailoutbox):
    quiet = factories.UserFactory(username="quinn", email="quinn@example.org")
    calm = factories.DepartmentFactory(code="calm", name="Calm unit")
    calm.managers.add(quiet, manager)
    NotificationPreference.objects.create(user=quiet, skip_empty_digest=True)
    # A newcomer not yet due, and nobody in the ward: nothing to say this week.
    factories.EmployeeFactory(role=catalogue.nurse, department=calm, hired_on=MONDAY - datetime.timedelta(days=5))
    with on(MONDAY, hour=2):
        compliance.scan_run()
    send_digests()
    assert [m.to for m in mailoutbox] == [["margaret@example.org"]]
    assert "Nobody." in visible_text(html_of(mailoutbox[0]))
    skipped = Notification.objects.get(user=quiet)
    assert skipped.status == Notification.Status.CANCELLED


def test_a_manager_who_skips_empty_digests_still_gets_one_with_news(staff, manager, mailoutbox):
    NotificationPreference.objects.create(user=manager, skip_empty_digest=True)
    send_digests()
    assert len(mailoutbox) == 1


def test_the_digest_reads_a_fixed_number_of_queries_whatever_the_size(catalogue, manager):
    def measure(extra_people: int) -> int:
        for _ in range(extra_people):
            ward_nurse(catalogue, bls_expires=D(2026, 6, 10))
            factories.EmployeeFactory(role=catalogue.nurse, department=catalogue.ward, hired_on=D(2020, 1, 6))
        with on(MONDAY, hour=2):
            compliance.scan_run()
        types, any_of = selectors.certification_types(), read.requirement_any_of()
        user = type(manager).objects.get(pk=manager.pk)  # as the outbox loads it: no permissions cached
        with CaptureQueriesContext(connection) as queries, on(MONDAY):
            digest = selectors.digest_for(user=user, day=MONDAY, types=types, any_of=any_of)
        return len(queries), digest.total

    small, small_total = measure(2)
    large, large_total = measure(40)
    assert (small_total, large_total) == (4, 84)
    # Eight for the digest, two for the unreadable-record check and its clean-up, two for "is this HR?".
    assert small == large <= 12


def test_planning_digests_reads_a_fixed_number_of_queries(staff, django_assert_max_num_queries):
    with on(MONDAY), django_assert_max_num_queries(8):
        planning.digests_plan()


def test_beat_sends_the_digest_on_the_configured_day_and_hour():
    entry = settings.CELERY_BEAT_SCHEDULE["weekly-manager-digests"]
    assert entry["schedule"] == crontab(
        day_of_week=settings.NOTIFICATIONS_DIGEST_WEEKDAY, hour=settings.NOTIFICATIONS_DIGEST_HOUR, minute=0
    )
    assert entry["task"] in app.tasks


def test_the_digest_lists_one_line_per_card_to_renew(catalogue, manager):
    catalogue.ed.managers.add(manager)
    nurse = factories.EmployeeFactory(role=catalogue.nurse, department=catalogue.ed, first_name="Eve", last_name="Ed")
    factories.CredentialFactory(
        employee=nurse, certification_type=catalogue.bls, issued_on=D(2024, 5, 1), expires_on=D(2026, 5, 20)
    )
    factories.CredentialFactory(
        employee=nurse, certification_type=catalogue.acls, issued_on=D(2025, 9, 5), expires_on=D(2027, 9, 30)
    )
    with on(MONDAY):
        compliance.scan_run()
        digest = selectors.digest_for(
            user=manager, day=MONDAY, types=selectors.certification_types(), any_of=read.requirement_any_of()
        )
    # Her BLS lapsed and her ACLS stopped counting with it: one action, one line.
    assert [(line.employee, line.what) for line in digest.lapsed] == [(nurse, "BLS")]
    assert digest.lapsed_total == 1
