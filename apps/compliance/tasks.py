"""Celery entry points: thin wrappers that pass ids and call services, and the helpers that queue them."""

import datetime
import logging
from collections.abc import Iterable

import kombu.exceptions
import redis
from celery import chord, shared_task
from django.db import DatabaseError, transaction

from apps.core import clock

from . import services, timeline_store

logger = logging.getLogger(__name__)

# Every task here replaces whole rows and can be run again: acknowledge only when done,
# so a worker that dies mid-task hands it to another one.
_RELIABLE = {"acks_late": True, "reject_on_worker_lost": True}
# Fire-and-forget: nobody waits for their result, so queueing them never touches the result backend (whose
# Redis connection, once lost, fails every later call in that process; the broker's failure is handled).
_NO_RESULT = {"ignore_result": True}
_RETRY = {"autoretry_for": (DatabaseError,), "retry_backoff": True, "retry_backoff_max": 300, "max_retries": 5}


@shared_task(bind=True, **_RELIABLE, **_NO_RESULT)
def full_scan(self, as_of: str | None = None) -> str:
    """Nightly: open a run and fan its chunks out over the workers; `scan_finish` closes it.

    Redelivered after its worker died (acks_late), it fans the same run's chunks out again: chunks replace
    their rows whole and `finish_scan` finishes a run once, so whatever the first attempt queued is harmless.
    """
    day = datetime.date.fromisoformat(as_of) if as_of else None
    try:
        run = services.scan_start(as_of=day, coordinator=self.request.id or "")
    except services.ScanAlreadyRunning as error:
        logger.info("compliance scan skipped: %s", error)
        return "skipped"
    chunks = services.scan_chunks(run=run)
    finish = finish_scan.si(run.id)
    if not chunks:
        finish.delay()
    else:
        chord(scan_chunk.si(run.id, first_id, last_id) for first_id, last_id in chunks)(finish)
    return f"run {run.id}: {len(chunks)} chunks"


@shared_task(**_RELIABLE, **_RETRY)
def scan_chunk(run_id: int, first_id: int, last_id: int) -> int:
    return services.scan_chunk(run_id=run_id, first_id=first_id, last_id=last_id)


@shared_task(**_RELIABLE, **_RETRY)
def finish_scan(run_id: int) -> str:
    run = services.scan_finish(run_id=run_id)
    return f"run {run.id}: {run.state}, {run.employee_count} employees, {run.result_count} results"


@shared_task(**_RELIABLE, **_RETRY, **_NO_RESULT)
def recompute_employees(employee_ids: list[int]) -> int:
    return services.recompute_employees(employee_ids=employee_ids)


@shared_task(**_RELIABLE, **_NO_RESULT)
def timeline_rebuild() -> str:
    """Every employee's periods, in chunk tasks over the workers; `timeline_rebuild_finish` publishes them."""
    started_at, horizon = clock.now(), timeline_store.target_horizon()
    ranges = timeline_store.chunks()
    finish = timeline_rebuild_finish.si(horizon.isoformat(), started_at.isoformat())
    chord(timeline_rebuild_chunk.si(first_id, last_id, horizon.isoformat()) for first_id, last_id in ranges)(finish)
    return f"timeline rebuild to {horizon}: {len(ranges)} chunks"


@shared_task(**_RELIABLE, **_RETRY)
def timeline_rebuild_chunk(first_id: int, last_id: int, horizon: str) -> int:
    return timeline_store.rebuild_range(
        first_id=first_id, last_id=last_id, horizon=datetime.date.fromisoformat(horizon)
    )


@shared_task(**_RELIABLE, **_RETRY)
def timeline_rebuild_finish(horizon: str, started_at: str) -> str:
    state = timeline_store.rebuild_finish(
        horizon=datetime.date.fromisoformat(horizon), started_at=datetime.datetime.fromisoformat(started_at)
    )
    return str(state)


@shared_task(**_RELIABLE, **_RETRY, **_NO_RESULT)
def timeline_rebuild_people(employee_ids: list[int]) -> int:
    return timeline_store.rebuild_people(employee_ids=employee_ids)


@shared_task(**_RELIABLE, **_RETRY)
def timeline_sync() -> str:
    """Nightly: take in the day's changes and move the horizon; the first time, a full rebuild instead."""
    report = timeline_store.sync()
    if report is None:
        return timeline_rebuild()
    return str(report)


@shared_task(**_RELIABLE, **_RETRY, **_NO_RESULT)
def sweep_recomputes() -> int:
    """Every minute: recomputes owed but never delivered (broker down at commit time, a lost task).

    A full scan owed is queued, not run here, so the sweep stays short. Returns the employees recomputed.
    """
    if services.full_scan_owed():
        send_task(full_scan)
        send_task(timeline_rebuild)
    ids = services.recomputes_settle()
    if ids:
        send_task(timeline_rebuild_people, ids)
    return len(ids)


def send_task(task, *args) -> bool:
    """Queue a task; with the broker unreachable, log and go on: the caller's outbox row keeps the debt.

    Fire and forget: no result is awaited, so the result store (whose lost Redis connection fails every later
    call in the process) is never touched, whatever the task's own ignore_result says.
    """
    try:
        task.apply_async(args, ignore_result=True)
    except (OSError, kombu.exceptions.OperationalError, redis.RedisError) as error:
        logger.warning("broker unavailable, %s not queued (its outbox rows keep the work): %s", task.name, error)
        return False
    return True


def queue_recompute(*, employee_ids: Iterable[int]) -> None:
    """Recompute these employees' results and periods in the background once the current transaction commits."""
    ids = sorted(set(employee_ids))
    if ids:
        services.recomputes_owe(employee_ids=ids)
        transaction.on_commit(lambda: send_task(recompute_employees, ids))
        transaction.on_commit(lambda: send_task(timeline_rebuild_people, ids))


def queue_full_scan() -> None:
    """For catalogue changes that can affect anyone (validity, renewal window, prerequisites)."""
    services.full_scan_owe()
    transaction.on_commit(lambda: send_task(full_scan))
    transaction.on_commit(lambda: send_task(timeline_rebuild))
