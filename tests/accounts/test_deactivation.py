"""The day employment ends, every way in closes: the session already open, a sign-in link already mailed,
an API token, the calendar feed, and a session opened by single sign-on."""

import datetime

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts.links import sign_in_url
from apps.accounts.provisioning import accounts_deactivate_leavers
from apps.api.services import api_token_issue
from apps.core import clock
from apps.organisation.models import Employee
from apps.web.services import calendar_feed_create

pytestmark = pytest.mark.django_db


def leave_yesterday(employee):
    Employee.objects.filter(pk=employee.pk).update(terminated_on=clock.today() - datetime.timedelta(days=1))


def test_every_way_in_is_cut_when_the_nightly_check_finds_a_leaver(client, dora, hr_admin, settings):
    link = sign_in_url(dora.user, reverse("web:me")).removeprefix(settings.SITE_URL)
    client.get(link)
    assert client.get(reverse("web:me")).status_code == 200
    _, api_secret = api_token_issue(name="Dora's phone app", user=dora.user, created_by=hr_admin)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_secret}")
    assert api.get("/api/v1/employees/").status_code == 200
    feed = reverse("web:calendar_feed", args=[calendar_feed_create(employee=dora)])
    assert client.get(feed).status_code == 200

    leave_yesterday(dora)
    assert accounts_deactivate_leavers() == 1

    assert client.get(reverse("web:me"))["Location"].startswith(reverse("login"))  # the open session
    assert client.get(link).status_code == 403  # the mailed link
    assert api.get("/api/v1/employees/").status_code == 401  # the token
    assert client.get(feed).status_code == 404  # the calendar feed


def test_a_leavers_calendar_feed_stops_even_before_the_nightly_check(client, dora):
    feed = reverse("web:calendar_feed", args=[calendar_feed_create(employee=dora)])

    leave_yesterday(dora)

    assert client.get(feed).status_code == 404


def test_a_session_opened_by_single_sign_on_ends_too(client, dora, settings):
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "apps.accounts.oidc.RosterOIDCBackend"]
    client.force_login(dora.user, backend="apps.accounts.oidc.RosterOIDCBackend")
    assert client.get(reverse("web:me")).status_code == 200

    leave_yesterday(dora)
    accounts_deactivate_leavers()

    assert client.get(reverse("web:me"))["Location"].startswith(reverse("login"))
