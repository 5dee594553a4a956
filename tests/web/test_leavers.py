"""Staff who left: on no manager's page, list, export or API answer after their last day, counted nowhere;
HR reach them through an explicit filter. The last day itself is still a working day."""

import datetime

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.compliance import services as compliance_services
from apps.core import clock
from apps.notifications.models import Notification

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


@pytest.fixture
def edgar_left_yesterday(hospital):
    """Edgar (ED, BLS expired) had his last day yesterday; tonight's scan has not run yet."""
    hospital.edgar.terminated_on = clock.today() - DAY
    hospital.edgar.save()
    return hospital


def pages(client, hospital):
    listed = {}
    for name in ("employee_list", "attention", "renewals"):
        body = client.get(reverse(f"web:{name}")).content.decode()
        listed[name] = "Evans" in body
        csv = b"".join(client.get(reverse(f"web:{name}"), {"format": "csv"}).streaming_content).decode()
        listed[f"{name} csv"] = "Evans" in csv
    listed["detail"] = client.get(reverse("web:employee_detail", args=[hospital.edgar.pk])).status_code
    return listed


def test_a_manager_no_longer_sees_someone_after_their_last_day(client, edgar_left_yesterday):
    hospital = edgar_left_yesterday
    client.force_login(hospital.manager)

    assert pages(client, hospital) == {
        "employee_list": False,
        "employee_list csv": False,
        "attention": False,
        "attention csv": False,
        "renewals": False,
        "renewals csv": False,
        "detail": 404,
    }
    api = APIClient()
    api.force_authenticate(hospital.manager)
    assert hospital.edgar.pk not in {row["id"] for row in api.get("/api/v1/employees/").json()["results"]}
    assert api.get(f"/api/v1/employees/{hospital.edgar.pk}/").status_code == 404
    assert api.get("/api/v1/employees/", {"left": "true"}).json()["results"] == []


def test_on_their_last_day_they_are_still_listed(client, hospital):
    hospital.edgar.terminated_on = clock.today()
    hospital.edgar.save()
    client.force_login(hospital.manager)
    assert pages(client, hospital)["attention"] is True
    assert pages(client, hospital)["detail"] == 200


def test_hr_reach_them_only_by_asking_and_they_count_nowhere(client, edgar_left_yesterday):
    hospital = edgar_left_yesterday
    client.force_login(hospital.hr)

    assert "Evans" not in client.get(reverse("web:employee_list")).content.decode()
    left = client.get(reverse("web:employee_list"), {"left": "on"}).content.decode()
    assert "Evans" in left and "Adams" not in left
    assert client.get(reverse("web:employee_detail", args=[hospital.edgar.pk])).status_code == 200
    api = APIClient()
    api.force_authenticate(hospital.hr)
    assert hospital.edgar.pk not in {row["id"] for row in api.get("/api/v1/employees/").json()["results"]}
    assert [row["id"] for row in api.get("/api/v1/employees/", {"left": "true"}).json()["results"]] == [
        hospital.edgar.pk
    ]
    assert api.get(f"/api/v1/employees/{hospital.edgar.pk}/").status_code == 200
    # The stored results still hold him until tonight's scan; the figures already leave him out.
    rollup = api.get("/api/v1/compliance/departments/").json()["results"]
    assert sum(row["total"] for row in rollup) == 4  # Alice, Bob, Ivy and Margaret's own record
    compliance_services.recompute_employees(employee_ids=[hospital.edgar.pk])
    assert sum(row["total"] for row in api.get("/api/v1/compliance/departments/").json()["results"]) == 4


def cards_and_emails_about_edgar(user, hospital):
    """Which of Edgar's cards and which emails about him the API gives this user."""
    card = hospital.edgar.credentials.first()
    Notification.objects.get_or_create(
        kind="reminder",
        employee=hospital.edgar,
        credential=card,
        about_date=card.expires_on,
        days_before=30,
        defaults={"recipient": "edgar@example.org", "subject": "Your BLS card expires soon"},
    )
    api = APIClient()
    api.force_authenticate(user)
    cards = api.get("/api/v1/credentials/", {"employee": hospital.edgar.pk}).json()["results"]
    emails = api.get("/api/v1/notifications/outbox/").json()["results"]
    return (
        sum(card["employee"] == hospital.edgar.pk for card in cards),
        sum(email["employee"] == hospital.edgar.pk for email in emails),
    )


def test_after_their_last_day_a_manager_no_longer_reads_their_cards_or_emails(edgar_left_yesterday):
    hospital = edgar_left_yesterday
    assert hospital.edgar.credentials.exists()
    assert cards_and_emails_about_edgar(hospital.manager, hospital) == (0, 0)
    held = hospital.edgar.credentials.count()
    assert cards_and_emails_about_edgar(hospital.hr, hospital) == (held, 1)


def test_on_their_last_day_a_manager_still_reads_their_cards_and_emails(hospital):
    hospital.edgar.terminated_on = clock.today()
    hospital.edgar.save()
    assert cards_and_emails_about_edgar(hospital.manager, hospital) == (hospital.edgar.credentials.count(), 1)
