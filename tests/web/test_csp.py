"""A Content-Security-Policy on every page, and pages that need no inline script to work under it."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def assert_strict(response, url):
    assert response.status_code == 200, url
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy, url
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0], url
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html), (url, INLINE_SCRIPT.search(html).group(0))
    assert not HANDLER.search(html), (url, HANDLER.search(html).group(0))


def test_the_sign_in_page(client):
    assert_strict(client.get(reverse("login")), "login")


def test_every_page_a_manager_and_staff_see(client, hospital):
    client.force_login(hospital.manager)
    for name in ("web:dashboard", "web:attention", "web:renewals", "web:forecast", "web:employee_list"):
        assert_strict(client.get(reverse(name)), name)
    url = reverse("web:audit_report") + f"?department={hospital.ed.pk}&as_of=2026-01-05"
    assert_strict(client.get(url), url)
    client.force_login(hospital.alice.user)
    for name in ("web:me", "web:upload_proof"):
        assert_strict(client.get(reverse(name)), name)


def test_the_admin_pages_hr_uses(client, hospital):
    client.force_login(hospital.hr)
    for url in (
        reverse("admin:index"),
        reverse("admin:organisation_employee_changelist"),
        reverse("admin:organisation_employee_change", args=[hospital.alice.pk]),
        reverse("admin:certifications_credential_changelist"),
        reverse("admin:certifications_credential_add"),
        reverse("admin:organisation_employee_import"),
        reverse("web:verification_queue"),
        "/api/docs/",
    ):
        assert_strict(client.get(url), url)


def test_even_an_error_page_carries_the_policy(client):
    assert "script-src 'self'" in client.get("/no-such-page/")["Content-Security-Policy"]
