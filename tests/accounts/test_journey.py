"""The path from a reminder email to an uploaded card, tried as a new user would on the demo: a staff member
whose login nobody made by hand gets a reminder at a real SMTP server (aiosmtpd), opens its link in Chromium on
a phone, lands on the upload form signed in with the card chosen, uploads a photo of it, and HR sees it pending."""

import datetime
import io
import re

import pytest
from django.core.management import call_command
from django.db.models import F
from PIL import Image

from apps.certifications.models import Credential
from apps.core import clock
from apps.demo import workforce
from apps.notifications import delivery, planning
from apps.organisation.models import Employee

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LINK = re.compile(r"(http://\S+/accounts/link/\?sesame=\S+)")


def png_card() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 380), "#dbeafe").save(buffer, "PNG")
    return buffer.getvalue()


def test_a_reminder_link_opens_the_upload_form_signed_in_and_hr_sees_the_card_pending(
    browser, live_server, smtp_sink, settings
):
    settings.SITE_URL = live_server.url
    call_command("seed_demo", "--employees", "60", "--seed", "1", verbosity=0)
    planning.notifications_plan()
    delivery.outbox_deliver()

    provisioned = {e.email: e for e in Employee.objects.filter(user__username=F("employee_number"))}
    reminders = [
        m for m in smtp_sink.messages if m["To"] in provisioned and re.match(r"Your \w+ expires in", m["Subject"])
    ]
    assert reminders, f"no reminder reached a provisioned login among {len(smtp_sink.messages)} emails"
    message = reminders[0]
    person = provisioned[message["To"]]
    assert not person.user.has_usable_password()  # nobody made this account by hand
    link = LINK.search(message.get_body(("plain",)).get_content()).group(1)

    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    phone = context.new_page()
    phone.goto(link)
    phone.wait_for_url("**/me/credentials/upload/**")
    assert "sesame" not in phone.url
    assert f"Signed in as {person.employee_number}" in phone.content()
    chosen = phone.get_by_label("Certification").input_value()
    assert chosen, "the reminder's certification is chosen on the form"

    issued = clock.today() - datetime.timedelta(days=1)
    phone.get_by_label("Issue date").fill(issued.isoformat())
    phone.get_by_label("Photo or scan of the card").set_input_files(
        files=[{"name": "IMG_3310.png", "mimeType": "image/png", "buffer": png_card()}]
    )
    phone.get_by_role("button", name="Upload").click()
    phone.wait_for_url("**/me/")
    assert "card is uploaded" in phone.get_by_role("status").first.inner_text()

    desk = browser.new_context(base_url=live_server.url).new_page()
    desk.goto("/accounts/login/")
    desk.get_by_label("Username").fill(workforce.HR_USERNAME)
    desk.get_by_label("Password").fill(workforce.DEFAULT_PASSWORD)
    desk.get_by_role("button", name="Sign in", exact=True).click()
    desk.goto("/verification/")
    card = Credential.objects.get(employee=person, verification=Credential.Verification.PENDING, issued_on=issued)
    assert str(card.certification_type_id) == chosen
    assert desk.get_by_role("heading", name=f"{card.certification_type.code} for {person.full_name}").is_visible()
    context.close()
    desk.context.close()
