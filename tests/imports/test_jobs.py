"""Confirmed admin imports run as background jobs: progress, result, the user told, never lost, never twice.

Tasks run eagerly here (in-process, once the confirming request commits); tests/imports/test_jobs_worker.py
runs them on a real worker with Redis stopped at confirm time.
"""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.imports import jobs, tasks
from apps.imports.models import ImportJob
from apps.imports.uploads import job_folder
from apps.notifications.models import Notification
from apps.organisation.models import Employee
from tests import factories
from tests.admin_checks import changelist_queries_at_10_and_500
from tests.imports.conftest import STAFF_HEADER, csv_rows, staff_row
from tests.imports.test_admin import confirm, upload

pytestmark = pytest.mark.django_db
Status = ImportJob.Status
NOW = datetime.datetime(2026, 3, 10, 17, 0, tzinfo=datetime.UTC)


def staff_file(*numbers):
    return csv_rows(STAFF_HEADER, [staff_row(number) for number in numbers]).encode()


def job_page(job):
    return reverse("admin:imports_importjob_change", args=[job.pk])


@pytest.fixture
def hr(client, hr_admin):
    hr_admin.email = "hilda@example.org"
    hr_admin.save()
    client.force_login(hr_admin)
    return client


@pytest.fixture
def queued(hr, hr_admin, org):
    """A confirmed job whose task never reached a worker (what a broker down at confirm time leaves)."""
    preview = upload(hr, "employee", staff_file("E1", "E2"), "staff.csv")
    with TestCase.captureOnCommitCallbacks(execute=False):
        hr.post(reverse("admin:organisation_employee_process_import"), preview.context["confirm_form"].initial)
    return ImportJob.objects.get()


def finished_notices():
    return Notification.objects.filter(kind=Notification.Kind.IMPORT_FINISHED)


def test_a_confirmed_import_runs_as_a_job_and_its_user_is_told(hr, hr_admin, org, recomputes):
    response = confirm(hr, "employee", upload(hr, "employee", staff_file("E1", "E2", "E3"), "staff.csv"))

    job = ImportJob.objects.get()
    assert response["Location"] == job_page(job)
    assert (job.status, job.created_by, job.rows_total, job.rows_done, job.new) == (Status.IMPORTED, hr_admin, 3, 3, 3)
    assert job.started_at and job.finished_at and job.attempts == 1
    assert Employee.objects.count() == 3
    assert not job.stored_name and not any(job_folder().iterdir())  # the kept upload is gone

    page = hr.get(reverse("admin:index")).content.decode()  # their next page
    assert "3 row(s): 3 new" in page and job_page(job) in page
    assert "3 row(s): 3 new" not in hr.get(reverse("admin:index")).content.decode()  # once

    notice = finished_notices().get()
    assert (notice.user, notice.status) == (hr_admin, Notification.Status.SENT)
    (email,) = mail.outbox
    assert email.to == ["hilda@example.org"] and email.subject == "Import finished: staff.csv"
    assert "3 row(s): 3 new" in email.body and f"https://credtrack.example.org{job_page(job)}" in email.body


def test_a_refused_import_reports_its_rows_to_the_page_and_the_email(hr, hr_admin, org, recomputes):
    preview = upload(hr, "employee", staff_file("E1"), "staff.csv")
    org.nurse.delete()  # between the preview and the job: the row no longer checks

    confirm(hr, "employee", preview)

    job = ImportJob.objects.get()
    assert job.status == Status.REFUSED and not Employee.objects.exists()
    assert any(error.startswith("Row 2, column role: Unknown role") for error in job.errors)
    page = hr.get(job_page(job)).content.decode()
    assert "Nothing was imported" in page and "Row 2, column role: Unknown role" in page
    assert 'http-equiv="refresh"' not in page
    (email,) = mail.outbox
    assert email.subject == "Import refused: staff.csv" and "Row 2, column role" in email.body


def test_a_job_that_crashes_imports_nothing_and_says_so(hr, org, recomputes, monkeypatch):
    def crashes(**kwargs):
        kwargs["progress"]("importing", 1)
        factories.EmployeeFactory(employee_number="HALF", role=org.nurse, department=org.ed)
        raise MemoryError("out of memory")

    monkeypatch.setitem(jobs.IMPORTERS, "staff", crashes)

    confirm(hr, "employee", upload(hr, "employee", staff_file("E1"), "staff.csv"))

    job = ImportJob.objects.get()
    assert job.status == Status.FAILED and "MemoryError: out of memory" in job.summary
    assert not Employee.objects.exists()  # rolled back whole
    assert not any(job_folder().iterdir())
    assert mail.outbox[0].subject == "Import failed: staff.csv"


def test_a_task_delivered_twice_imports_once(queued, recomputes):
    first = tasks.run_import_job.apply(args=[queued.pk])
    history = Employee.history.count()

    second = tasks.run_import_job.apply(args=[queued.pk])

    assert "2 new" in first.result and second.result.startswith("not queued")
    assert Employee.history.count() == history == 2
    assert finished_notices().count() == 1
    queued.refresh_from_db()
    assert (queued.status, queued.attempts) == (Status.IMPORTED, 1)


def test_a_job_held_by_another_delivery_is_not_claimed(queued):
    assert jobs.job_claim(job_id=queued.pk) is not None  # the first delivery's claim

    assert jobs.job_claim(job_id=queued.pk) is None


def test_the_sweep_sends_a_job_whose_task_never_reached_a_worker(queued, recomputes):
    assert queued.status == Status.QUEUED  # written although nothing was sent
    assert tasks.sweep_import_jobs.apply().result == 0  # just confirmed: its task may still be on its way

    with time_machine.travel(NOW + jobs.RESEND_AFTER + datetime.timedelta(seconds=1), tick=False):
        assert tasks.sweep_import_jobs.apply().result == 1

    queued.refresh_from_db()
    assert queued.status == Status.IMPORTED and Employee.objects.count() == 2


def test_the_sweep_hands_a_dead_workers_job_to_another_and_gives_up_after_three(queued, recomputes):
    silent = NOW - jobs.stale_after() - datetime.timedelta(seconds=1)
    ImportJob.objects.filter(pk=queued.pk).update(status=Status.RUNNING, heartbeat_at=silent, attempts=1)
    assert tasks.sweep_import_jobs.apply().result == 1
    queued.refresh_from_db()
    assert (queued.status, queued.attempts) == (Status.IMPORTED, 2)

    ImportJob.objects.filter(pk=queued.pk).update(status=Status.RUNNING, heartbeat_at=silent, attempts=3)
    assert tasks.sweep_import_jobs.apply().result == 0
    queued.refresh_from_db()
    assert queued.status == Status.FAILED and "stopped 3 times" in queued.summary


def test_a_live_running_job_is_left_alone(queued):
    ImportJob.objects.filter(pk=queued.pk).update(status=Status.RUNNING, heartbeat_at=NOW, attempts=1)

    assert tasks.sweep_import_jobs.apply().result == 0
    assert ImportJob.objects.get().status == Status.RUNNING


def test_the_progress_page_reloads_itself_without_script_until_the_job_is_done(hr, queued):
    ImportJob.objects.filter(pk=queued.pk).update(status=Status.RUNNING, rows_done=1, started_at=NOW)

    page = hr.get(job_page(queued)).content.decode()

    assert '<meta http-equiv="refresh" content="3">' in page
    assert "1 of 2 (50%)" in page and "Importing" in page
    assert "<script>" not in page and " onclick=" not in page


def test_the_progress_page_costs_the_same_queries_however_many_errors(hr, queued, django_assert_num_queries):
    hr.get(job_page(queued))  # the session and the permission caches, once
    ImportJob.objects.filter(pk=queued.pk).update(
        status=Status.REFUSED, errors=[f"Row {n}, column role: Unknown role" for n in range(2, 500)]
    )

    with CaptureQueriesContext(connection) as queries:
        page = hr.get(job_page(queued))

    assert page.status_code == 200 and "Row 499" in page.content.decode()
    # The session, the user, the job with its user, and the mark that its user has seen the result.
    assert len(queries) == 4, [q["sql"] for q in queries]


@pytest.fixture
def morgan(client, org):
    """Manages staff in the admin (may add and change employees) but is not HR."""
    user = factories.UserFactory(username="morgan", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_employee", "add_employee", "change_employee", "view_importjob"])
    )
    return user


def test_someone_not_in_hr_can_neither_start_nor_see_a_job(client, morgan, queued):
    client.force_login(morgan)

    assert client.post(reverse("admin:organisation_employee_process_import"), {}).status_code == 403
    assert client.get(job_page(queued)).status_code == 403
    assert client.get(reverse("admin:imports_importjob_changelist")).status_code == 403


def test_anyone_in_hr_sees_every_job(client, queued):
    other = factories.UserFactory(username="harriet", is_staff=True, is_superuser=True)
    client.force_login(other)

    assert client.get(job_page(queued)).status_code == 200
    assert "staff.csv" in client.get(reverse("admin:imports_importjob_changelist")).content.decode()


def test_signed_out_visitors_are_sent_to_sign_in(queued):
    response = Client().get(job_page(queued))

    assert response.status_code == 302 and "login" in response["Location"]


def test_the_job_list_costs_the_same_queries_at_10_and_500_jobs(hr, hr_admin):
    def build(count, offset):
        ImportJob.objects.bulk_create(
            ImportJob(
                kind="staff",
                file_name=f"f{offset + n}.csv",
                file_format="csv",
                date_format="%Y-%m-%d",
                created_by=factories.UserFactory() if n % 50 == 0 else hr_admin,
            )
            for n in range(count)
        )

    with_10, with_500 = changelist_queries_at_10_and_500(hr, reverse("admin:imports_importjob_changelist"), build)

    assert with_10 == with_500
