"""Celery entry points for imports: thin wrappers over the services."""

from celery import shared_task
from django.db import transaction

from apps.compliance.tasks import send_task
from apps.notifications import tasks as notification_tasks

from . import jobs, uploads
from .models import ImportJob


@shared_task(ignore_result=True)
def sweep_import_uploads() -> int:
    """Daily: import files whose preview HR never confirmed, and kept files no job refers to."""
    return uploads.uploads_sweep() + jobs.job_files_sweep()


# Acknowledged only once done: a worker that dies mid-import hands the task to another, and the claim in
# job_run makes that (or any second delivery) import once. Not retried on errors: the job records them.
@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_import_job(job_id: int) -> str:
    summary = jobs.job_run(job_id=job_id)
    send_task(notification_tasks.send_outbox)  # the importing user's email, now rather than at the next beat
    return summary


@shared_task(ignore_result=True)
def sweep_import_jobs() -> int:
    """Every minute: jobs whose task never reached a worker (broker down at confirm time), or whose worker died."""
    ids = jobs.jobs_to_resend()
    for job_id in ids:
        send_task(run_import_job, job_id)
    return len(ids)


def import_job_queue(**kwargs) -> ImportJob:
    """Write the job (jobs.job_create's arguments) and queue its task once the confirmation commits."""
    with transaction.atomic():
        job = jobs.job_create(**kwargs)
        transaction.on_commit(lambda: send_task(run_import_job, job.id))
    return job
