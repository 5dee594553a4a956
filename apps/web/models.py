import hashlib

from django.db import models
from django.db.models import Q

from apps.organisation.models import Employee


def hash_feed_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class CalendarFeedToken(models.Model):
    """A revocable secret link to one employee's calendar of expiry dates.

    Only a SHA-256 of the secret is stored: a leaked database does not leak working links, and the
    employee sees the link once, when it is made.
    """

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="calendar_feed_tokens")
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["employee"], condition=Q(revoked_at__isnull=True), name="calendarfeedtoken_one_active_link"
            ),
        ]

    def __str__(self):
        state = f"revoked {self.revoked_at:%Y-%m-%d}" if self.revoked_at else "active"
        return f"Calendar link for employee {self.employee_id} ({state})"
