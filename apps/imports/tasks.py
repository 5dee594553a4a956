"""Celery entry points for imports: thin wrappers over the services."""

from celery import shared_task

from . import uploads


@shared_task(ignore_result=True)
def sweep_import_uploads() -> int:
    """Daily: import files whose preview HR never confirmed."""
    return uploads.uploads_sweep()
