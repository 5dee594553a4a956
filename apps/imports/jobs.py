"""Confirmed admin imports, run by a Celery worker instead of the web request (50k rows take about 35 s).

The admin's confirm step keeps the previewed upload in a private folder (uploads.keep_for_job) and writes an
ImportJob; its task is queued once that commits (tasks.import_job_queue). The rest holds these promises:

- Never lost: with the broker down at confirm time the row stays `queued`, and the sweep (every minute) sends
  its task again once a worker can have it.
- Never twice: a worker claims the job (`queued` -> `running` under a row lock) before importing, so a task
  delivered twice, or sent again by the sweep while the first still waited in the queue, imports once.
- All or nothing, as before: the importer writes in one transaction, and the job's result commits in that
  same transaction. A worker killed mid-import leaves nothing written and the job `running` with a silent
  heartbeat; past the task time limit (no live task can be that old) the sweep queues it again, up to
  MAX_ATTEMPTS times.
- Told: the importing user gets the result as a message on their next page and an email through the outbox.
"""

from __future__ import annotations

import datetime
import functools
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.urls import reverse
from django.utils import timezone

from apps.notifications import content as notification_content
from apps.notifications import planning as notification_planning

from . import uploads
from .credentials import credentials_import
from .models import ImportJob
from .parsing import FileError, ImportFile
from .report import ImportOptions, ImportReport
from .staff import staff_import

logger = logging.getLogger(__name__)
Status = ImportJob.Status

IMPORTERS = {"staff": staff_import, "credentials": credentials_import}
MAX_ATTEMPTS = 3
KEPT_ERRORS = 500
# A queued job's task is sent again when no worker claimed it this long after it was last sent.
RESEND_AFTER = datetime.timedelta(minutes=2)


def stale_after() -> datetime.timedelta:
    """A running job silent this long has no live worker: the hard time limit has killed any task by then."""
    return datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)


def job_create(
    *, kind: str, file_name: str, file_format: str, preview_name: str, options: ImportOptions, user, rows_total=None
) -> ImportJob:
    """Keep the confirmed upload and write its job (the caller queues the task on commit)."""
    if kind not in IMPORTERS:
        raise ValueError(f"unknown import kind {kind!r}")
    stored = uploads.keep_for_job(preview_name)
    return ImportJob.objects.create(
        kind=kind,
        file_name=file_name[:255],
        file_format=file_format,
        stored_name=stored,
        encoding=options.encoding,
        date_format=options.date_format,
        backfill=options.backfill,
        created_by=user,
        rows_total=rows_total,
    )


def job_claim(*, job_id: int) -> ImportJob | None:
    """Take a queued job for this worker alone; None if another delivery has it (or had it)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().select_related("created_by").filter(id=job_id).first()
        if job is None or job.status != Status.QUEUED:
            return None
        now = timezone.now()
        job.status, job.started_at, job.heartbeat_at, job.rows_done = Status.RUNNING, now, now, 0
        job.attempts += 1
        job.save(update_fields=["status", "started_at", "heartbeat_at", "rows_done", "attempts"])
        return job


def job_run(*, job_id: int) -> str:
    """Claim the job and import its file; the job's result commits with the import. Safe to call twice."""
    job = job_claim(job_id=job_id)
    if job is None:
        return "not queued: taken by another delivery, or finished"
    progress = _Progress(job.id)
    try:
        with transaction.atomic():
            report = _import(job, progress)
            _conclude(job, report)
    except Exception as error:
        logger.exception("import job %s failed", job.id)
        with transaction.atomic():
            _fail(job, f"The import stopped with an error, so nothing was imported: {type(error).__name__}: {error}")
    finally:
        progress.close()
    if job.finished:
        _remove_file(job)
    return job.summary


def _import(job: ImportJob, progress: _Progress) -> ImportReport:
    path = uploads.job_file(job.stored_name) if job.stored_name else None
    if path is None or not path.is_file():
        report = ImportReport(kind=job.kind, file_name=job.file_name, dry_run=False)
        report.add_error(None, None, "The uploaded file is no longer there: upload it again.")
        return report
    try:
        file = ImportFile.from_bytes(path.read_bytes(), name=job.file_name, kind=job.file_format)
    except FileError as error:
        report = ImportReport(kind=job.kind, file_name=job.file_name, dry_run=False)
        for row, column, message in error.problems:
            report.add_error(row, column, message)
        return report
    # `previewed`: HR confirmed after this very file's preview passed; the writing pass still re-checks it all.
    return IMPORTERS[job.kind](
        file=file, user=job.created_by, dry_run=False, previewed=True, options=job.options, progress=progress
    )


def _conclude(job: ImportJob, report: ImportReport) -> None:
    job.status = Status.IMPORTED if report.committed else Status.REFUSED
    job.rows_done = report.rows
    job.new, job.changed, job.unchanged = report.new, report.changed, report.unchanged
    job.error_count = report.error_count
    job.summary = report.summary()
    job.errors = [str(error) for error in report.errors[:KEPT_ERRORS]]
    job.notes = list(report.notes)
    _finish(job)


def _fail(job: ImportJob, reason: str) -> None:
    job.status, job.summary = Status.FAILED, f"{job.file_name}: {reason}"
    job.errors, job.notes = [], []
    _finish(job)


def _finish(job: ImportJob) -> None:
    job.finished_at = job.heartbeat_at = timezone.now()
    job.save()
    notification_planning.import_finished_queue(
        user=job.created_by, reference=f"import-job:{job.id}", payload=_email_context(job)
    )
    user_id = job.created_by_id
    transaction.on_commit(lambda: cache.set(announce_key(user_id), True, timeout=7 * 86400))


def _email_context(job: ImportJob) -> dict:
    return notification_content.import_finished_context(
        kind=job.kind,
        file_name=job.file_name,
        started=timezone.localtime(job.created_at),
        summary=job.summary,
        outcome=job.status,
        errors=job.errors,
        error_count=job.error_count,
        job_path=job_url(job),
    )


def job_url(job: ImportJob) -> str:
    return reverse("admin:imports_importjob_change", args=[job.pk])


def _remove_file(job: ImportJob) -> None:
    if job.stored_name:
        uploads.job_file(job.stored_name).unlink(missing_ok=True)
        ImportJob.objects.filter(id=job.id).update(stored_name="")
        job.stored_name = ""


class _Progress:
    """Rows done, written as the import goes on a connection of its own: the import's transaction is open
    until the end, and whoever watches the job page must see the count move (PostgreSQL; elsewhere the count
    arrives with the result)."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.done = 0
        self.connection: BaseDatabaseWrapper | None = None

    def __call__(self, stage: str, count: int) -> None:
        self.done += count
        if connection.vendor != "postgresql":
            return
        if self.connection is None:
            self.connection = connections.create_connection(DEFAULT_DB_ALIAS)
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ImportJob._meta.db_table} SET rows_done = %s, heartbeat_at = %s WHERE id = %s",
                [self.done, timezone.now(), self.job_id],
            )

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def jobs_to_resend() -> list[int]:
    """Queued jobs no worker claimed since their task was last sent, and running jobs whose worker died.

    Marks them as sent now (a dead worker's job goes back to `queued`, or fails after MAX_ATTEMPTS), so a
    sweep every minute sends each at most every RESEND_AFTER. The claim makes a duplicate delivery harmless.
    """
    now = timezone.now()
    with transaction.atomic():
        dead = list(
            ImportJob.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("created_by")
            .filter(status=Status.RUNNING, heartbeat_at__lt=now - stale_after())
        )
        for job in dead:
            logger.warning(
                "import job %s: its worker fell silent at %s (attempt %s)", job.id, job.heartbeat_at, job.attempts
            )
            if job.attempts >= MAX_ATTEMPTS:
                _fail(job, f"Its worker stopped {job.attempts} times (killed, or out of memory); nothing was imported.")
                transaction.on_commit(functools.partial(_remove_file, job))
            else:
                ImportJob.objects.filter(id=job.id).update(status=Status.QUEUED, queued_at=now - RESEND_AFTER)
        ids = list(
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(status=Status.QUEUED, queued_at__lte=now - RESEND_AFTER)
            .values_list("id", flat=True)
        )
        ImportJob.objects.filter(id__in=ids).update(queued_at=now)
    return ids


def job_files_sweep() -> int:
    keep = set(ImportJob.objects.exclude(stored_name="").values_list("stored_name", flat=True))
    return uploads.job_files_sweep(keep=keep)


def announce_key(user_id: int) -> str:
    return f"imports:announce:{user_id}"


def jobs_announce(*, user) -> list[ImportJob]:
    """The user's finished imports they have not been shown yet, now marked shown.

    Asked only when the cache says one finished (the worker sets the key), so pages cost no query otherwise.
    """
    cache.delete(announce_key(user.pk))
    jobs = list(ImportJob.objects.filter(created_by=user, announced=False, status__in=ImportJob.FINISHED))
    if jobs:
        ImportJob.objects.filter(id__in=[job.id for job in jobs]).update(announced=True)
    return jobs
