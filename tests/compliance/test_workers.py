"""The scan and the incremental recompute on real Celery workers (two processes) over real Redis and PostgreSQL."""

import datetime
import time

import pytest

from apps.certifications.models import Credential
from apps.compliance import tasks
from apps.compliance.engine import Status
from apps.compliance.models import ComplianceRun
from tests.compliance.conftest import ed_nurse, stored_status

D = datetime.date


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_the_nightly_scan_and_recompute_run_on_real_workers(catalogue, celery_worker_process):
    nurses = [ed_nurse(catalogue, bls_expires=D(2026, 5, 31)) for _ in range(12)]
    earlier_runs = list(ComplianceRun.objects.values_list("id", flat=True))

    tasks.full_scan.delay()
    complete = ComplianceRun.objects.filter(state=ComplianceRun.State.COMPLETE).exclude(id__in=earlier_runs)
    run = _wait_for(complete.first)
    assert run.chunk_count > 1 and run.employee_count == 12
    assert stored_status(nurses[0]) == Status.EXPIRED

    Credential.objects.create(
        employee=nurses[0],
        certification_type=catalogue.bls,
        issued_on=D(2026, 6, 10),
        expires_on=D(2028, 6, 30),
        verification="verified",
    )  # autocommit: on_commit fires
    _wait_for(lambda: stored_status(nurses[0]) == Status.COMPLIANT)


def _wait_for(probe, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := probe():
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the worker")
