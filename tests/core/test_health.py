"""/healthz: 200 when the database, Redis (cache), the broker and a recent complete scan are all fine, 503 if not.

Redis here is the test's own server (tests/faults.py), stopped by the test.
"""

import datetime

import pytest
from django.utils import timezone

from apps.compliance.models import ComplianceRun

pytestmark = pytest.mark.django_db(transaction=True)  # the checks run in threads: they only see committed rows

ALL = [
    "health_check.checks.Database",
    "apps.compliance.health.LastScanAge",
    "apps.core.health.Redis",
    "apps.core.health.Broker",
]


def finished_scan(hours_ago: float) -> ComplianceRun:
    return ComplianceRun.objects.create(
        as_of=datetime.date.today(),
        state=ComplianceRun.State.COMPLETE,
        finished_at=timezone.now() - datetime.timedelta(hours=hours_ago),
    )


@pytest.fixture
def checked(settings, own_redis):
    settings.HEALTH_CHECKS = ALL
    settings.REDIS_URL = settings.CELERY_BROKER_URL = own_redis.url
    return own_redis


def health(client):
    response = client.get("/healthz", {"format": "json"})
    return response.status_code, response.json()


@pytest.mark.redis
def test_all_well_is_200(client, checked):
    finished_scan(hours_ago=3)

    status, body = health(client)

    assert status == 200, body
    assert set(body.values()) == {"OK"}
    assert len(body) == 4


@pytest.mark.redis
@pytest.mark.slow
def test_redis_down_is_503_naming_redis_and_the_broker(client, checked):
    finished_scan(hours_ago=3)
    checked.stop()

    status, body = health(client)

    assert status == 503
    failing = {name for name, result in body.items() if result != "OK"}
    assert any(name.startswith("Redis") for name in failing), body
    assert any(name.startswith("Broker") for name in failing), body


@pytest.mark.redis
def test_a_missed_nightly_scan_is_503(client, checked, settings):
    settings.COMPLIANCE_SCAN_MAX_AGE_HOURS = 26
    finished_scan(hours_ago=27)

    status, body = health(client)

    assert status == 503
    assert "27 hours ago" in body["LastScanAge()"]


def test_no_complete_scan_yet_is_503(client, settings):
    settings.HEALTH_CHECKS = ALL[:2]

    status, body = health(client)

    assert status == 503
    assert "no compliance scan has completed yet" in body["LastScanAge()"]


def test_the_liveness_probe_needs_only_the_database(client, settings):
    settings.HEALTH_CHECKS = ALL  # not consulted by /healthz/live

    assert client.get("/healthz/live").status_code == 200
