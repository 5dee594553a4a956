"""Stored compliance answers, so dashboards, the API and reminders read them without recomputing.

These rows are derived data, rewritten wholesale by every scan: their foreign keys are not
enforced by the database (db_constraint=False), which would cost about a third of a 100k-employee
scan in deferred checks. Django's on_delete still removes them with their employee or credential.

A full scan writes a whole new generation of results under a new ComplianceRun and then
makes it current in one transaction; readers only ever see complete generations.
"""

import uuid

from django.db import models
from django.db.models import F, Q

from apps.certifications.models import Credential, Requirement
from apps.organisation.models import Employee

from .engine import Status

STATUS_CHOICES = [(s.value, s.label) for s in Status]


class ComplianceRunQuerySet(models.QuerySet):
    def current(self):
        """The newest complete run: the generation every reader uses."""
        return self.filter(state=ComplianceRun.State.COMPLETE).order_by("-finished_at", "-id").first()


class ComplianceRun(models.Model):
    class State(models.TextChoices):
        RUNNING = "running"
        COMPLETE = "complete"
        FAILED = "failed"

    as_of = models.DateField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    chunk_count = models.PositiveIntegerField(default=0)
    coordinator = models.CharField(
        max_length=64,
        blank=True,
        help_text="The full_scan task that opened it; if that task is redelivered "
        "(its worker died while fanning out), it fans the chunks out again instead of skipping.",
    )
    employee_count = models.PositiveIntegerField(default=0)
    result_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    objects = ComplianceRunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "finished_at"
        constraints = [
            # The scan lock: at most one run may be running at any time, on any number of machines.
            models.UniqueConstraint(
                fields=["state"], condition=Q(state="running"), name="compliancerun_one_running_scan"
            ),
        ]

    def __str__(self):
        return f"Compliance run {self.pk} as of {self.as_of} ({self.state})"


class EmployeeStatus(models.Model):
    """An employee's overall status (worst of their mandatory requirements) in one run."""

    run = models.ForeignKey(
        ComplianceRun, on_delete=models.CASCADE, related_name="employee_statuses", db_constraint=False
    )
    employee = models.ForeignKey(
        Employee, on_delete=models.CASCADE, related_name="compliance_statuses", db_constraint=False
    )
    status = models.CharField(max_length=24, choices=STATUS_CHOICES)
    next_expiry = models.DateField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "employee statuses"
        constraints = [models.UniqueConstraint(fields=["run", "employee"], name="employeestatus_unique_per_run")]
        indexes = [models.Index(fields=["run", "status"])]

    def __str__(self):
        return f"{self.employee_id}: {self.status}"


class RequirementStatus(models.Model):
    """One employee against one requirement in one run, with the reason in words."""

    run = models.ForeignKey(
        ComplianceRun, on_delete=models.CASCADE, related_name="requirement_statuses", db_constraint=False
    )
    employee = models.ForeignKey(
        Employee, on_delete=models.CASCADE, related_name="requirement_statuses", db_constraint=False
    )
    requirement = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="statuses", db_constraint=False)
    mandatory = models.BooleanField()
    status = models.CharField(max_length=24, choices=STATUS_CHOICES)
    reason = models.TextField()
    credential = models.ForeignKey(
        Credential, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    expires_on = models.DateField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)
    since = models.DateField(null=True, blank=True)
    # The card to renew: the one meeting it, or the prerequisite card its effective expiry comes from.
    # Messages and renewal counts go by this card, so one renewal is one action however many rows it affects.
    renew_credential = models.ForeignKey(
        Credential, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "requirement statuses"
        constraints = [
            models.UniqueConstraint(fields=["run", "employee", "requirement"], name="requirementstatus_unique_per_run")
        ]
        indexes = [
            models.Index(fields=["run", "status"]),
            models.Index(fields=["run", "expires_on"]),
        ]

    def __str__(self):
        return f"{self.employee_id} / {self.requirement_id}: {self.status}"


class CredentialFinding(models.Model):
    """A data-quality problem found by a run, e.g. ACLS earned while no BLS or CPR was current."""

    run = models.ForeignKey(ComplianceRun, on_delete=models.CASCADE, related_name="findings", db_constraint=False)
    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="findings", db_constraint=False)
    kind = models.CharField(max_length=60)
    message = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "credential", "kind"], name="finding_unique_per_run"),
        ]

    def __str__(self):
        return self.message


class Snapshot(models.Model):
    """Counts for one day, per organisation / department / role (employees) or certification type
    (requirement results naming that type). Kept for trend charts; a re-run the same day replaces it."""

    class Dimension(models.TextChoices):
        ORGANISATION = "organisation"
        DEPARTMENT = "department"
        ROLE = "role"
        CERTIFICATION = "certification"

    day = models.DateField()
    dimension = models.CharField(max_length=20, choices=Dimension.choices)
    key = models.BigIntegerField(help_text="Department, role or certification type id; 0 for the organisation.")
    total = models.PositiveIntegerField()
    counts = models.JSONField(help_text="Number per status.")

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["day", "dimension", "key"], name="snapshot_unique_per_day"),
            models.CheckConstraint(
                condition=Q(dimension="organisation", key=0) | ~Q(dimension="organisation"),
                name="snapshot_organisation_key_zero",
            ),
        ]

    def __str__(self):
        return f"{self.dimension} {self.key} on {self.day}"

    @property
    def compliant(self) -> int:
        return sum(n for status, n in self.counts.items() if Status(status).is_compliant)

    @property
    def rate(self) -> float | None:
        return self.compliant / self.total if self.total else None


def new_version() -> str:
    """A version no other state of the periods ever had (a cache shared by databases and runs stays sound)."""
    return uuid.uuid4().hex


class TimelineState(models.Model):
    """The one row that says how far the stored periods reach (see apps/compliance/timeline.py).

    Periods are exact for every day before `horizon`; readers answer later days with the engine.
    `synced_at` is when the nightly job last took in changes: the next one picks up every history row after it.
    `version` moves with every write of periods, in the writer's transaction: cached tallies are keyed by it.
    """

    horizon = models.DateField()
    synced_at = models.DateTimeField()
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    version = models.CharField(max_length=32, default=new_version)

    def __str__(self):
        return f"Periods exact until {self.horizon}"


class TimelinePerson(models.Model):
    """How far one employee's periods were computed, and the first day past that which may change them."""

    employee = models.OneToOneField(
        Employee, on_delete=models.CASCADE, primary_key=True, related_name="+", db_constraint=False
    )
    built_to = models.DateField()
    next_change_on = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["next_change_on"])]

    def __str__(self):
        return f"{self.employee_id}: built to {self.built_to}"


class EmployeePeriod(models.Model):
    """An employee's overall status over [valid_from, valid_to), with the assignment in force then.

    Derived data like the scan's results (no database-level FK checks); replaced whole per employee.
    """

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    valid_from = models.DateField()
    valid_to = models.DateField()
    status = models.CharField(max_length=24, choices=STATUS_CHOICES)
    role = models.ForeignKey("organisation.Role", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    department = models.ForeignKey(
        "organisation.Department", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    next_expiry = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["employee", "valid_from"], name="empperiod_employee_from"),
            # "Counts by department x status on D" reads the index alone.
            models.Index(
                fields=["valid_from", "valid_to"],
                include=["department", "role", "status", "employee", "next_expiry"],
                name="empperiod_range_covering",
            ),
        ]
        constraints = [models.CheckConstraint(condition=Q(valid_from__lt=F("valid_to")), name="empperiod_not_empty")]

    def __str__(self):
        return f"{self.employee_id}: {self.status} [{self.valid_from}, {self.valid_to})"


class RequirementPeriod(models.Model):
    """One employee against one requirement over [valid_from, valid_to), with the reason as of valid_from."""

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    requirement = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    valid_from = models.DateField()
    valid_to = models.DateField()
    status = models.CharField(max_length=24, choices=STATUS_CHOICES)
    mandatory = models.BooleanField()
    role = models.ForeignKey("organisation.Role", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    department = models.ForeignKey(
        "organisation.Department", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    reason = models.TextField()
    credential = models.ForeignKey(
        Credential, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    expires_on = models.DateField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)
    since = models.DateField(null=True, blank=True)
    # The card whose renewal keeps it met (the engine's renew_credential_id): renewals count cards, not rows.
    renew_credential = models.ForeignKey(
        Credential, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )

    class Meta:
        indexes = [
            models.Index(fields=["employee", "valid_from"], name="reqperiod_employee_from"),
            # Every column the day's GROUP BYs and filters read, so they are index-only scans.
            models.Index(
                fields=["valid_from", "valid_to"],
                include=[
                    "department",
                    "role",
                    "requirement",
                    "status",
                    "mandatory",
                    "employee",
                    "expires_on",
                    "renew_credential",
                ],
                name="reqperiod_range_covering",
            ),
        ]
        constraints = [models.CheckConstraint(condition=Q(valid_from__lt=F("valid_to")), name="reqperiod_not_empty")]

    def __str__(self):
        return f"{self.employee_id} / {self.requirement_id}: {self.status} [{self.valid_from}, {self.valid_to})"


class PendingRecompute(models.Model):
    """A recompute owed, written in the same transaction as the change that needs it (a transactional outbox).

    The change's commit also queues a task, but the broker may be down: then these rows stay, and the
    periodic sweep (tasks.sweep_recomputes, every minute) computes them once a worker runs again. A row
    without an employee owes a full scan (a catalogue change). Rows go when their recompute has run.
    """

    employee_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"recompute employee {self.employee_id}" if self.employee_id else "full scan"
