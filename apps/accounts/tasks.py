"""Celery entry points for sign-in: thin wrappers around the services."""

from celery import shared_task

from . import provisioning


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deactivate_leavers() -> str:
    return f"{provisioning.accounts_deactivate_leavers()} logins deactivated"
