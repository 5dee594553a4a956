"""Tokens for integrations: issued by HR in the admin (secret shown once, stored hashed), revocable,
acting as their user (scope, permissions, and the author recorded in the history), throttled per token."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from apps.api.models import ApiToken, hash_secret
from apps.api.services import api_token_issue, api_token_revoke
from apps.organisation.models import Employee
from tests import factories

pytestmark = pytest.mark.django_db

V1 = "/api/v1"


@pytest.fixture
def sync_account(db):
    """A service account for the HR system's nightly sync, with HR powers."""
    return factories.UserFactory(username="workday-sync", is_superuser=True)


@pytest.fixture
def issued(sync_account, hr_admin):
    return api_token_issue(name="Workday nightly sync", user=sync_account, created_by=hr_admin)


def bearer(api, secret):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return api


def test_a_token_authenticates_as_its_user(api, world, issued):
    token, secret = issued

    response = bearer(api, secret).get(f"{V1}/employees/")

    assert response.status_code == 200
    assert response.json()["count"] == 2
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_only_the_hash_is_stored(issued):
    token, secret = issued

    assert secret.startswith("ct_")
    assert token.key_hash == hash_secret(secret)
    assert secret not in {str(value) for value in ApiToken.objects.values_list(flat=False).get()}


def test_a_revoked_token_answers_401(api, world, issued, hr_admin):
    token, secret = issued
    api_token_revoke(token=token, revoked_by=hr_admin)

    response = bearer(api, secret).get(f"{V1}/employees/")

    assert response.status_code == 401
    assert response.json() == {
        "status": 401,
        "code": "authentication_failed",
        "detail": "Invalid or revoked token.",
        "fields": {},
    }


@pytest.mark.parametrize("header", ["Bearer ct_not-a-real-token", "Bearer", "Bearer a b"])
def test_a_wrong_or_malformed_token_answers_401(api, world, header):
    api.credentials(HTTP_AUTHORIZATION=header)

    assert api.get(f"{V1}/employees/").status_code == 401


def test_a_token_of_a_deactivated_account_answers_401(api, world, issued, sync_account):
    sync_account.is_active = False
    sync_account.save()

    assert bearer(api, issued[1]).get(f"{V1}/employees/").status_code == 401


def test_a_token_has_its_users_scope(api, world, hr_admin):
    _, secret = api_token_issue(name="Alice's phone", user=world.alice.user, created_by=hr_admin)

    response = bearer(api, secret).get(f"{V1}/employees/")

    assert [row["id"] for row in response.json()["results"]] == [world.alice.pk]
    assert bearer(api, secret).get(f"{V1}/employees/{world.bob.pk}/").status_code == 404


def test_writes_with_a_token_record_its_user_in_the_history(
    api, world, issued, sync_account, django_capture_on_commit_callbacks
):
    employee = {
        "employee_number": "W-1",
        "first_name": "Wes",
        "last_name": "Ward",
        "role": "rn",
        "department": "ICU",
        "hired_on": "2026-03-02",
        "assigned_on": "2026-03-02",
    }
    with django_capture_on_commit_callbacks(execute=True):
        created = bearer(api, issued[1]).post(f"{V1}/employees/", employee, format="json")
        card = {"employee": created.json()["id"], "certification_type": "BLS", "issued_on": "2026-03-03"}
        credential = api.post(f"{V1}/credentials/", card, format="json")
        api.patch(f"{V1}/employees/{created.json()['id']}/", {"first_name": "Wesley"}, format="json")

    wes = Employee.objects.get(employee_number="W-1")
    assert [(h.history_type, h.history_user) for h in wes.history.order_by("history_id")] == [
        ("+", sync_account),
        ("~", sync_account),
    ]
    assert wes.credentials.get(pk=credential.json()["id"]).history.get().history_user == sync_account
    assert credential.json()["verified_by"] == "workday-sync"


def test_session_writes_record_the_logged_in_user(api, world, hr_admin):
    api.force_login(hr_admin)

    api.patch(f"{V1}/employees/{world.bob.pk}/", {"first_name": "Rob"}, format="json")

    assert world.bob.history.order_by("history_id").last().history_user == hr_admin


def test_last_use_is_recorded_at_most_every_few_minutes(api, world, issued):
    token, secret = issued
    start = datetime.datetime(2026, 3, 16, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        bearer(api, secret).get(f"{V1}/roles/")
    with time_machine.travel(start + datetime.timedelta(minutes=1), tick=False):
        api.get(f"{V1}/roles/")
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + datetime.timedelta(minutes=6), tick=False):
        api.get(f"{V1}/roles/")
    token.refresh_from_db()
    assert token.last_used_at == start + datetime.timedelta(minutes=6)


def test_throttling_is_per_token(api, world, issued, hr_admin, sync_account, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "3/minute", "user": "100/minute", "anon": "100/minute"},
    }
    _, other_secret = api_token_issue(name="Scheduler", user=sync_account, created_by=hr_admin)

    first = [bearer(api, issued[1]).get(f"{V1}/roles/").status_code for _ in range(4)]
    other = bearer(api, other_secret).get(f"{V1}/roles/")

    assert first == [200, 200, 200, 429]
    assert other.status_code == 200
    throttled = bearer(api, issued[1]).get(f"{V1}/roles/")
    assert throttled.json()["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0


def test_throttling_is_per_user_for_sessions(api, world, hr_admin, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "100/minute", "user": "2/minute", "anon": "100/minute"},
    }
    api.force_login(hr_admin)

    assert [api.get(f"{V1}/roles/").status_code for _ in range(3)] == [200, 200, 429]


def test_hr_issues_a_token_in_the_admin_and_sees_the_secret_once(client, hr_admin, sync_account):
    client.force_login(hr_admin)

    response = client.post(
        reverse("admin:api_apitoken_add"), {"name": "Scheduler", "user": sync_account.pk}, follow=True
    )

    token = ApiToken.objects.get(name="Scheduler")
    [message] = [str(m) for m in response.context["messages"] if "Token for" in str(m)]
    secret = message.split("Token for Scheduler: ")[1].split()[0]
    assert token.key_hash == hash_secret(secret)
    assert token.created_by == hr_admin
    assert token.user == sync_account
    assert secret not in client.get(reverse("admin:api_apitoken_change", args=[token.pk])).content.decode()


def test_hr_revokes_tokens_in_the_admin(client, api, world, hr_admin, issued):
    token, secret = issued
    client.force_login(hr_admin)

    client.post(
        reverse("admin:api_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.revoked_by == hr_admin
    assert bearer(api, secret).get(f"{V1}/roles/").status_code == 401


def test_two_active_tokens_cannot_share_a_name(issued, sync_account, hr_admin):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        api_token_issue(name="Workday nightly sync", user=sync_account, created_by=hr_admin)
    api_token_revoke(token=issued[0], revoked_by=hr_admin)
    api_token_issue(name="Workday nightly sync", user=sync_account, created_by=hr_admin)
