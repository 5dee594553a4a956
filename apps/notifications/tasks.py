"""Celery entry points: thin wrappers around planning and delivery, on the beat schedule in settings."""

import datetime

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, transaction

from apps.compliance import services as compliance_services
from apps.compliance import tasks as compliance_tasks

from . import delivery, planning

# Planning is idempotent and delivery claims rows before sending them: both may safely run again
# when a worker dies, so acknowledge only once done.
_RELIABLE = {"acks_late": True, "reject_on_worker_lost": True}
_RETRY = {"autoretry_for": (DatabaseError,), "retry_backoff": True, "retry_backoff_max": 300, "max_retries": 5}


@shared_task(**_RELIABLE, **_RETRY)
def plan_notifications(day: str | None = None) -> str:
    report = planning.notifications_plan(day=datetime.date.fromisoformat(day) if day else None)
    start_senders()
    return str(report)


@shared_task(**_RELIABLE, **_RETRY)
def plan_backfill(employee_ids: list[int]) -> str:
    """After an import marked backfill: its people's results first, then their notices, old lapses rolled up."""
    compliance_services.recompute_employees(employee_ids=employee_ids)
    report = planning.notifications_plan(backfill_employee_ids=employee_ids)
    start_senders()
    return str(report)


@shared_task(**_RELIABLE, **_RETRY)
def plan_digests(day: str | None = None) -> str:
    count = planning.digests_plan(day=datetime.date.fromisoformat(day) if day else None)
    start_senders()
    return f"{count} digests"


def queue_delivery() -> None:
    """Send what was just put in the outbox, once the transaction commits. With the broker down the rows
    wait in PostgreSQL, and the periodic sender (beat's `send-outbox`) delivers them."""
    transaction.on_commit(lambda: compliance_tasks.send_task(send_outbox))


def start_senders() -> None:
    """Several senders share the outbox safely (each claims its own rows), so a big day goes out in parallel."""
    for _ in range(settings.NOTIFICATIONS_SENDERS):
        send_outbox.delay()


@shared_task(**_RELIABLE, **_RETRY)
def send_outbox() -> str:
    """Deliver what is ready. SMTP failures are recorded on the rows (with their next attempt time),
    not raised: the next run, every few minutes on beat, retries them."""
    budget = settings.CELERY_TASK_SOFT_TIME_LIMIT * 0.8
    report = delivery.outbox_deliver(max_seconds=budget)
    if report.more:
        send_outbox.delay()
    return str(report)
