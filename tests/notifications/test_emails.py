"""What each email says, in its text part and its HTML part, as sent through the outbox."""

import datetime
import re

import pytest
from django.core import mail
from django.utils.formats import date_format

from apps.certifications.services import credential_create
from apps.compliance.engine import Status
from apps.compliance.models import RequirementStatus
from apps.notifications import emails
from tests import factories
from tests.notifications.conftest import D, html_of, notification_of, on, run_day, visible_text, ward_nurse

pytestmark = pytest.mark.django_db

TODAY = D(2026, 6, 1)
UPLOAD = "https://credtrack.example.org/me/credentials/upload/"


@pytest.fixture(autouse=True)
def hr_contact(settings):
    settings.HR_CONTACT_EMAIL = "hr@riverside.example"


def assert_common(message, html):
    """Every staff email: the upload link, HR's contact, both parts, and it says it is automatic."""
    assert UPLOAD in message.body
    assert f'href="{UPLOAD}' in html
    assert "hr@riverside.example" in message.body
    assert 'href="mailto:hr@riverside.example"' in html
    assert "<" not in message.body.replace("<notification", "")  # plain text, no markup
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"


def test_a_reminder_names_the_person_the_card_the_date_the_days_left_and_what_to_do(catalogue):
    nurse, card = ward_nurse(catalogue, bls_expires=D(2026, 7, 1), first_name="Nora", email="nora@example.org")
    (message,) = run_day(TODAY)
    html = html_of(message)

    assert message.to == ["nora@example.org"]
    assert message.subject == "Your BLS expires in 30 days (Jul 1, 2026)"
    for part in (message.body, visible_text(html)):
        assert "Hello Nora," in part
        assert "Basic Life Support (BLS)" in part
        assert "Wednesday, Jul 1, 2026" in part
        assert "30 days from today" in part
        assert "Book a BLS renewal with an AHA training centre." in part
        assert "https://cpr.heart.org/bls" in part
        assert "America/New_York" in part
    assert_common(message, html)
    assert notification_of(message).credential == card
    assert message.extra_headers["Message-ID"] == emails.notification_message_id(notification_of(message).id)


def test_days_left_count_in_the_organisations_time_zone(catalogue):
    ward_nurse(catalogue, bls_expires=D(2026, 6, 30))
    # 23:30 on 29 June in New York is already 30 June in UTC: still one day to go here.
    with on(D(2026, 6, 29), hour=23):
        from apps.compliance import services as compliance
        from apps.notifications import tasks

        compliance.scan_run()
        tasks.plan_notifications.delay()
    (message,) = mail.outbox
    assert message.subject == "Your BLS expires in 1 day (Jun 30, 2026)"


def test_the_expiry_day_and_lapsed_reminders_say_so(catalogue):
    ward_nurse(catalogue, bls_expires=TODAY)
    ward_nurse(catalogue, bls_expires=TODAY - datetime.timedelta(days=14))
    today, lapsed = sorted(run_day(TODAY), key=lambda m: m.subject, reverse=True)
    assert today.subject == "Your BLS expires today"
    assert "expires today, Monday, Jun 1, 2026. It is valid until the end of the day." in today.body
    assert lapsed.subject == "Your BLS expired 14 days ago: please renew it"
    for part in (lapsed.body, visible_text(html_of(lapsed))):
        assert "expired on" in part and "Monday, May 18, 2026" in part
        assert "Until it is renewed you are not compliant for your role." in part


def test_one_renewal_is_one_reminder_and_it_names_what_depends_on_it(catalogue):
    # An ED nurse whose BLS expires in 60 days and whose ACLS in over a year: one action, renew the BLS.
    nurse = factories.EmployeeFactory(role=catalogue.nurse, department=catalogue.ed, email="ed@example.org")
    factories.CredentialFactory(
        employee=nurse, certification_type=catalogue.bls, issued_on=D(2024, 7, 1), expires_on=D(2026, 7, 31)
    )
    factories.CredentialFactory(
        employee=nurse, certification_type=catalogue.acls, issued_on=D(2025, 9, 5), expires_on=D(2027, 9, 30)
    )
    (message,) = run_day(D(2026, 6, 1))
    assert message.subject == "Your BLS expires in 60 days (Jul 31, 2026)"
    for part in (message.body, visible_text(html_of(message))):
        assert "Your ACLS counts only while your BLS is current" in part
    acls_row = RequirementStatus.objects.get(employee=nurse, requirement=catalogue.advanced)
    assert acls_row.status == Status.COMPLIANT
    assert acls_row.reason == "ACLS current until 2027-09-30; counts while BLS is current (BLS expires 2026-07-31)."


def test_the_proof_received_email_says_hr_is_verifying_it(catalogue):
    nurse, _ = ward_nurse(catalogue, bls_expires=D(2026, 6, 20), first_name="Nora")
    with on(TODAY):
        credential_create(employee=nurse, certification_type=catalogue.bls, issued_on=D(2026, 5, 30))
    (message,) = run_day(TODAY)
    assert message.subject == "We have your BLS proof: HR is verifying it"
    for part in (message.body, visible_text(html_of(message))):
        assert "Hello Nora," in part
        assert "Basic Life Support (BLS), issued on May 30, 2026" in part
        assert "valid until May 31, 2028" in part
        assert "HR is verifying it." in part
        assert "You will get no more reminders" in part


def test_a_newcomer_is_told_what_is_needed_by_when_and_the_options(catalogue):
    newcomer = factories.EmployeeFactory(
        role=catalogue.nurse, department=catalogue.ward, hired_on=TODAY, first_name="Nia", email="nia@example.org"
    )
    (message,) = run_day(TODAY)
    html = html_of(message)
    assert message.to == [newcomer.email]
    assert message.subject == "Needed for your role by Jul 1, 2026: BLS or CPR"
    for part in (message.body, visible_text(html)):
        assert "Hello Nia," in part
        assert "Basic Life Support (BLS) or Cardiopulmonary Resuscitation (CPR)" in part
        assert "Wednesday, Jul 1, 2026" in part and "30 days from today" in part
        assert "Book a BLS renewal with an AHA training centre." in part
    assert_common(message, html)


def test_an_overdue_requirement_says_how_late_it_is(catalogue):
    factories.EmployeeFactory(role=catalogue.nurse, department=catalogue.ward, hired_on=D(2026, 4, 22))
    (message,) = run_day(TODAY)
    assert message.subject == "Overdue: BLS or CPR was due on May 22, 2026"
    for part in (message.body, visible_text(html_of(message))):
        assert "It was due on Friday, May 22, 2026, 10 days ago" in part
        assert "you are not compliant for your role" in part


def test_an_escalation_tells_the_manager_who_what_and_since_when(catalogue, manager):
    nurse, _ = ward_nurse(catalogue, bls_expires=D(2026, 5, 29), first_name="Nora", last_name="<b>Nurse</b>")
    message = next(m for m in run_day(TODAY) if m.to == ["margaret@example.org"])
    html = html_of(message)
    assert message.subject == "Nora <b>Nurse</b> (Medical ward): expired since May 30, 2026"
    assert "Hello Margaret Moss," in message.body
    assert f"Nora <b>Nurse</b> ({nurse.employee_number}, Medical ward) is no longer compliant" in message.body
    assert "Nora &lt;b&gt;Nurse&lt;/b&gt;" in html and "<b>Nurse</b>" not in html
    for part in (message.body, visible_text(html)):
        assert "Saturday, May 30, 2026" in part and "(2 days ago)" in part
        assert "Basic Life Support (BLS) or Cardiopulmonary Resuscitation (CPR)" in part
        assert "Expired" in part
        # Dates in the one format pages use (issue 14), the engine's reason included.
        assert "BLS expired on May 29, 2026; lapsed since May 30, 2026." in part
        assert f"https://credtrack.example.org/employees/{nurse.pk}/" in part


def test_every_email_writes_dates_as_the_pages_do(catalogue, manager):
    """One date format everywhere: the organisation's DATE_FORMAT, never ISO days or another spelling."""
    ward_nurse(catalogue, bls_expires=D(2026, 5, 29), first_name="Nora")
    ward_nurse(catalogue, bls_expires=D(2026, 7, 1), first_name="Bob", email="bob@example.org")
    messages = run_day(TODAY)
    assert {m.to[0] for m in messages} >= {"margaret@example.org", "bob@example.org"}
    for message in messages:
        for part in (message.subject, message.body, visible_text(html_of(message))):
            assert not re.search(r"\b20\d\d-\d\d-\d\d\b", part), part
            assert not re.search(r"\b\d{1,2} (January|May|June|July|Jun|Jul) 2026\b", part), part
    bodies = " ".join(m.body for m in messages)
    for day in (D(2026, 5, 30), D(2026, 7, 1)):
        assert date_format(day) in bodies
