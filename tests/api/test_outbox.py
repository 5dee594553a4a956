"""The notification outbox, read-only: HR sees every email, managers those about their people or to them,
staff those about themselves."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.notifications.models import Notification
from tests import factories

from .conftest import D

pytestmark = pytest.mark.django_db

V1 = "/api/v1/notifications/outbox"


def reminder_for(employee, **fields):
    credential = employee.credentials.first()
    return Notification.objects.create(
        kind="reminder",
        employee=employee,
        credential=credential,
        about_date=credential.expires_on,
        days_before=fields.pop("days_before", 30),
        recipient=employee.email,
        subject=f"Your {credential.certification_type.code} card expires soon",
        **fields,
    )


@pytest.fixture
def outbox(world):
    return {
        "alice": reminder_for(world.alice),
        "bob": reminder_for(world.bob, status="sent"),
        "digest": Notification.objects.create(
            kind="digest", user=world.margaret, about_date=D(2026, 3, 16), recipient="margaret@example.org"
        ),
    }


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_hr_reads_the_whole_outbox_and_filters_it(api, hr_admin, outbox):
    api.force_login(hr_admin)

    assert ids(api.get(f"{V1}/")) == {email.pk for email in outbox.values()}
    assert ids(api.get(f"{V1}/", {"status": "sent"})) == {outbox["bob"].pk}
    assert ids(api.get(f"{V1}/", {"kind": "digest"})) == {outbox["digest"].pk}
    email = api.get(f"{V1}/{outbox['alice'].pk}/").json()
    assert email["subject"] == "Your BLS card expires soon"
    assert email["status"] == "ready"


def test_a_manager_reads_their_departments_and_their_own_emails(api, world, outbox):
    api.force_login(world.margaret)

    assert ids(api.get(f"{V1}/")) == {outbox["alice"].pk, outbox["digest"].pk}
    assert api.get(f"{V1}/{outbox['bob'].pk}/").status_code == 404


def test_staff_read_the_emails_about_themselves(api, world, outbox):
    api.force_login(world.alice.user)

    assert ids(api.get(f"{V1}/")) == {outbox["alice"].pk}
    assert api.get(f"{V1}/{outbox['digest'].pk}/").status_code == 404


def test_the_outbox_is_read_only_even_for_hr(api, hr_admin, outbox):
    api.force_login(hr_admin)

    assert api.post(f"{V1}/", {}, format="json").status_code == 405
    assert api.delete(f"{V1}/{outbox['alice'].pk}/").status_code == 405
    assert api.patch(f"{V1}/{outbox['alice'].pk}/", {"status": "sent"}, format="json").status_code == 405


def test_anonymous_and_charlie_are_refused(api, charlie, outbox):
    assert api.get(f"{V1}/").status_code == 401
    api.force_login(charlie)
    assert api.get(f"{V1}/").status_code == 403
    assert api.get(f"{V1}/{outbox['alice'].pk}/").status_code == 403


def test_the_outbox_runs_a_fixed_number_of_queries(api, hr_admin, world):
    api.force_login(hr_admin)
    counts = []
    for size in (5, 100):
        for n in range(Notification.objects.count(), size):
            reminder_for(world.alice if n % 2 else world.bob, days_before=n, user=factories.UserFactory())
        with CaptureQueriesContext(connection) as queries:
            assert len(api.get(f"{V1}/", {"page_size": size}).json()["results"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
