"""Redis down: writes succeed, the recompute they owe is kept in PostgreSQL and settled once Redis is back.

A real Celery worker runs against the test's own redis-server, which the test stops and starts again.
"""

import datetime
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from apps.certifications.models import Credential
from apps.compliance import services, tasks
from apps.compliance.engine import Status
from apps.compliance.models import PendingRecompute
from credtrack.celery import app
from tests import factories
from tests.compliance.conftest import ed_nurse, stored_status
from tests.faults import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]
D = datetime.date
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def redis_url(own_redis):
    """The worker fixture's broker: this test's own server, never the shared one."""
    return own_redis.url


def settled():
    return not PendingRecompute.objects.exists()


def test_writes_with_redis_down_succeed_and_the_status_catches_up(
    catalogue,
    celery_worker_process,
    own_redis,
    hr_admin,
):
    today = datetime.date.today()
    nurse = ed_nurse(catalogue, bls_expires=today - datetime.timedelta(days=3), user=factories.UserFactory())
    services.scan_run()
    wait_for(settled, timeout=60, what="the set-up's recomputes")
    assert stored_status(nurse) == Status.EXPIRED

    own_redis.stop()
    staff = Client()
    staff.force_login(nurse.user)
    started = time.monotonic()
    upload = staff.post(
        reverse("web:upload_proof"),
        {
            "certification_type": catalogue.bls.pk,
            "issued_on": (today - datetime.timedelta(days=1)).isoformat(),
            "proof": SimpleUploadedFile("card.pdf", PDF),
        },
    )
    assert upload.status_code == 302, upload.context["form"].errors if upload.context else upload.content
    card = Credential.objects.get(employee=nurse, verification=Credential.Verification.PENDING)
    hr = APIClient()
    hr.force_login(hr_admin)
    verified = hr.post(f"/api/v1/credentials/{card.pk}/verify/", format="json")
    assert verified.status_code == 200, verified.content
    assert time.monotonic() - started < 15  # each write gave up on the broker within seconds

    assert PendingRecompute.objects.filter(employee_id=nurse.pk).exists()
    assert stored_status(nurse) == Status.EXPIRED  # stale until a worker gets to it

    own_redis.start()
    came_back = time.monotonic()
    tasks.sweep_recomputes.delay()  # what beat sends every minute (settings: "sweep-recomputes")
    wait_for(lambda: stored_status(nurse) == Status.COMPLIANT, timeout=60, what="the recompute after Redis returned")
    assert time.monotonic() - came_back < 60
    assert settled()


def test_the_sweep_runs_every_minute():
    entry = app.conf.beat_schedule["sweep-recomputes"]

    assert entry["task"] == "apps.compliance.tasks.sweep_recomputes"
    assert entry["schedule"].remaining_estimate(datetime.datetime.now()).total_seconds() <= 60
