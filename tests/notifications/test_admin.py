"""The outbox in the admin (HR only), the email previews, resend, and "send reminder now"."""

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from apps.compliance import services as compliance
from apps.notifications import content as content_module
from apps.notifications import emails, planning
from apps.notifications.models import Notification
from tests import factories
from tests.notifications.conftest import D, on, run_day, ward_nurse

pytestmark = pytest.mark.django_db

TODAY = D(2026, 6, 1)
OUTBOX = reverse("admin:notifications_notification_changelist")
PREVIEW = reverse("admin:notifications_notification_preview")
Status = Notification.Status


@pytest.fixture
def outbox(catalogue):
    ward_nurse(catalogue, bls_expires=D(2026, 7, 1), first_name="Nora", last_name="Nurse")
    run_day(TODAY)
    return Notification.objects.get()


@pytest.fixture
def bob(db):
    """Staff in the admin (he edits rotas), but not HR: the outbox is not his to see."""
    return factories.UserFactory(username="bob", is_staff=True)


def test_hr_sees_the_outbox_with_its_filters(client, hr_admin, outbox):
    client.force_login(hr_admin)
    response = client.get(OUTBOX)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Nora Nurse" in content and "Renewal reminder" in content
    assert "Preview every email" in content
    for query in ("kind__exact=reminder", "status__exact=sent", "created_at__year=2026&created_at__month=6"):
        assert client.get(f"{OUTBOX}?{query}").status_code == 200
    assert client.get(f"{OUTBOX}?status__exact=failed").context["cl"].result_count == 0


def test_hr_sees_an_outbox_email_read_only(client, hr_admin, outbox):
    client.force_login(hr_admin)
    url = reverse("admin:notifications_notification_change", args=[outbox.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert "Your BLS expires in 30 days" in response.content.decode()
    assert 'name="_save"' not in response.content.decode()
    assert client.post(url, {"status": "ready"}).status_code == 403
    assert client.get(reverse("admin:notifications_notification_add")).status_code == 403
    assert client.get(reverse("admin:notifications_notification_delete", args=[outbox.pk])).status_code == 403


def test_an_hr_admin_by_permission_sees_the_outbox(client, outbox):
    from django.contrib.auth.models import Permission

    hr = factories.UserFactory(username="helen", is_staff=True)
    hr.user_permissions.add(Permission.objects.get(codename="view_organisation"))
    client.force_login(hr)
    assert client.get(OUTBOX).status_code == 200


def test_staff_who_are_not_hr_cannot_see_the_outbox(client, bob, outbox):
    client.force_login(bob)
    assert client.get(OUTBOX).status_code == 403
    assert client.get(reverse("admin:notifications_notification_change", args=[outbox.pk])).status_code == 403


def test_people_without_admin_access_are_sent_to_log_in(client, charlie, outbox):
    assert client.get(OUTBOX).status_code == 302
    client.force_login(charlie)
    response = client.get(OUTBOX)
    assert response.status_code == 302 and reverse("admin:login") in response.url


def test_hr_previews_every_email_with_sample_data(client, hr_admin):
    client.force_login(hr_admin)
    response = client.get(PREVIEW)
    assert response.status_code == 200
    content = response.content.decode()
    for name in emails.NAMES:
        assert f"{name}:" in content
    assert "Your BLS expires in 30 days" in content
    frames = re.findall(r'<iframe[^>]* src="([^"]+)"', content)
    assert len(frames) == len(content_module.samples())
    assert any("Hello Alice," in client.get(frame).content.decode() for frame in frames)
    assert Notification.objects.count() == 0  # samples are never written


def test_the_preview_is_not_there_for_anyone_else(client, bob, charlie):
    frame = reverse("admin:notifications_notification_preview_html", args=[0])
    assert client.get(PREVIEW).status_code == 302 and client.get(frame).status_code == 302
    client.force_login(charlie)
    assert client.get(PREVIEW).status_code == 302 and client.get(frame).status_code == 302
    client.force_login(bob)
    assert client.get(PREVIEW).status_code == 404 and client.get(frame).status_code == 404


def act(client, url, action, ids, **extra):
    return client.post(url, {"action": action, ACTION_CHECKBOX_NAME: [str(i) for i in ids], **extra}, follow=True)


def test_hr_can_send_a_failed_email_again_but_never_a_sent_one(client, hr_admin, outbox, mailoutbox, catalogue):
    ward_nurse(catalogue, bls_expires=D(2026, 7, 2))
    with on(TODAY):
        compliance.scan_run()
        planning.notifications_plan()
    failed = Notification.objects.get(status=Status.READY)
    Notification.objects.filter(id=failed.id).update(status=Status.FAILED, attempts=6, last_error="SMTPDataError")
    client.force_login(hr_admin)
    sent_before = len(mailoutbox)

    with on(TODAY, hour=14):
        response = act(client, OUTBOX, "resend", [failed.id, outbox.id])
    messages = [str(m) for m in response.context["messages"]]
    assert "1 email(s) queued to be sent again." in messages
    assert "1 selected email(s) had not failed; left as they were." in messages
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (Status.READY, 0)
    outbox.refresh_from_db()
    assert outbox.status == Status.SENT
    assert len(mailoutbox) == sent_before  # the sender runs after commit (below), never from the request


def test_hr_sends_a_reminder_now_from_the_employee_list(
    client, hr_admin, catalogue, mailoutbox, django_capture_on_commit_callbacks
):
    nurse, _ = ward_nurse(catalogue, bls_expires=D(2026, 7, 20), first_name="Nora", email="nora@example.org")
    fine, _ = ward_nurse(catalogue, bls_expires=D(2028, 1, 31))
    with on(TODAY, hour=2):
        compliance.scan_run()
    client.force_login(hr_admin)
    url = reverse("admin:organisation_employee_changelist")
    with on(TODAY), django_capture_on_commit_callbacks(execute=True):
        response = act(client, url, "send_reminder_now", [nurse.id, fine.id])
    messages = [str(m) for m in response.context["messages"]]
    assert "Reminder queued for 1 person(s)." in messages
    assert "1 person(s) have nothing that needs renewing; nothing sent." in messages
    (message,) = mailoutbox
    assert message.to == ["nora@example.org"]
    assert message.subject == "Reminder from HR: 1 certification needs your attention"
    assert "- Basic Life Support (BLS): expiring soon, expires on Monday, Jul 20, 2026" in message.body

    with on(TODAY, hour=15), django_capture_on_commit_callbacks(execute=True):
        response = act(client, url, "send_reminder_now", [nurse.id])
    assert "1 person(s) were already reminded today; not sent again." in [str(m) for m in response.context["messages"]]
    assert len(mailoutbox) == 1


def test_hr_sends_a_reminder_now_from_the_credential_list(
    client, hr_admin, catalogue, mailoutbox, django_capture_on_commit_callbacks
):
    nurse, card = ward_nurse(catalogue, bls_expires=D(2026, 5, 1), email="nora@example.org")
    with on(TODAY, hour=2):
        compliance.scan_run()
    client.force_login(hr_admin)
    with on(TODAY), django_capture_on_commit_callbacks(execute=True):
        act(
            client,
            reverse("admin:certifications_credential_changelist"),
            "send_reminder_now_for_credentials",
            [card.id],
        )
    (message,) = mailoutbox
    assert message.to == ["nora@example.org"]
    assert "- Basic Life Support (BLS): expired, since Saturday, May 2, 2026" in message.body


def test_staff_who_are_not_hr_have_no_reminder_action(client, bob, catalogue):
    from django.contrib.auth.models import Permission

    bob.user_permissions.add(Permission.objects.get(codename="view_employee"))
    client.force_login(bob)
    response = client.get(reverse("admin:organisation_employee_changelist"))
    assert response.status_code == 200
    assert "send_reminder_now" not in response.content.decode()
