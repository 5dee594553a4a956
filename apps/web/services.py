"""Writes the web app owns: the employees' calendar feed links."""

import secrets

from django.db import transaction

from apps.core import clock
from apps.organisation.models import Employee

from .models import CalendarFeedToken, hash_feed_secret


def calendar_feed_create(*, employee: Employee) -> str:
    """Make a new secret calendar link for the employee, revoking any older one; returns the secret.

    The secret is 32 random bytes and is never stored: show it to the employee now or never.
    """
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        calendar_feed_revoke(employee=employee)
        CalendarFeedToken.objects.create(employee=employee, secret_hash=hash_feed_secret(secret))
    return secret


def calendar_feed_revoke(*, employee: Employee) -> int:
    """Stop the employee's calendar link working at once; returns how many links were revoked (0 or 1)."""
    return CalendarFeedToken.objects.filter(employee=employee, revoked_at__isnull=True).update(revoked_at=clock.now())
