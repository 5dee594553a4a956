from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from apps.core import plausible
from apps.core.validators import validate_plausible_event


class Department(models.Model):
    """A unit (ED, ICU, EMS field operations, a school...) and the people who manage it."""

    code = models.SlugField(max_length=40, unique=True, help_text="Short stable code, e.g. ED, ICU, PEDS.")
    name = models.CharField(max_length=200)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="managed_departments",
        help_text="Users who see this department's dashboard and receive its digests and escalations.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Role(models.Model):
    """A job title, e.g. registered nurse or paramedic."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class EmployeeQuerySet(models.QuerySet["Employee"]):
    def employed_on(self, day: datetime.date) -> EmployeeQuerySet:
        """Employed on `day` in their current employment: hired by then, and not terminated before it (the
        termination day is their last day of employment). An earlier employment of a rehire is in the history."""
        return self.filter(hired_on__lte=day).filter(Q(terminated_on__isnull=True) | Q(terminated_on__gte=day))


class Employee(models.Model):
    employee_number = models.CharField(max_length=40, unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(blank=True, help_text="Where renewal reminders go. Leave blank if the person has none.")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="employee",
        help_text="The login this person uses for self-service, if any.",
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="employees")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="employees")
    hired_on = models.DateField(validators=[validate_plausible_event])
    assigned_on = models.DateField(
        validators=[validate_plausible_event],
        help_text="Start of the current role and department assignment (the hire date for a first assignment). "
        "New requirements are due counting from this day.",
    )
    terminated_on = models.DateField(
        null=True,
        blank=True,
        validators=[validate_plausible_event],
        help_text="Last day of employment, if they have left.",
    )

    history = HistoricalRecords()
    objects = EmployeeQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "employee_number"]
        indexes = [models.Index(fields=["department", "role"])]
        permissions = [("view_organisation", "Can see every department's staff and compliance (HR)")]
        constraints = [
            models.CheckConstraint(
                condition=Q(assigned_on__gte=F("hired_on")),
                name="employee_assigned_after_hire",
                violation_error_message="The assignment cannot start before the hire date.",
            ),
            models.CheckConstraint(
                condition=Q(terminated_on__isnull=True) | Q(terminated_on__gte=F("hired_on")),
                name="employee_terminated_after_hire",
                violation_error_message="The termination date cannot be before the hire date.",
            ),
            # Fixed bounds (see apps/core/plausible.py): a year like 0001 or 9999 never reaches the rules.
            models.CheckConstraint(
                condition=Q(hired_on__range=(plausible.DB_EARLIEST, plausible.DB_LATEST))
                & Q(assigned_on__range=(plausible.DB_EARLIEST, plausible.DB_LATEST))
                & (
                    Q(terminated_on__isnull=True) | Q(terminated_on__range=(plausible.DB_EARLIEST, plausible.DB_LATEST))
                ),
                name="employee_dates_plausible",
                violation_error_message="A date is outside the plausible range: check the year.",
            ),
        ]

    def __str__(self):
        return f"{self.full_name} ({self.employee_number})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def is_employed_on(self, day) -> bool:
        return self.hired_on <= day and (self.terminated_on is None or day <= self.terminated_on)

    def clean(self):
        # Field-level messages for the admin; the CheckConstraints above hold the same line in the database.
        errors = {}
        if self.hired_on and self.assigned_on and self.assigned_on < self.hired_on:
            errors["assigned_on"] = "The assignment cannot start before the hire date."
        if self.hired_on and self.terminated_on and self.terminated_on < self.hired_on:
            errors["terminated_on"] = "The termination date cannot be before the hire date."
        if errors:
            raise ValidationError(errors)


class DataProblem(models.Model):
    """A person a batch job (scan, planning, digest, export) had to skip, and why: HR's list to fix.

    One row per person and job; the job's next run that handles them cleanly removes it.
    """

    class Source(models.TextChoices):
        SCAN = "scan", "Compliance scan"
        PLANNING = "planning", "Reminder planning"
        DIGEST = "digest", "Manager digest"
        EXPORT = "export", "Export"
        # Dates the upgrade that added the date constraints had to change (apps/core/date_repair.py).
        REPAIR = "repair", "Date repaired at upgrade"

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="data_problems")
    source = models.CharField(max_length=20, choices=Source.choices)
    reason = models.TextField()
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_seen", "id"]
        verbose_name = "data problem"
        constraints = [models.UniqueConstraint(fields=["employee", "source"], name="data_problem_once_per_source")]

    def __str__(self):
        return f"{self.employee_id}: {self.get_source_display()}: {self.reason[:80]}"
