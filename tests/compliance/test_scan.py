"""Stored results: the full scan, incremental recomputes, point-in-time answers, and their failure modes."""

import datetime

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.certifications.models import Credential
from apps.compliance import selectors, services, tasks
from apps.compliance.engine import Status
from apps.compliance.models import ComplianceRun, EmployeeStatus, RequirementStatus, Snapshot
from apps.organisation.selectors import in_departments_on
from tests import factories
from tests.compliance.conftest import ed_nurse, stored_status

D = datetime.date
TODAY = D(2026, 6, 15)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


@pytest.fixture
def frozen_today():
    with time_machine.travel(datetime.datetime(2026, 6, 15, 12, 0, tzinfo=datetime.UTC), tick=False):
        yield


def test_it_stores_every_employees_status_and_reasons(catalogue):
    compliant = ed_nurse(catalogue)
    lapsed_bls = ed_nurse(catalogue, bls_expires=D(2026, 5, 31))
    teacher = factories.EmployeeFactory(role=catalogue.teacher, department=catalogue.school)

    run = services.scan_run()

    assert run.state == ComplianceRun.State.COMPLETE and run.employee_count == 3 and run.result_count == 5
    assert stored_status(compliant) == Status.COMPLIANT
    assert stored_status(lapsed_bls) == Status.EXPIRED
    assert stored_status(teacher) == Status.MISSING
    acls = RequirementStatus.objects.get(run=run, employee=lapsed_bls, requirement__any_of=catalogue.acls)
    assert acls.status == Status.PREREQUISITE_LAPSED
    assert acls.since == D(2026, 6, 1)
    assert "no BLS or CPR" in acls.reason


def test_terminated_employees_have_no_results(catalogue):
    ed_nurse(catalogue, terminated_on=D(2026, 6, 1))
    run = services.scan_run()
    assert run.employee_count == 0


def test_the_number_of_queries_does_not_grow_with_employees(catalogue, settings):
    settings.COMPLIANCE_SCAN_CHUNKS = 4

    def queries_for_scan():
        with CaptureQueriesContext(connection) as queries:
            services.scan_run()
        return len(queries)

    for _ in range(10):
        ed_nurse(catalogue)
    small = queries_for_scan()
    # 10 then 40 nurses: on SQLite bulk inserts are split every ~90 rows, so stay under that;
    # on PostgreSQL results are written with COPY and any size gives the same count.
    for _ in range(30):
        ed_nurse(catalogue)
    assert queries_for_scan() == small


def test_a_crash_halfway_keeps_the_previous_results(catalogue, settings, monkeypatch):
    settings.COMPLIANCE_SCAN_CHUNKS = 3
    nurses = [ed_nurse(catalogue) for _ in range(6)]
    first = services.scan_run()
    Credential.objects.filter(employee=nurses[0]).delete()

    real_chunk, calls = services.scan_chunk, []

    def crash_on_second_chunk(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuntimeError("worker died")
        return real_chunk(**kwargs)

    monkeypatch.setattr(services, "scan_chunk", crash_on_second_chunk)
    with pytest.raises(RuntimeError):
        services.scan_run()

    assert selectors.current_run() == first
    assert selectors.current_employee_statuses().count() == 6
    assert stored_status(nurses[0]) == Status.COMPLIANT  # the previous answer, whole
    failed = ComplianceRun.objects.get(state=ComplianceRun.State.FAILED)
    assert not EmployeeStatus.objects.filter(run=failed).exists()


def test_two_scans_never_run_at_once(catalogue):
    running = services.scan_start()
    with pytest.raises(services.ScanAlreadyRunning):
        services.scan_start()
    assert tasks.full_scan.apply().get() == "skipped"
    assert ComplianceRun.objects.get() == running


def test_a_scan_that_died_long_ago_no_longer_blocks(catalogue, settings):
    settings.COMPLIANCE_SCAN_STALE_MINUTES = 60
    dead = services.scan_start()
    ComplianceRun.objects.filter(id=dead.id).update(
        started_at=datetime.datetime(2026, 6, 15, 10, 0, tzinfo=datetime.UTC)
    )
    services.scan_start()
    dead.refresh_from_db()
    assert dead.state == ComplianceRun.State.FAILED


def test_a_retried_chunk_replaces_its_rows(catalogue):
    nurses = [ed_nurse(catalogue) for _ in range(3)]
    run = services.scan_start()
    for _ in range(2):
        services.scan_chunk(run_id=run.id, first_id=nurses[0].id, last_id=nurses[-1].id)
    assert RequirementStatus.objects.filter(run=run).count() == 6
    services.scan_finish(run_id=run.id)
    services.scan_finish(run_id=run.id)  # a retried finish is harmless too
    assert Snapshot.objects.get(dimension="organisation").total == 3


def test_the_celery_scan_fans_out_chunks_and_finishes(catalogue, settings):
    settings.COMPLIANCE_SCAN_CHUNKS = 3
    for _ in range(7):
        ed_nurse(catalogue)
    tasks.full_scan.apply()
    run = selectors.current_run()
    assert (run.chunk_count, run.employee_count) == (3, 7)


def test_a_new_credential_is_reflected_after_commit(catalogue, django_capture_on_commit_callbacks):
    nurse = ed_nurse(catalogue, bls_expires=D(2026, 5, 31))
    services.scan_run()
    assert stored_status(nurse) == Status.EXPIRED

    with django_capture_on_commit_callbacks(execute=True):
        factories.CredentialFactory(
            employee=nurse, certification_type=catalogue.bls, issued_on=D(2026, 6, 10), expires_on=D(2028, 6, 30)
        )
    assert stored_status(nurse) == Status.COMPLIANT


def test_a_transfer_is_reflected_after_commit(catalogue, django_capture_on_commit_callbacks):
    teacher = factories.EmployeeFactory(role=catalogue.teacher, department=catalogue.school)
    factories.CredentialFactory(employee=teacher, certification_type=catalogue.cpr)
    services.scan_run()
    assert stored_status(teacher) == Status.COMPLIANT

    with django_capture_on_commit_callbacks(execute=True):
        teacher.role, teacher.department, teacher.assigned_on = catalogue.nurse, catalogue.ed, D(2026, 5, 1)
        teacher.save()
    assert stored_status(teacher) == Status.MISSING  # ACLS was due by 2026-05-31


def test_a_new_requirement_is_reflected_after_commit(catalogue, django_capture_on_commit_callbacks):
    teacher = factories.EmployeeFactory(role=catalogue.teacher, department=catalogue.school)
    factories.CredentialFactory(employee=teacher, certification_type=catalogue.cpr)
    services.scan_run()
    with django_capture_on_commit_callbacks(execute=True):
        factories.RequirementFactory(role=catalogue.teacher, any_of=[catalogue.bls])
    assert stored_status(teacher) == Status.MISSING


def test_changes_made_during_a_scan_are_caught_up_before_it_becomes_current(catalogue):
    nurse = ed_nurse(catalogue, bls_expires=D(2026, 5, 31))
    run = services.scan_start()
    for first_id, last_id in services.scan_chunks(run=run):
        services.scan_chunk(run_id=run.id, first_id=first_id, last_id=last_id)
    # Renewed after its chunk was computed; no current run yet for the incremental recompute to write to.
    factories.CredentialFactory(
        employee=nurse, certification_type=catalogue.bls, issued_on=D(2026, 6, 10), expires_on=D(2028, 6, 30)
    )
    services.scan_finish(run_id=run.id)
    assert stored_status(nurse) == Status.COMPLIANT


def test_as_of_a_past_day_uses_the_assignment_in_force_then(catalogue):
    nurse = factories.EmployeeFactory(role=catalogue.nurse, department=catalogue.ward, hired_on=D(2020, 1, 6))
    factories.CredentialFactory(
        employee=nurse, certification_type=catalogue.bls, issued_on=D(2025, 1, 10), expires_on=D(2027, 1, 31)
    )
    nurse.department, nurse.assigned_on = catalogue.ed, D(2026, 3, 1)
    nurse.save()  # moved to the ED on 2026-03-01, where ACLS is needed by 2026-03-31

    def as_of(day, department):
        employees = factories.EmployeeFactory._meta.model.objects.filter(in_departments_on([department.id]))
        return {facts.id: result.status for facts, result in selectors.evaluate(employees, day, [department.id])}

    assert as_of(D(2026, 2, 1), catalogue.ward) == {nurse.id: Status.COMPLIANT}
    assert as_of(D(2026, 2, 1), catalogue.ed) == {}
    assert as_of(D(2026, 3, 15), catalogue.ed) == {nurse.id: Status.NOT_YET_DUE}
    assert as_of(TODAY, catalogue.ed) == {nurse.id: Status.MISSING}
    assert as_of(TODAY, catalogue.ward) == {}


def test_as_of_a_past_day_ignores_credentials_issued_later(catalogue):
    nurse = ed_nurse(catalogue)
    results = dict(selectors.evaluate(factories.EmployeeFactory._meta.model.objects.filter(id=nurse.id), D(2025, 8, 1)))
    assert next(iter(results.values())).status == Status.MISSING


def test_the_snapshot_counts_per_department_role_and_certification(catalogue):
    ed_nurse(catalogue)
    ed_nurse(catalogue, bls_expires=D(2026, 5, 31))
    factories.EmployeeFactory(role=catalogue.teacher, department=catalogue.school)
    services.scan_run()
    snapshot = {(s.dimension, s.key): (s.total, s.counts) for s in Snapshot.objects.filter(day=TODAY)}
    assert snapshot[("organisation", 0)] == (3, {"compliant": 1, "expired": 1, "missing": 1})
    assert snapshot[("department", catalogue.ed.id)] == (2, {"compliant": 1, "expired": 1})
    assert snapshot[("role", catalogue.teacher.id)] == (1, {"missing": 1})
    assert snapshot[("certification", catalogue.acls.id)] == (2, {"compliant": 1, "prerequisite_lapsed": 1})
    services.scan_run()  # the same day again replaces, never doubles
    assert Snapshot.objects.get(dimension="organisation", day=TODAY).total == 3


def test_the_command_stores_today_and_answers_for_a_past_day(catalogue, capsys):
    ed_nurse(catalogue)
    call_command("compliance_scan", "--no-progress")
    assert "Stored run" in capsys.readouterr().out
    call_command("compliance_scan", "--as-of", "2025-08-01", "--department", "ED", "--no-progress")
    out = capsys.readouterr().out
    assert "as of 2025-08-01 in ED: 1 employees" in out
    assert "Missing (overdue)             1" in out
    assert ComplianceRun.objects.count() == 1
