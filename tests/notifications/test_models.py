"""Reminder policies per certification type, and the settings that configure notifications."""

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError

from apps.notifications import selectors
from apps.notifications.models import ReminderPolicy
from credtrack.settings import env_days, env_in_range
from tests import factories
from tests.notifications.conftest import D, run_day, ward_nurse

pytestmark = pytest.mark.django_db


def test_a_policy_keeps_its_days_tidy(catalogue):
    policy = ReminderPolicy(certification_type=catalogue.bls, reminder_days=" 7, 90,30,30")
    policy.full_clean()
    assert policy.reminder_days == "90,30,7"


@pytest.mark.parametrize("days", ["", "ninety", "90,-7", "4000"])
def test_a_policy_refuses_days_that_make_no_sense(catalogue, days):
    with pytest.raises(ValidationError) as error:
        ReminderPolicy(certification_type=catalogue.bls, reminder_days=days).full_clean()
    assert "reminder_days" in error.value.message_dict


def test_hrs_policy_for_a_type_replaces_the_default_thresholds(catalogue, settings):
    settings.NOTIFICATIONS_REMINDER_DAYS = [90, 60, 30, 14, 7, 0]
    ReminderPolicy.objects.create(certification_type=catalogue.bls, reminder_days="45,5", repeat_while_lapsed=False)
    policy = selectors.reminder_policy()
    assert policy.thresholds_for(catalogue.bls.id) == (45, 5)
    assert policy.repeats_for(catalogue.bls.id) == 0
    assert policy.thresholds_for(catalogue.cpr.id) == (90, 60, 30, 14, 7, 0)

    ward_nurse(catalogue, bls_expires=D(2026, 7, 15))
    cpr_holder = factories.EmployeeFactory(role=catalogue.nurse, department=catalogue.ward)
    factories.CredentialFactory(
        employee=cpr_holder, certification_type=catalogue.cpr, issued_on=D(2024, 7, 1), expires_on=D(2026, 7, 15)
    )
    day = D(2026, 6, 1)  # 44 days before both expiries
    subjects = sorted(m.subject for m in run_day(day))
    assert subjects == ["Your BLS expires in 44 days (Jul 15, 2026)", "Your CPR expires in 44 days (Jul 15, 2026)"]
    assert run_day(day + datetime.timedelta(days=1)) == []


@pytest.mark.parametrize("raw", ["90,abc", "-1,7", " , ", "7.5"])
def test_reminder_days_in_the_environment_must_be_whole_days(monkeypatch, raw):
    monkeypatch.setenv("NOTIFICATIONS_REMINDER_DAYS", raw)
    with pytest.raises(ImproperlyConfigured):
        env_days("NOTIFICATIONS_REMINDER_DAYS", "90")


def test_reminder_days_in_the_environment(monkeypatch):
    monkeypatch.setenv("NOTIFICATIONS_REMINDER_DAYS", "7, 30,0")
    assert env_days("NOTIFICATIONS_REMINDER_DAYS", "90") == [30, 7, 0]


def test_an_hour_out_of_range_stops_start_up(monkeypatch):
    monkeypatch.setenv("NOTIFICATIONS_DIGEST_HOUR", "24")
    with pytest.raises(ImproperlyConfigured):
        env_in_range("NOTIFICATIONS_DIGEST_HOUR", 7, 0, 23)
