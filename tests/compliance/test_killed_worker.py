"""A worker SIGKILLed mid-scan never blocks the scan: its tasks go to another worker after the visibility timeout.

Real worker processes on the test's own redis-server, with short limits (as the settings allow) so the test
stays bounded: time limit 8 s, visibility timeout 10 s. Production: 10 min and 11 min (credtrack/settings.py).
"""

import datetime

import pytest
import redis

from apps.certifications.models import Credential
from apps.compliance import tasks
from apps.compliance.models import ComplianceRun
from apps.organisation.models import Employee
from credtrack.celery import app
from tests.conftest import _reset_celery_connections
from tests.faults import Worker, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
D = datetime.date
PEOPLE = 3000
SHORT_LIMITS = {
    "CELERY_TASK_TIME_LIMIT": "8",
    "CELERY_TASK_SOFT_TIME_LIMIT": "7",
    "CELERY_VISIBILITY_TIMEOUT": "10",
    "COMPLIANCE_SCAN_STALE_MINUTES": "1",
    "COMPLIANCE_SCAN_CHUNKS": "6",
}


@pytest.fixture
def sender(own_redis):
    """This process queues tasks on the test's Redis (not eagerly)."""
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url", "result_backend")}
    app.conf.update(task_always_eager=False, broker_url=own_redis.url, result_backend=own_redis.url)
    _reset_celery_connections(app)
    yield own_redis
    app.conf.update(saved)
    _reset_celery_connections(app)


@pytest.fixture
def workforce(catalogue):
    people = Employee.objects.bulk_create(
        Employee(
            employee_number=f"K{i:05}",
            first_name="K",
            last_name=str(i),
            role=catalogue.nurse,
            department=catalogue.ed,
            hired_on=D(2020, 1, 1),
            assigned_on=D(2020, 1, 1),
        )
        for i in range(PEOPLE)
    )
    Credential.objects.bulk_create(
        Credential(
            employee=person,
            certification_type=kind,
            issued_on=D(2025, 9, 5),
            expires_on=D(2027, 9, 30),
            verification="verified",
        )
        for person in people
        for kind in (catalogue.bls, catalogue.acls)
    )
    return people


def test_a_scan_whose_worker_is_killed_completes_on_another(workforce, sender, postgres):
    earlier = list(ComplianceRun.objects.values_list("id", flat=True))  # the catalogue's set-up scans
    runs = ComplianceRun.objects.exclude(id__in=earlier)
    first = Worker(redis_url=sender.url, name="doomed", env=SHORT_LIMITS)
    try:
        wait_for(lambda: first.logged("ready."), timeout=60, what="the first worker")
        tasks.full_scan.delay()
        wait_for(lambda: first.logged("scan_chunk["), timeout=60, interval=0.01, what="a chunk on the first worker")
        first.kill()
    finally:
        first.kill()

    run = runs.get()
    assert run.state == ComplianceRun.State.RUNNING
    assert redis.Redis.from_url(sender.url).hlen("unacked") > 0  # taken by the dead worker, never acknowledged

    second = Worker(redis_url=sender.url, name="rescuer", env=SHORT_LIMITS)
    try:
        wait_for(
            lambda: runs.filter(state=ComplianceRun.State.COMPLETE).first(),
            timeout=90,
            interval=0.5,
            what="the scan to complete on the second worker",
        )
    finally:
        second.stop()
    run.refresh_from_db()
    assert run.employee_count == PEOPLE
