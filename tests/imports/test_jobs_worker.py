"""A background import on a real Celery worker: confirmed while Redis is down, imported once it is back, once.

The worker runs against the test's own redis-server, which the test stops before the confirmation.
"""

import time

import pytest
import redis
from django.test import Client
from django.urls import reverse

from apps.imports import tasks
from apps.imports.models import ImportJob
from apps.organisation.models import Employee
from tests.faults import wait_for
from tests.imports.test_admin import upload
from tests.imports.test_jobs import staff_file

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def redis_url(own_redis):
    return own_redis.url


@pytest.fixture
def shared_media(monkeypatch, settings):
    """The worker reads the kept upload from where this process put it."""
    monkeypatch.setenv("PRIVATE_MEDIA_ROOT", str(settings.PRIVATE_MEDIA_ROOT))


def idle(app, server) -> bool:
    queued = redis.Redis.from_url(server.url).llen("celery")
    inspect = app.control.inspect(timeout=1)
    held = [*(inspect.active() or {}).values(), *(inspect.reserved() or {}).values()]
    return not queued and not any(held)


def test_a_job_confirmed_with_redis_down_is_imported_once_it_is_back(
    shared_media, org, celery_worker_process, own_redis, hr_admin
):
    hr = Client()
    hr.force_login(hr_admin)
    preview = upload(hr, "employee", staff_file("E1", "E2"), "staff.csv")

    own_redis.stop()
    started = time.monotonic()
    response = hr.post(reverse("admin:organisation_employee_process_import"), preview.context["confirm_form"].initial)

    assert response.status_code == 302 and time.monotonic() - started < 15
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.QUEUED and not Employee.objects.exists()

    own_redis.start()
    tasks.sweep_import_jobs.delay()  # what beat sends every minute (settings: "sweep-import-jobs")
    wait_for(lambda: ImportJob.objects.get().finished, timeout=60, what="the job after Redis returned")
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.attempts) == (ImportJob.Status.IMPORTED, 2, 1)

    # The same task delivered again (a redelivery, a second sweep): claimed already, so nothing happens.
    tasks.run_import_job.delay(job.pk)
    tasks.run_import_job.delay(job.pk)
    wait_for(lambda: idle(celery_worker_process, own_redis), timeout=30, what="the worker to take both deliveries")
    job.refresh_from_db()
    assert job.attempts == 1 and Employee.history.count() == 2
