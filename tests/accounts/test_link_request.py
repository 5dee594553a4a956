""" "Email me a sign-in link" and "Forgot your password?": the same answer, from the same work, for every
address (the request looks nobody up: it writes one outbox row, and the sender finds the logins), throttled,
links for staff only, and each email sent once however often its delivery is tried."""

import re
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts.provisioning import account_sync
from apps.notifications import delivery, tasks
from apps.notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db

REQUEST = reverse("sign_in_link_request")
RESET = reverse("password_reset")
SITE = "https://credtrack.example.org"
Status = Notification.Status


def form_post(client, path, data, **extra):
    """As a browser posts a form with no file: anonymous multipart posts are refused before any view."""
    return client.post(path, urlencode(data), content_type="application/x-www-form-urlencoded", **extra)


def ask(client, email, path=REQUEST, **extra):
    return form_post(client, path, {"email": email}, **extra)


def test_the_login_page_offers_it(client):
    assert f'href="{REQUEST}"' in client.get(reverse("login")).content.decode()


def test_a_staff_member_gets_a_link_that_signs_them_in(client, dora, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(client, "DORA@example.org")

    assert response["Location"] == reverse("sign_in_link_sent")
    (message,) = mail.outbox
    assert message.to == ["dora@example.org"]
    assert message.subject == "Your credtrack sign-in link"
    assert message.body.startswith("Hello Dora,")
    link = re.search(r"https://\S+/accounts/link/\S+", message.body).group(0)
    assert link in message.alternatives[0][0].replace("&amp;", "&")
    assert client.get(link.removeprefix(SITE))["Location"] == reverse("web:me")
    assert Notification.objects.get().status == Status.SENT


def shape(sql: str) -> str:
    """A statement without its values: what the database was asked to do, whatever the address."""
    return re.sub(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b", "?", sql)


@pytest.mark.parametrize(
    ("path", "kind", "answer"),
    [(REQUEST, "sign_in_link", "sign_in_link_sent"), (RESET, "password_reset", "password_reset_done")],
)
def test_known_and_unknown_addresses_get_the_same_answer_from_the_same_work(
    client, dora, path, kind, answer, django_capture_on_commit_callbacks
):
    factories.UserFactory(username="margaret", email="margaret@example.org", is_superuser=True)
    seen = {}
    for who, address in [("staff", "dora@example.org"), ("HR", "margaret@example.org"), ("nobody", "no@example.org")]:
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as queued:
            response = ask(client, address, path, REMOTE_ADDR=f"192.0.2.{len(seen) + 1}")
        row = Notification.objects.latest("id")
        seen[who] = {
            "answer": (response.status_code, response["Location"], response.content),
            "statements": [shape(q["sql"]) for q in queries],
            "queued": len(queued),
            "row": (row.kind, row.status, row.employee_id, row.user_id, row.recipient == address),
        }
        # Nobody is looked up while the person waits: not a login, not an employee.
        assert not [q for q in queries if "auth_user" in q["sql"] or "organisation_employee" in q["sql"]]

    assert seen["staff"] == seen["HR"] == seen["nobody"]
    assert seen["staff"]["answer"][:2] == (302, reverse(answer))
    assert seen["staff"]["row"] == (kind, Status.READY, None, None, True)
    assert seen["staff"]["queued"] == 1  # the sender, once the row is committed


def test_hr_and_unknown_addresses_get_no_link(client, django_capture_on_commit_callbacks):
    factories.UserFactory(username="margaret", email="margaret@example.org", is_superuser=True)

    with django_capture_on_commit_callbacks(execute=True):
        ask(client, "margaret@example.org")
        ask(client, "nobody@example.org")

    assert mail.outbox == []
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.NO_LOGIN}


def test_an_address_shared_by_two_staff_gets_one_email_with_a_link_for_each(client, dora):
    dan = factories.EmployeeFactory(employee_number="4002", first_name="Dan", email="dora@example.org")
    account_sync(employee=dan)
    ask(client, "dora@example.org")

    delivery.outbox_deliver()

    (message,) = mail.outbox
    assert message.body.startswith("Hello Dora and Dan,")
    assert len(re.findall(r"https://\S+/accounts/link/\?sesame=", message.body)) == 2


def test_it_is_throttled_per_address_and_per_client(client, dora, settings, django_capture_on_commit_callbacks):
    settings.SIGN_IN_LINK_REQUESTS = 2
    with django_capture_on_commit_callbacks(execute=True):
        answers = [ask(client, "dora@example.org", REMOTE_ADDR=f"198.51.100.{n}").status_code for n in range(3)]
        other_clients = [ask(client, f"x{n}@example.org", REMOTE_ADDR="203.0.113.9").status_code for n in range(3)]

    assert answers == [302, 302, 429]
    assert other_clients == [302, 302, 429]
    assert len(mail.outbox) == 2
    assert Notification.objects.count() == 4  # a refused request writes nothing


def test_password_resets_are_throttled_too(client, dora, settings):
    settings.SIGN_IN_LINK_REQUESTS = 2

    answers = [ask(client, "dora@example.org", RESET).status_code for _ in range(3)]

    assert answers == [302, 302, 429]
    assert Notification.objects.filter(kind="password_reset").count() == 2


def test_a_password_reset_goes_to_the_address_the_login_stores_and_works(client, dora):
    assert not dora.user.has_usable_password()  # provisioned staff may choose a password this way
    ask(client, "Dora@Example.org", RESET)

    delivery.outbox_deliver()

    (message,) = mail.outbox
    assert message.to == ["dora@example.org"]
    assert message.subject == "Choose a new credtrack password"
    link = re.search(r"https://\S+/reset/\S+", message.body).group(0)
    assert link in message.alternatives[0][0]
    form = client.get(link.removeprefix(SITE), follow=True)
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-long-new-passphrase-42", "new_password2": "a-long-new-passphrase-42"},
    )
    assert done["Location"] == reverse("password_reset_complete")
    dora.user.refresh_from_db()
    assert dora.user.check_password("a-long-new-passphrase-42")


def test_a_refused_delivery_is_retried_and_each_email_reaches_the_server_once(client, dora, smtp_sink, settings):
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 1
    smtp_sink.refuse = 1  # the first try gets "451 try again later"
    ask(client, "dora@example.org")
    ask(client, "dora@example.org", RESET)

    first = delivery.outbox_deliver()
    Notification.objects.update(next_attempt_at=timezone.now())  # the retry is due
    second = delivery.outbox_deliver()
    tasks.send_outbox.delay()  # beat's periodic sender, and a retried sender task, find nothing left to send
    tasks.send_outbox.delay()

    assert (first.sent, first.retrying, second.sent) == (1, 1, 1)
    subjects = sorted(message["Subject"] for message in smtp_sink.to("dora@example.org"))
    assert subjects == ["Choose a new credtrack password", "Your credtrack sign-in link"]
    assert list(Notification.objects.values_list("status", "attempts").order_by("attempts")) == [
        (Status.SENT, 1),
        (Status.SENT, 2),
    ]


def test_the_sender_finds_the_logins_of_a_whole_batch_in_one_query(client):
    for number in range(6):
        staff = factories.EmployeeFactory(employee_number=f"50{number}", email=f"s{number}@example.org")
        account_sync(employee=staff)
        ask(client, f"s{number}@example.org", REMOTE_ADDR=f"192.0.2.{number}")

    with CaptureQueriesContext(connection) as queries:
        report = delivery.outbox_deliver()

    assert report.sent == 6
    assert len([q for q in queries if 'FROM "auth_user"' in q["sql"]]) == 1


def test_hr_gets_a_password_reset_but_never_a_sign_in_link(client):
    factories.UserFactory(username="margaret", email="margaret@example.org", is_superuser=True)
    ask(client, "margaret@example.org")
    ask(client, "margaret@example.org", RESET)

    delivery.outbox_deliver()

    (message,) = mail.outbox
    assert message.subject == "Choose a new credtrack password" and message.to == ["margaret@example.org"]
    assert "Choose a new password for margaret:" in message.body
    assert "/accounts/link/" not in message.body
