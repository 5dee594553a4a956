"""Every email that asks staff to act carries the person's own sign-in link to the page for the action;
managers, HR and people without a login get the plain page address. One query per batch finds the logins."""

import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.provisioning import account_sync
from apps.certifications.services import credential_create
from apps.compliance import services as compliance
from apps.notifications import delivery, planning
from apps.organisation.models import Employee
from tests.notifications.conftest import D, html_of, on, run_day, ward_nurse

pytestmark = pytest.mark.django_db

TODAY = D(2026, 6, 1)
LINK = re.compile(r"https://credtrack\.example\.org/accounts/link/\?sesame=[^\s\"&]+&(?:amp;)?next=([^\s\"]+)")


def links_in(message) -> list[str]:
    return [match.group(1) for match in LINK.finditer(message.body)]


def test_a_reminder_links_to_the_upload_form_for_that_card_signed_in(client, catalogue):
    nurse, card = ward_nurse(catalogue, bls_expires=D(2026, 7, 1), email="nora@example.org")
    account_sync(employee=nurse)

    (message,) = run_day(TODAY)

    (target,) = links_in(message)
    assert target == f"%2Fme%2Fcredentials%2Fupload%2F%3Fcertification%3D{card.certification_type_id}"
    assert links_in(message)[0] in html_of(message)
    link = LINK.search(message.body).group(0)
    with on(TODAY):
        response = client.get(link.removeprefix("https://credtrack.example.org"))
        assert response["Location"] == f"/me/credentials/upload/?certification={card.certification_type_id}"
        page = client.get(response["Location"]).content.decode()
    assert f'<option value="{card.certification_type_id}" selected>' in page


def test_proof_received_links_to_their_own_page(catalogue):
    nurse, card = ward_nurse(catalogue, bls_expires=D(2026, 7, 1), email="nora@example.org")
    account_sync(employee=nurse)
    with_login = Employee.objects.select_related("user").get(pk=nurse.pk)
    with on(TODAY):
        credential_create(
            employee=with_login,
            certification_type=card.certification_type,
            issued_on=D(2026, 5, 20),
            expires_on=D(2028, 5, 31),
            verification="pending",
            acting_user=with_login.user,
        )
    run_day(TODAY)

    (received,) = [m for m in mail.outbox if "verifying" in m.subject]
    assert links_in(received) == ["%2Fme%2F"]


def test_a_manager_who_is_also_an_employee_gets_no_sign_in_link(catalogue):
    nurse, _ = ward_nurse(catalogue, bls_expires=D(2026, 7, 1), email="mona@example.org")
    account_sync(employee=nurse)
    catalogue.icu.managers.add(Employee.objects.get(pk=nurse.pk).user)

    (message,) = run_day(TODAY)

    assert links_in(message) == []
    assert "https://credtrack.example.org/me/credentials/upload/?certification=" in message.body


def test_finding_the_logins_costs_the_same_queries_for_any_batch_size(catalogue):
    def delivery_queries(count):
        for index in range(count):
            nurse, _ = ward_nurse(catalogue, bls_expires=D(2026, 7, 1), email=f"n{count}-{index}@example.org")
            account_sync(employee=nurse)
        with on(TODAY):
            compliance.scan_run()
            planning.notifications_plan()
            with CaptureQueriesContext(connection) as queries:
                delivery.outbox_deliver()
        return len([query for query in queries if "auth_user" in query["sql"]])

    assert delivery_queries(2) == delivery_queries(8)
