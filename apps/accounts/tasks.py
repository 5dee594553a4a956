"""Celery entry points for sign-in: thin wrappers around the services."""

import smtplib

from celery import shared_task

from . import provisioning, services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deactivate_leavers() -> str:
    return f"{provisioning.accounts_deactivate_leavers()} logins deactivated"


# A mail server that is down for a while must not lose the email the person is waiting for.
_RETRY = {"autoretry_for": (OSError, smtplib.SMTPException), "retry_backoff": True, "max_retries": 6}


@shared_task(**_RETRY)
def email_sign_in_link(email: str) -> int:
    return services.sign_in_link_send(email=email)


@shared_task(**_RETRY)
def email_password_reset(email: str) -> int:
    return services.password_reset_send(email=email)
