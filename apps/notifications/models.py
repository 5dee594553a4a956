"""The email outbox, and what HR and managers can tune about notifications.

One Notification row per notice ever due. Its natural key (rules.KEY_FIELDS) is unique per kind
in the database, so planning twice, or on two machines at once, cannot queue a second copy.
A sign-in link or password reset asked for at the sign-in page is one row per request (rules.ASKED_KINDS).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.certifications.models import CertificationType, Credential, Requirement
from apps.organisation.models import Employee

from . import rules
from .rules import KEY_FIELDS


def _field_name(key_field: str) -> str:
    return key_field.removesuffix("_id")


def _key_constraints() -> list:
    constraints: list[models.BaseConstraint] = []
    for kind, key_fields in KEY_FIELDS.items():
        fields = [_field_name(name) for name in key_fields]
        constraints.append(
            models.UniqueConstraint(fields=fields, condition=Q(kind=kind), name=f"notification_unique_{kind}")
        )
        # A NULL would make the unique constraint above let duplicates through.
        constraints.append(
            models.CheckConstraint(
                condition=~Q(kind=kind) | Q(**{f"{name}__isnull": False for name in fields}),
                name=f"notification_{kind}_has_key",
            )
        )
    return constraints


class Notification(models.Model):
    # The functional API keeps the labels in rules.Kind, the pure module; the stubs know only the class form.
    Kind = models.TextChoices("Kind", [(kind.name, (kind.value, kind.label)) for kind in rules.Kind])  # type: ignore[call-overload]

    class Status(models.TextChoices):
        READY = "ready", "Ready to send"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (gave up)"
        CANCELLED = "cancelled", "Cancelled (no longer due)"
        NO_ADDRESS = "no_address", "No email address"
        ROLLED_UP = "rolled_up", "Rolled into a backfill summary"
        NO_LOGIN = "no_login", "No login for the address asked for"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    employee = models.ForeignKey(
        Employee,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        help_text="The person it is about (and writes to, unless it goes to a manager).",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        help_text="The manager it goes to (escalations and digests).",
    )
    credential = models.ForeignKey(
        Credential, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    requirement = models.ForeignKey(
        Requirement, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    about_date = models.DateField(
        null=True,
        blank=True,
        help_text="The date the notice is about: expiry, due date, first day of a lapse, digest week.",
    )
    days_before = models.SmallIntegerField(
        default=0, help_text="The step of the sequence: days before the date (negative: after it)."
    )
    summary = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rolled_up",
        help_text="For an escalation rolled up by a backfill: the manager's summary that lists it.",
    )
    reference = models.CharField(
        max_length=100, blank=True, help_text="What a notice about another app's record is about (an import job)."
    )
    payload = models.JSONField(
        default=dict, blank=True, help_text="The email's content, for notices whose record this app cannot read."
    )
    recipient = models.EmailField(blank=True)
    subject = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.READY)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claim = models.UUIDField(null=True, blank=True, editable=False, help_text="The sender batch that holds it.")
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "outbox email"
        verbose_name_plural = "outbox"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_queue"),
            models.Index(fields=["claim"], name="notification_claim"),
            models.Index(fields=["kind", "status"], name="notification_kind_status"),
        ]
        constraints = _key_constraints()

    def __str__(self):
        return f"{self.get_kind_display()} to {self.recipient or '(no address)'} ({self.status})"

    @property
    def key(self) -> tuple:
        return rules.notice_key(self.kind, self)


class PlanningRun(models.Model):
    """One full planning run of the outbox. The first one of an installation is a backfill (docs/notifications.md)."""

    day = models.DateField()
    backfill = models.BooleanField(
        help_text="Lapses that began before the day were rolled into one summary per manager."
    )
    people = models.PositiveIntegerField(default=0)
    notices = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-finished_at"]

    def __str__(self):
        return f"Planning for {self.day}{' (backfill)' if self.backfill else ''}"


class ReminderPolicy(models.Model):
    """HR's reminder thresholds for one certification type, instead of the defaults in settings."""

    certification_type = models.OneToOneField(
        CertificationType, on_delete=models.CASCADE, related_name="reminder_policy"
    )
    reminder_days = models.CharField(
        max_length=100,
        help_text="Days before expiry to remind, comma-separated; 0 is the day of expiry. E.g. 90,60,30,14,7,0.",
    )
    repeat_while_lapsed = models.BooleanField(
        default=True, help_text="Keep reminding (every week by default) while it is lapsed."
    )

    class Meta:
        ordering = ["certification_type__code"]
        verbose_name_plural = "reminder policies"

    def __str__(self):
        return f"{self.certification_type.code}: {self.reminder_days}"

    def clean(self):
        try:
            days = rules.parse_days(self.reminder_days or "")
        except ValueError as error:
            raise ValidationError({"reminder_days": str(error)}) from None
        if days[0] > 3650:
            raise ValidationError({"reminder_days": "Reminders more than ten years ahead make no sense."})
        self.reminder_days = ",".join(str(day) for day in days)

    @property
    def days(self) -> tuple[int, ...]:
        return rules.parse_days(self.reminder_days)


class NotificationPreference(models.Model):
    """What a manager wants from their emails."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    skip_empty_digest = models.BooleanField(
        default=False,
        help_text="Do not send the weekly digest when nobody is lapsed, missing or expiring in the next 30 days.",
    )

    def __str__(self):
        return f"Notification preferences of {self.user}"
