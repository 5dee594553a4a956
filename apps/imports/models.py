"""A confirmed admin import, run in the background by a Celery worker (jobs.py says how)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from .report import ImportOptions


class ImportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        IMPORTED = "imported", "Imported"
        REFUSED = "refused", "Refused: nothing imported"
        FAILED = "failed", "Failed: nothing imported"

    FINISHED = (Status.IMPORTED, Status.REFUSED, Status.FAILED)

    kind = models.CharField(max_length=20, help_text="staff or credentials")
    file_name = models.CharField(max_length=255, help_text="The name of the file HR uploaded.")
    file_format = models.CharField(max_length=10, help_text="csv or xlsx")
    stored_name = models.CharField(
        max_length=100, blank=True, help_text="The kept upload in the private jobs folder; blank once removed."
    )
    encoding = models.CharField(max_length=20, default="utf-8")
    date_format = models.CharField(max_length=20)
    backfill = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="import_jobs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    rows_total = models.PositiveIntegerField(null=True, blank=True, help_text="As the preview counted them.")
    rows_done = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    summary = models.TextField(blank=True)
    errors = models.JSONField(default=list, blank=True, help_text="The first errors, as 'Row N, column X: ...'.")
    notes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(default=timezone.now, help_text="When its task was last sent to the workers.")
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Its worker's last sign of life.")
    finished_at = models.DateTimeField(null=True, blank=True)
    announced = models.BooleanField(default=False, help_text="The importing user has seen the result on a page.")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "import job"
        indexes = [
            models.Index(fields=["status", "queued_at"], name="importjob_queue"),
            models.Index(fields=["created_by"], condition=models.Q(announced=False), name="importjob_unannounced"),
        ]

    def __str__(self):
        return f"{self.kind} import of {self.file_name} ({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def options(self) -> ImportOptions:
        return ImportOptions(encoding=self.encoding, date_format=self.date_format, backfill=self.backfill)
