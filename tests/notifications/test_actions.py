"""Messages count actions, day by day: one email per card to renew per step, every lapse escalated
once however old, and old lapses rolled into one summary per manager only by an explicit backfill."""

import datetime

import pytest
from django.core import mail

from apps.compliance import services as compliance
from apps.notifications import delivery, planning
from apps.notifications.models import Notification, PlanningRun
from tests import factories
from tests import world as cast
from tests.notifications.conftest import D, on, run_day, ward_nurse

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def simulate(first: datetime.date, last: datetime.date) -> list[tuple[datetime.date, str, str]]:
    """Every email of every day from `first` to `last`: (day, to, subject)."""
    sent = []
    day = first
    while day <= last:
        sent += [(day, m.to[0], m.subject) for m in run_day(day)]
        day += DAY
    return sent


@pytest.fixture
def margaret(catalogue):
    """Margaret manages the ED."""
    return cast.margaret(catalogue)


def test_an_ed_nurse_hears_once_per_step_about_the_bls_and_never_about_the_acls(catalogue, margaret):
    nurse = factories.EmployeeFactory(
        role=catalogue.nurse, department=catalogue.ed, email="nia@example.org", first_name="Nia", last_name="Ng"
    )
    factories.CredentialFactory(
        employee=nurse, certification_type=catalogue.bls, issued_on=D(2024, 7, 1), expires_on=D(2026, 7, 31)
    )
    factories.CredentialFactory(
        employee=nurse, certification_type=catalogue.acls, issued_on=D(2025, 9, 5), expires_on=D(2027, 9, 30)
    )

    sent = simulate(D(2026, 6, 1), D(2026, 8, 9))

    assert sent == [
        (D(2026, 6, 1), "nia@example.org", "Your BLS expires in 60 days (Jul 31, 2026)"),
        (D(2026, 7, 1), "nia@example.org", "Your BLS expires in 30 days (Jul 31, 2026)"),
        (D(2026, 7, 17), "nia@example.org", "Your BLS expires in 14 days (Jul 31, 2026)"),
        (D(2026, 7, 24), "nia@example.org", "Your BLS expires in 7 days (Jul 31, 2026)"),
        (D(2026, 7, 31), "nia@example.org", "Your BLS expires today"),
        # The day after: the BLS lapsed and the ACLS stopped counting. One escalation, one card to renew.
        (D(2026, 8, 1), "margaret@example.org", "Nia Ng (Emergency Department): expired since Aug 1, 2026"),
        (D(2026, 8, 7), "nia@example.org", "Your BLS expired 7 days ago: please renew it"),
    ]
    escalation = next(m for m in mail.outbox if m.to == ["margaret@example.org"])
    assert "Also affected: their ACLS, which counts only while this card is current." in escalation.body


def test_a_record_entered_after_the_due_date_is_escalated_once(catalogue, margaret):
    medical_assistant = factories.RoleFactory(code="ma", name="Medical assistant")
    clinic = factories.DepartmentFactory(code="clinic", name="Outpatient clinic")
    clinic.managers.add(margaret)
    factories.RequirementFactory(role=medical_assistant, any_of=[catalogue.cpr, catalogue.bls])
    hired = D(2026, 3, 2)
    run_day(hired + 39 * DAY)  # the installation runs; nobody of theirs yet
    with on(hired + 40 * DAY):
        factories.EmployeeFactory(
            role=medical_assistant, department=clinic, hired_on=hired, first_name="Mo", last_name="Assist"
        )

    sent = simulate(hired + 40 * DAY, hired + 60 * DAY)

    escalations = [(day, subject) for day, to, subject in sent if to == "margaret@example.org"]
    assert escalations == [(hired + 40 * DAY, "Mo Assist (Outpatient clinic): missing (overdue) since Apr 2, 2026")]


def test_the_first_run_of_an_installation_rolls_old_lapses_into_one_summary_per_manager(catalogue, manager):
    PlanningRun.objects.all().delete()
    today = D(2026, 6, 1)
    ward_nurse(catalogue, bls_expires=D(2025, 1, 31), first_name="Old", last_name="Lapse")
    ward_nurse(catalogue, bls_expires=D(2026, 5, 20), first_name="Recent", last_name="Lapse")
    ward_nurse(catalogue, bls_expires=D(2026, 5, 31), first_name="Today", last_name="Lapse")

    first = run_day(today)

    to_margaret = [m for m in first if m.to == ["margaret@example.org"]]
    assert [m.subject for m in to_margaret] == [
        "2 lapses found on Jun 1, 2026 among your staff",
        "Today Lapse (Medical ward): expired since Jun 1, 2026",  # began today: not old, escalated on its own
    ]
    either = "Basic Life Support (BLS) or Cardiopulmonary Resuscitation (CPR)"
    assert f"- Old Lapse (Medical ward): {either}, since Feb 1, 2025" in to_margaret[0].body
    assert f"- Recent Lapse (Medical ward): {either}, since May 21, 2026" in to_margaret[0].body
    assert list(PlanningRun.objects.values_list("backfill", flat=True)) == [True]
    # The next days: the rolled-up lapses were seen; no escalation one by one, ever.
    later = simulate(today + DAY, today + 10 * DAY)
    assert [s for _, to, s in later if to == "margaret@example.org"] == []
    assert Notification.objects.filter(status=Notification.Status.ROLLED_UP).count() == 2


def test_an_import_marked_backfill_rolls_its_peoples_old_lapses_into_one_summary(catalogue, manager):
    run_day(D(2026, 5, 31))  # an installation that has been running
    with on(D(2026, 6, 1)):
        imported = [
            ward_nurse(catalogue, bls_expires=D(2025, 3, 31), first_name=name, last_name="Imported")[0]
            for name in ("Ann", "Ben")
        ]
        compliance.recompute_employees(employee_ids=[e.pk for e in imported])
        planning.notifications_plan(backfill_employee_ids=[e.pk for e in imported])
        delivery.outbox_deliver()
    summary = [m for m in mail.outbox if m.to == ["margaret@example.org"]]
    assert [m.subject for m in summary] == ["2 lapses found on Jun 1, 2026 among your staff"]
    later = simulate(D(2026, 6, 2), D(2026, 6, 8))
    assert [s for _, to, s in later if to == "margaret@example.org"] == []
