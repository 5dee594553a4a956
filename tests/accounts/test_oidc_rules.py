"""Who single sign-on lets in: roster people matched by the configured claim, never leavers or strangers;
the optional group claim makes HR. (The protocol itself is tested end to end in test_sso.py.)"""

import datetime

import pytest
from django.test import RequestFactory

from apps.accounts.oidc import RosterOIDCBackend
from apps.core import clock
from apps.organisation.models import Employee
from apps.organisation.scoping import is_hr_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def backend(settings):
    settings.OIDC_MATCH_CLAIM, settings.OIDC_MATCH_FIELD = "email", "email"
    settings.OIDC_GROUPS_CLAIM, settings.OIDC_HR_GROUP = "groups", ""
    backend = RosterOIDCBackend()
    backend.request = RequestFactory().get("/accounts/sso/callback/")
    return backend


def test_a_roster_person_is_matched_by_email_whatever_its_case(backend, dora):
    assert list(backend.filter_users_by_claims({"email": "Dora@Example.org"})) == [dora.user]


def test_the_match_can_be_the_employee_number_claim(backend, dora, settings):
    settings.OIDC_MATCH_CLAIM, settings.OIDC_MATCH_FIELD = "employee_id", "employee_number"

    assert list(backend.filter_users_by_claims({"employee_id": "4001", "email": "other@example.org"})) == [dora.user]
    assert backend.verify_claims({"email": "dora@example.org"}) is False


def test_a_leaver_or_a_stranger_is_not_let_in(backend, dora):
    assert not backend.filter_users_by_claims({"email": "nobody@example.org"}).exists()
    assert backend.request.sso_not_on_roster is True
    Employee.objects.filter(pk=dora.pk).update(terminated_on=clock.today() - datetime.timedelta(days=1))
    assert not backend.filter_users_by_claims({"email": "dora@example.org"}).exists()


def test_it_never_makes_a_login(backend):
    assert backend.create_user({"email": "nobody@example.org"}) is None


def test_the_hr_group_claim_grants_and_takes_away_hr(backend, dora, settings):
    settings.OIDC_HR_GROUP = "credtrack-hr"

    backend.update_user(dora.user, {"groups": ["staff", "credtrack-hr"]})
    dora.user.refresh_from_db()
    assert is_hr_admin(type(dora.user).objects.get(pk=dora.user.pk))

    backend.update_user(dora.user, {"groups": ["staff"]})
    assert not is_hr_admin(type(dora.user).objects.get(pk=dora.user.pk))
