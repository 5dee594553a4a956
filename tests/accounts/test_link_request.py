""" "Email me a sign-in link" and "forgot your password": the same answer for every address, with no lookup
of the address in the request (a worker does it, through Celery), throttled, and links for staff only."""

import re
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

REQUEST = reverse("sign_in_link_request")


def form_post(client, path, data, **extra):
    """As a browser posts a form with no file: anonymous multipart posts are refused before any view."""
    return client.post(path, urlencode(data), content_type="application/x-www-form-urlencoded", **extra)


def ask(client, email, **extra):
    return form_post(client, REQUEST, {"email": email}, **extra)


def test_the_login_page_offers_it(client):
    assert f'href="{REQUEST}"' in client.get(reverse("login")).content.decode()


def test_a_staff_member_gets_a_link_that_signs_them_in(client, dora, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(client, "DORA@example.org")
    assert response["Location"] == reverse("sign_in_link_sent")
    (message,) = mail.outbox
    assert message.to == ["dora@example.org"]
    assert message.subject == "Your credtrack sign-in link"
    link = re.search(r"https://\S+/accounts/link/\S+", message.body).group(0)
    assert link in message.alternatives[0][0].replace("&amp;", "&")
    assert client.get(link.removeprefix("https://credtrack.example.org"))["Location"] == reverse("web:me")


@pytest.mark.parametrize("address", ["nobody@example.org", "margaret@example.org", "dora@example.org"])
def test_every_address_gets_the_same_answer_without_being_looked_up(
    client, dora, address, django_capture_on_commit_callbacks
):
    factories.UserFactory(username="margaret", email="margaret@example.org", is_superuser=True)

    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as queued:
        response = ask(client, address)

    assert response.status_code == 302 and response["Location"] == reverse("sign_in_link_sent")
    assert not [q for q in queries if "auth_user" in q["sql"] or "organisation_employee" in q["sql"]]
    assert len(queued) == 1


def test_hr_and_unknown_addresses_get_no_email(client, django_capture_on_commit_callbacks):
    factories.UserFactory(username="margaret", email="margaret@example.org", is_superuser=True)

    with django_capture_on_commit_callbacks(execute=True):
        ask(client, "margaret@example.org")
        ask(client, "nobody@example.org")

    assert mail.outbox == []


def test_it_is_throttled_per_address_and_per_client(client, dora, settings, django_capture_on_commit_callbacks):
    settings.SIGN_IN_LINK_REQUESTS = 2
    with django_capture_on_commit_callbacks(execute=True):
        answers = [ask(client, "dora@example.org", REMOTE_ADDR=f"198.51.100.{n}").status_code for n in range(3)]
        other_clients = [ask(client, f"x{n}@example.org", REMOTE_ADDR="203.0.113.9").status_code for n in range(3)]

    assert answers == [302, 302, 429]
    assert other_clients == [302, 302, 429]
    assert len(mail.outbox) == 2


def test_the_password_reset_page_looks_nobody_up_in_the_request(client, dora, django_capture_on_commit_callbacks):
    assert not dora.user.has_usable_password()  # provisioned staff may choose a password this way

    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as queued:
        response = form_post(client, reverse("password_reset"), {"email": "dora@example.org"})

    assert response["Location"] == reverse("password_reset_done")
    assert not [q for q in queries if "auth_user" in q["sql"]]
    assert mail.outbox == []
    queued[0]()
    assert len(mail.outbox) == 1
