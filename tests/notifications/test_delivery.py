"""The outbox's delivery: batches over one connection, claims, retries with backoff, never twice."""

import datetime
import smtplib
import threading
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

from apps.certifications.services import credential_create
from apps.compliance import services as compliance
from apps.notifications import delivery, planning, tasks
from apps.notifications.models import Notification, PlanningRun
from tests.notifications.backends import FlakyBackend
from tests.notifications.conftest import D, notification_of, on, ward_nurse

TODAY = D(2026, 6, 1)
Status = Notification.Status
FLAKY = "tests.notifications.backends.FlakyBackend"


@pytest.fixture(autouse=True)
def frozen():
    """From before any fixture writes: a scan run at the real time would outrank the tests' runs."""
    with on(TODAY):
        yield


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = FLAKY
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 300
    FlakyBackend.reset()
    yield FlakyBackend
    FlakyBackend.reset()


def queue_reminders(catalogue, count: int) -> list[Notification]:
    """`count` nurses whose BLS expires in 30 days, scanned and planned (not yet sent)."""
    for _ in range(count):
        ward_nurse(catalogue, bls_expires=TODAY + datetime.timedelta(days=30))
    with on(TODAY):
        compliance.scan_run()
        planning.notifications_plan()
    return list(Notification.objects.order_by("id"))


def deliver(*, hour=12, **kwargs):
    with on(TODAY, hour=hour):
        return delivery.outbox_deliver(**kwargs)


@pytest.mark.django_db
def test_each_batch_goes_over_one_connection(catalogue, flaky):
    rows = queue_reminders(catalogue, 25)
    report = deliver(batch_size=10)
    assert (report.sent, report.batches, flaky.opened) == (25, 3, 3)
    assert sorted(notification_of(m).id for m in mail.outbox) == [row.id for row in rows]
    assert set(Notification.objects.values_list("status", "attempts")) == {(Status.SENT, 1)}


@pytest.mark.django_db
def test_a_dropped_connection_is_retried_later_with_backoff_and_each_email_goes_once(catalogue, flaky):
    rows = queue_reminders(catalogue, 5)
    flaky.reset(script=[None, smtplib.SMTPServerDisconnected("gone")])

    report = deliver()
    assert (report.sent, report.retrying, report.interrupted) == (1, 1, True)
    failed = Notification.objects.get(id=rows[1].id)
    assert (failed.status, failed.attempts) == (Status.READY, 1)
    assert "SMTPServerDisconnected: gone" in failed.last_error
    with on(TODAY):
        assert failed.next_attempt_at > datetime.datetime.now(datetime.UTC)
    untried = Notification.objects.filter(id__in=[r.id for r in rows[2:]])
    assert set(untried.values_list("status", "attempts")) == {(Status.READY, 0)}

    assert deliver().sent == 0  # nothing is due again before its backoff
    assert deliver(hour=13).sent == 4
    assert deliver(hour=13).sent == 0
    assert sorted(notification_of(m).id for m in mail.outbox) == [row.id for row in rows]


@pytest.mark.django_db
def test_a_refused_recipient_does_not_hold_up_the_others(catalogue, flaky):
    rows = queue_reminders(catalogue, 3)
    flaky.reset(script=[None, smtplib.SMTPRecipientsRefused({"x@example.org": (550, b"no such user")})])
    report = deliver()
    assert (report.sent, report.retrying, report.interrupted) == (2, 1, False)
    assert Notification.objects.get(id=rows[1].id).status == Status.READY


@pytest.mark.django_db
def test_a_mail_server_that_is_down_stops_the_run_without_losing_anything(catalogue, flaky):
    queue_reminders(catalogue, 12)
    flaky.reset(open_error=ConnectionRefusedError(111, "Connection refused"))
    report = deliver(batch_size=5)
    assert (report.batches, report.retrying, report.interrupted) == (1, 5, True)
    assert Notification.objects.filter(status=Status.READY, attempts=0).count() == 7  # never tried
    flaky.reset()
    assert deliver(hour=13).sent == 12


@pytest.mark.django_db
def test_after_the_last_attempt_it_is_failed_and_hr_can_send_it_again(catalogue, flaky, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    (row,) = queue_reminders(catalogue, 1)
    flaky.reset(script=[smtplib.SMTPDataError(451, b"try later")] * 2)
    deliver()
    report = deliver(hour=13)
    row.refresh_from_db()
    assert (report.failed, row.status, row.attempts) == (1, Status.FAILED, 2)
    assert deliver(hour=20).sent == 0  # failed rows wait for a person

    with on(TODAY, hour=20):
        assert delivery.notifications_resend(notification_ids=[row.id]) == 1
    assert deliver(hour=20).sent == 1
    assert delivery.notifications_resend(notification_ids=[row.id]) == 0  # sent: never again
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_sender_task_retried_after_an_smtp_failure_sends_once(catalogue, flaky):
    queue_reminders(catalogue, 2)
    flaky.reset(script=[smtplib.SMTPServerDisconnected("reset by peer")])
    with on(TODAY):
        tasks.send_outbox.delay()
        tasks.send_outbox.delay()  # the next beat run, too soon: backoff holds
    assert len(mail.outbox) == 0
    with on(TODAY, hour=13):
        tasks.send_outbox.delay()
        tasks.send_outbox.delay()
    assert len(mail.outbox) == 2
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENT}


@pytest.mark.django_db
def test_a_row_no_longer_due_when_its_turn_comes_is_cancelled(catalogue):
    (row,) = queue_reminders(catalogue, 1)
    with on(TODAY):
        credential_create(
            employee=row.employee, certification_type=catalogue.bls, issued_on=TODAY, verification="verified"
        )
        compliance.recompute_employees(employee_ids=[row.employee_id])
    assert deliver().cancelled == 1
    row.refresh_from_db()
    assert row.status == Status.CANCELLED
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_claimed_row_is_not_claimed_again(catalogue):
    queue_reminders(catalogue, 4)
    with on(TODAY):
        first = delivery.outbox_claim(limit=3)
        second = delivery.outbox_claim(limit=3)
        third = delivery.outbox_claim(limit=3)
    assert len(first) == 3 and len(second) == 1 and third == []
    assert not {r.id for r in first} & {r.id for r in second}
    assert {r.claim for r in first} != {r.claim for r in second}


@pytest.mark.django_db
def test_rows_left_sending_by_a_dead_worker_are_queued_again(catalogue, settings):
    settings.NOTIFICATIONS_SENDING_STALE_MINUTES = 30
    queue_reminders(catalogue, 2)
    with on(TODAY):
        delivery.outbox_claim(limit=10)  # and the worker dies
    assert deliver(hour=12).sent == 0
    report = deliver(hour=13)
    assert report.sent == 2
    assert len(mail.outbox) == 2


def _in_threads(target, count=2):
    errors = []

    def run():
        try:
            target()
        except Exception as error:  # surfaced below: a thread's exception would otherwise vanish
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.postgres
def test_two_claims_interleaved_on_two_connections_take_different_rows(postgres, transactional_db, catalogue):
    """Not left to luck: each sender has selected (and locked) its rows before either marks them. SKIP LOCKED must
    give the second sender other rows at once; were it to wait for the first, the barrier would time out."""
    queue_reminders(catalogue, 6)
    both_selected = threading.Barrier(2, timeout=10)
    update = QuerySet.update

    def update_once_both_selected(queryset, **fields):
        if queryset.model is Notification and fields.get("status") == Status.SENDING:
            both_selected.wait()
        return update(queryset, **fields)

    claims: list[set[int]] = []
    with on(TODAY), mock.patch.object(QuerySet, "update", update_once_both_selected):
        _in_threads(lambda: claims.append({row.id for row in delivery.outbox_claim(limit=3)}))
    first, second = claims
    assert len(first) == len(second) == 3
    assert not first & second


@pytest.mark.postgres
def test_two_senders_at_once_send_each_email_once(postgres, transactional_db, catalogue):
    rows = queue_reminders(catalogue, 120)
    with on(TODAY):
        _in_threads(lambda: delivery.outbox_deliver(batch_size=7))
    ids = [notification_of(m).id for m in mail.outbox]
    assert sorted(ids) == [row.id for row in rows]
    assert set(Notification.objects.values_list("status", "attempts")) == {(Status.SENT, 1)}


@pytest.mark.postgres
def test_two_planners_at_once_queue_each_notice_once(postgres, transactional_db, catalogue, manager):
    for offset in (30, 7, -1, -8):
        ward_nurse(catalogue, bls_expires=TODAY + datetime.timedelta(days=offset))
    with on(TODAY):
        compliance.scan_run()
        _in_threads(planning.notifications_plan, count=3)
        _in_threads(delivery.outbox_deliver, count=2)
    keys = [row.key for row in Notification.objects.all()]
    assert len(keys) == len(set(keys)) == 4 + 2  # four reminders, two fresh lapses escalated to Margaret
    assert len(mail.outbox) == 6


@pytest.mark.django_db
def test_planning_reads_a_fixed_number_of_queries_whatever_the_size(catalogue, manager):
    def plan_queries(extra: int) -> int:
        for offset in range(extra):
            ward_nurse(catalogue, bls_expires=TODAY + datetime.timedelta(days=offset - 20))
        with on(TODAY):
            compliance.scan_run()
            with CaptureQueriesContext(connection) as queries:
                planning.notifications_plan()
        return _reads_and_bookkeeping(queries)

    assert plan_queries(3) == plan_queries(40)


def _reads_and_bookkeeping(queries) -> int:
    """Queries other than the outbox's batched inserts (SQLite splits a batch by its variable limit)."""
    return sum(
        1
        for q in queries.captured_queries
        if not q["sql"].startswith('INSERT OR IGNORE INTO "notifications_notification"')
    )


def test_a_first_runs_backfill_costs_a_fixed_number_of_queries_per_manager(catalogue, manager):
    PlanningRun.objects.all().delete()

    def plan_queries(extra: int) -> int:
        Notification.objects.all().delete()
        PlanningRun.objects.all().delete()
        for offset in range(extra):
            ward_nurse(catalogue, bls_expires=TODAY - datetime.timedelta(days=offset + 20))
        with on(TODAY):
            compliance.scan_run()
            with CaptureQueriesContext(connection) as queries:
                planning.notifications_plan()
        return _reads_and_bookkeeping(queries)

    assert plan_queries(3) == plan_queries(40)


@pytest.mark.django_db
def test_delivery_costs_one_query_per_email_beyond_a_fixed_few_per_batch(catalogue):
    def deliver_queries(count: int) -> int:
        queue_reminders(catalogue, count)
        with on(TODAY), CaptureQueriesContext(connection) as queries:
            assert delivery.outbox_deliver(batch_size=100).sent == count
        return len(queries)

    few, more = deliver_queries(5), deliver_queries(25)
    assert more - few == 25 - 5  # the "sent" record of each email, nothing else per email
    # Claiming, the batch's facts, catalogue and sign-in logins, the last empty claim (+2 SETs on PostgreSQL).
    assert few - 5 <= 19
