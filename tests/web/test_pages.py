"""What the person, list and report pages say."""

import datetime

import pytest
from django.urls import reverse

from apps.certifications.models import Credential
from apps.compliance.engine import Status
from apps.core import clock
from apps.notifications.models import Notification
from apps.organisation.models import Employee
from tests import factories

pytestmark = pytest.mark.django_db


def html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_my_credentials_says_where_i_stand_and_what_to_do(client, hospital):
    client.force_login(hospital.alice.user)

    page = html(client.get(reverse("web:me")))

    assert "Expiring soon" in page
    assert "BLS expires on" in page
    assert "Book a renewal course now and upload your new card before" in page
    assert reverse("web:upload_proof") in page
    assert reverse("credential_proof", args=[hospital.alices_card.pk]) in page


def test_staff_with_a_lapse_are_told_to_renew_and_tell_their_manager(client, hospital):
    hospital.edgar.user = factories.UserFactory(username="edgar")
    hospital.edgar.save()
    client.force_login(hospital.edgar.user)

    page = html(client.get(reverse("web:me")))

    assert "Renew your BLS as soon as possible" in page
    assert "Renew the card this one depends on" in page


def test_the_employee_page_shows_requirements_credentials_and_history(client, hospital):
    card = hospital.alices_card
    card.expires_on += datetime.timedelta(days=31)
    card.save()
    client.force_login(hospital.manager)

    page = html(client.get(reverse("web:employee_detail", args=[hospital.alice.pk])))

    assert "Alice Adams" in page
    assert "BLS expires on" in page
    assert "Changed: BLS issued" in page
    before = card.expires_on - datetime.timedelta(days=31)
    assert f"Expires on: {before:%b %-d, %Y} → {card.expires_on:%b %-d, %Y}" in page
    assert "Created: Employee record" in page


def test_a_manager_sees_the_cards_but_never_the_proof_files(client, hospital):
    client.force_login(hospital.manager)

    page = html(client.get(reverse("web:employee_detail", args=[hospital.alice.pk])))

    assert hospital.alices_card.card_number in page
    assert reverse("credential_proof", args=[hospital.alices_card.pk]) not in page
    assert client.get(reverse("credential_proof", args=[hospital.alices_card.pk])).status_code == 404


def test_hr_sees_the_proof_link(client, hospital):
    client.force_login(hospital.hr)

    page = html(client.get(reverse("web:employee_detail", args=[hospital.alice.pk])))

    assert reverse("credential_proof", args=[hospital.alices_card.pk]) in page


def test_the_employee_page_lists_the_reminders_sent(client, hospital):
    Notification.objects.create(
        kind=Notification.Kind.REMINDER,
        employee=hospital.alice,
        credential=hospital.alices_card,
        about_date=hospital.alices_card.expires_on,
        days_before=60,
        recipient="alice@example.org",
        subject="Your BLS card expires soon",
        status=Notification.Status.SENT,
        sent_at=clock.now(),
    )
    client.force_login(hospital.manager)

    page = html(client.get(reverse("web:employee_detail", args=[hospital.alice.pk])))

    assert "Renewal reminder" in page
    assert "Your BLS card expires soon" in page
    assert "No reminders sent about this person." not in page


def test_an_employee_with_no_reminders_says_so(client, hospital):
    client.force_login(hospital.hr)

    page = html(client.get(reverse("web:employee_detail", args=[hospital.bob.pk])))

    assert "No reminders sent about this person." in page


def test_the_people_list_is_paginated_and_searchable(client, hospital):
    Employee.objects.bulk_create(
        factories.EmployeeFactory.build(department=hospital.ed, role=hospital.nurse, last_name=f"Zed{n:03d}")
        for n in range(60)
    )
    client.force_login(hospital.manager)

    first = client.get(reverse("web:employee_list"))
    second = client.get(reverse("web:employee_list"), {"page": 2})
    search = client.get(reverse("web:employee_list"), {"q": "adams"})

    assert len(first.context["page"]) == 50
    assert first.context["page"].paginator.count == 62
    assert "Page 1 of 2" in html(first)
    assert len(second.context["page"]) == 12
    assert [p.last_name for p in search.context["page"]] == ["Adams"]


def test_the_people_list_shows_stored_status_in_words(client, hospital):
    client.force_login(hospital.manager)

    rows = {p.last_name: p.compliance_status for p in client.get(reverse("web:employee_list")).context["page"]}

    assert rows == {"Adams": Status.EXPIRING, "Evans": Status.EXPIRED}


def test_the_forecast_lists_who_lapses_soonest_first(client, hospital):
    client.force_login(hospital.manager)

    page = client.get(reverse("web:forecast"), {"days": 60})

    lapse_day = hospital.alices_card.expires_on + datetime.timedelta(days=1)
    assert [(row.employee, row.since) for row in page.context["page"]] == [
        (hospital.alice, lapse_day),
        (hospital.alice, lapse_day),
    ]
    assert "Alice Adams" in html(page)


def test_the_forecast_refuses_a_horizon_past_a_year(client, hospital):
    client.force_login(hospital.manager)

    response = client.get(reverse("web:forecast"), {"days": 5000})

    assert response.context["form"].errors["days"]
    assert response.context["days"] == 90


def test_the_audit_report_answers_for_a_past_day(client, hospital):
    before_edgar_lapsed = clock.today() - datetime.timedelta(days=11)
    client.force_login(hospital.manager)

    response = client.get(
        reverse("web:audit_report"), {"department": hospital.ed.pk, "as_of": before_edgar_lapsed.isoformat()}
    )

    report = response.context["report"]
    assert [person.employee for person in report.people] == [hospital.alice, hospital.edgar]
    assert report.everyone.rate == 1.0
    edgar = report.people[1]
    assert edgar.status == Status.EXPIRING
    bls_line = next(line for line in edgar.lines if line.credential.certification_type == hospital.bls)
    assert bls_line.credential.verification == Credential.Verification.VERIFIED
    page = html(response)
    assert "@media print" not in page  # the print styles live in the stylesheet
    assert "Print or save as PDF" in page
    # Which catalogue applied: the test world's was recorded once, long before that day.
    assert report.catalogue_changed_on == datetime.date(2000, 1, 1)
    assert "As changed on" in page and "the requirements and prerequisites in force on that day" in page


def test_the_audit_form_asks_for_a_department_and_a_day(client, hospital):
    client.force_login(hospital.manager)

    page = html(client.get(reverse("web:audit_report")))

    assert "Choose a department" in page
    assert "Intensive Care Unit" not in page


def test_a_newcomer_is_told_what_to_get_by_when_then_that_hr_is_checking(client, hospital):
    ivy = hospital.ivy
    ivy.hired_on = ivy.assigned_on = clock.today() - datetime.timedelta(days=3)
    ivy.user = factories.UserFactory(username="ivy")
    ivy.save()
    client.force_login(ivy.user)
    due = clock.today() + datetime.timedelta(days=27)

    before = html(client.get(reverse("web:me")))
    Credential.objects.create(
        employee=ivy,
        certification_type=hospital.bls,
        issued_on=clock.today(),
        expires_on=clock.today() + datetime.timedelta(days=700),
        verification=Credential.Verification.PENDING,
    )
    after = html(client.get(reverse("web:me")))

    assert f"Get a BLS card and upload it by {due:%b %-d, %Y}." in before
    assert "Missing, not yet due" in before
    assert "HR is checking the card you uploaded" in after
