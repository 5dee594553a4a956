"""A strict Content-Security-Policy on every page, and pages that need nothing inline to work under it.

Strict: scripts and style sheets from the site only, no inline script, no inline <style>, no style attribute
(`style-src-attr 'none'`), no event handler attribute. The sweeps walk the accessibility tests' pages (every
role's pages and the whole admin) with the test client; a browser on key pages listens for the violations
Chromium reports, which would also catch a script that sets a style attribute.
"""

import re

import pytest
from django.urls import reverse

from tests import factories
from tests.web.test_accessibility import admin_pages, oversight_pages

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return dict((part.strip() + " ").split(" ", 1) for part in policy.split(";") if part.strip())


def assert_strict(response, url, status=200):
    assert response.status_code == status, url
    policy = directives(response)
    assert policy["default-src"].strip() == "'self'", url
    assert policy["script-src"].strip() == "'self'", url
    assert policy["style-src"].strip() == "'self'", url
    assert policy["style-src-attr"].strip() == "'none'", url
    html = response.content.decode()
    for pattern in (INLINE_SCRIPT, HANDLER, STYLE_ATTRIBUTE, STYLE_ELEMENT):
        found = pattern.search(html)
        assert not found, (url, found and html[max(0, found.start() - 80) : found.end() + 80])


def sweep(client, entries):
    for entry in entries:
        path, _, status = entry.partition("|")
        assert_strict(client.get(path), path, int(status or 200))


def test_the_sign_in_page(client):
    assert_strict(client.get(reverse("login")), "login")


def test_every_page_a_manager_sees(client, hospital):
    client.force_login(hospital.manager)
    sweep(client, [*oversight_pages(hospital), reverse("web:me"), reverse("web:upload_proof")])


def test_every_page_hr_sees_and_the_whole_admin(client, hospital):
    client.force_login(hospital.hr)
    employee = hospital.alice
    sweep(
        client,
        [
            *oversight_pages(hospital),
            reverse("web:verification_queue"),
            *admin_pages(),
            reverse("admin:organisation_employee_history", args=[employee.pk]),
            reverse("admin:organisation_employee_import"),
            reverse("admin:notifications_notification_preview"),
            "/api/docs/",
        ],
    )


def test_every_page_staff_and_signed_out_people_see(client, hospital):
    factories.UserFactory(username="charlie")
    client.force_login(hospital.alice.user)
    sweep(
        client,
        [
            reverse("web:me"),
            reverse("web:upload_proof"),
            reverse("web:person_file", args=[hospital.alice.pk]),
            reverse("password_change"),
            reverse("password_change_done"),
        ],
    )
    client.logout()
    sweep(
        client,
        [
            reverse("login"),
            reverse("password_reset"),
            reverse("password_reset_done"),
            reverse("password_reset_confirm", args=["MQ", "not-a-token"]),
            reverse("password_reset_complete"),
            reverse("sign_in_link_request"),
            reverse("sign_in_link_sent"),
            reverse("not_on_roster") + "|403",
            "/no-such-page/|404",
        ],
    )


def test_an_email_preview_frame_alone_may_style_itself_and_runs_nothing(client, hospital):
    client.force_login(hospital.hr)
    response = client.get(reverse("admin:notifications_notification_preview_html", args=[0]))

    assert response.status_code == 200 and STYLE_ATTRIBUTE.search(response.content.decode())
    policy = directives(response)
    assert policy["script-src"].strip() == "'none'" and policy["default-src"].strip() == "'none'"
    assert policy["frame-ancestors"].strip() == "'self'" and response["X-Frame-Options"] == "SAMEORIGIN"


def test_even_an_error_page_carries_the_policy(client):
    assert "script-src 'self'" in client.get("/no-such-page/")["Content-Security-Policy"]


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_chromium_reports_no_violation_on_the_key_pages(open_page, live_hospital):
    """Chromium reports each refused inline style or script on the console, naming the Content Security Policy."""
    refused = []

    def watch(page):
        page.on("console", lambda message: "Content Security Policy" in message.text and refused.append(message.text))
        return page

    hr = watch(open_page("hilda"))
    # The listener hears a violation: a style attribute set by script is refused, and said so.
    hr.evaluate("document.body.setAttribute('style', 'color: red')")
    hr.wait_for_timeout(200)
    assert refused and "inline style" in refused[0]
    refused.clear()
    for path in (
        reverse("web:dashboard"),
        reverse("web:matrix"),
        reverse("web:person_file", args=[live_hospital.alice.pk]),
        reverse("web:verification_queue"),
        reverse("admin:index"),
        reverse("admin:organisation_employee_changelist"),
        reverse("admin:organisation_employee_change", args=[live_hospital.alice.pk]),
        reverse("admin:certifications_credential_add"),
        reverse("admin:organisation_employee_history", args=[live_hospital.alice.pk]),
        reverse("admin:notifications_notification_preview"),
        "/api/docs/",
    ):
        hr.goto(path)
        hr.wait_for_load_state("networkidle")
    staff = watch(open_page("alice"))
    for path in (reverse("web:me"), reverse("web:upload_proof")):
        staff.goto(path)
        staff.wait_for_load_state("networkidle")
    watch(open_page(None)).goto(reverse("password_reset"))

    assert refused == []
