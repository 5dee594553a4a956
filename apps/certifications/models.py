import datetime
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from apps.core import plausible
from apps.core.validators import validate_plausible_event
from apps.organisation.models import Department, Employee, Role

from .dates import default_expiry
from .validators import proof_extension


class CertificationType(models.Model):
    class Level(models.TextChoices):
        BASIC = "basic", "Basic"
        ADVANCED = "advanced", "Advanced"
        SPECIALTY = "specialty", "Specialty"

    code = models.SlugField(max_length=20, unique=True, help_text="e.g. BLS, ACLS.")
    name = models.CharField(max_length=200, unique=True)
    level = models.CharField(max_length=20, choices=Level.choices)
    expires = models.BooleanField(default=True, help_text="Untick for a certification that never expires.")
    validity_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Proposes the expiry date when a card gives none. The date printed on the card always wins.",
    )
    expires_at_month_end = models.BooleanField(
        default=True, help_text="Cards expire at the end of the month (the common convention)."
    )
    renewal_window_days = models.PositiveSmallIntegerField(
        default=90, help_text="A credential counts as 'expiring' this many days before its expiry."
    )
    renewal_guidance = models.TextField(blank=True, help_text="What to do to renew; shown in reminders.")
    renewal_url = models.URLField(blank=True, help_text="Where to book a renewal course; shown in reminders.")

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires=False) | Q(validity_months__isnull=False, validity_months__gte=1),
                name="certtype_expiring_has_validity",
                violation_error_message="A certification that expires needs a validity period in months.",
            ),
        ]

    def __str__(self):
        return f"{self.code} ({self.name})"

    def clean(self):
        if self.expires and not self.validity_months:
            raise ValidationError({"validity_months": "A certification that expires needs a validity period."})


class Prerequisite(models.Model):
    """One any-of set a certification needs: ACLS needs one of {BLS, CPR}.

    Several rows for the same type are all required (each is one any-of set).
    """

    certification_type = models.ForeignKey(CertificationType, on_delete=models.CASCADE, related_name="prerequisites")
    any_of = models.ManyToManyField(CertificationType, related_name="prerequisite_of")
    must_stay_current = models.BooleanField(
        default=True,
        help_text="The credential only counts while one of these is current "
        "(most employers require BLS to stay current while holding ACLS).",
    )
    # Audits apply the prerequisites in force on the day asked about.
    history = HistoricalRecords(m2m_fields=[any_of])

    class Meta:
        ordering = ["certification_type__code", "id"]

    def __str__(self):
        names = " or ".join(sorted(t.code for t in self.any_of.all()))
        return f"{self.certification_type.code} needs {names or '(nothing yet)'}"


class Requirement(models.Model):
    """What a role (optionally only in one department) must hold: one of an any-of set of certifications."""

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="requirements")
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="requirements",
        help_text="Leave blank to apply in every department.",
    )
    any_of = models.ManyToManyField(
        CertificationType, related_name="requirements", help_text="Holding any one of these satisfies it."
    )
    mandatory = models.BooleanField(
        default=True, help_text="Recommended requirements are reported but never make someone non-compliant."
    )
    due_within_days = models.PositiveSmallIntegerField(
        default=30, help_text="Days a newcomer or transferee has to obtain it, counted from their assignment date."
    )
    history = HistoricalRecords(m2m_fields=[any_of])

    class Meta:
        ordering = ["role__name", "department__name", "id"]

    def __str__(self):
        names = " or ".join(sorted(t.code for t in self.any_of.all()))
        where = self.department.name if self.department_id else "any department"
        kind = "" if self.mandatory else " (recommended)"
        return f"{self.role.name}, {where}: {names}{kind}"


def proof_upload_path(instance, filename):
    # A random name: the uploader's file name says nothing to anyone and cannot be guessed. The extension is
    # the one the content earned (validate_proof_file let only PDF, JPEG and PNG in), never the uploader's: a
    # polyglot named card.html is stored as .pdf and served as one.
    if instance.proof and not instance.proof._committed:  # an upload on its way in: its content decides
        suffix = proof_extension(instance.proof)
    else:  # FieldFile.save(name, content) names the file before binding it: only known safe suffixes stay
        suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        suffix = suffix if suffix in {"pdf", "jpg", "png"} else "bin"
    return f"proof/{secrets.token_urlsafe(24)}.{suffix}"


class Credential(models.Model):
    class Verification(models.TextChoices):
        PENDING = "pending", "Pending verification"
        VERIFIED = "verified", "Verified"
        REJECTED = "rejected", "Rejected"

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="credentials")
    certification_type = models.ForeignKey(CertificationType, on_delete=models.PROTECT, related_name="credentials")
    issued_on = models.DateField(validators=[validate_plausible_event])
    expires_on = models.DateField(
        null=True,
        blank=True,
        help_text="As printed on the card. Left blank, it is proposed from the certification's validity period.",
    )
    issuer = models.CharField(max_length=200, blank=True, help_text="e.g. American Heart Association, Red Cross.")
    card_number = models.CharField(max_length=100, blank=True)
    proof = models.FileField(upload_to=proof_upload_path, blank=True)
    verification = models.CharField(max_length=10, choices=Verification.choices, default=Verification.PENDING)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["employee", "certification_type", "-issued_on"]
        indexes = [
            models.Index(fields=["expires_on"]),
            models.Index(fields=["verification"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "certification_type", "issued_on"],
                name="credential_unique_per_issue_day",
                violation_error_message="This person already has this certification issued on that day.",
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=F("issued_on")),
                name="credential_expires_after_issue",
                violation_error_message="The expiry date cannot be before the issue date.",
            ),
            # Fixed bounds (see apps/core/plausible.py): a year like 0001 or 9999 never reaches the rules.
            models.CheckConstraint(
                condition=Q(issued_on__range=(plausible.DB_EARLIEST, plausible.DB_LATEST))
                & (
                    Q(expires_on__isnull=True)
                    | Q(expires_on__lte=F("issued_on") + datetime.timedelta(days=plausible.DB_MAX_VALIDITY_DAYS))
                ),
                name="credential_dates_plausible",
                violation_error_message="A date is outside the plausible range: check the year.",
            ),
            models.CheckConstraint(
                condition=~Q(verification="rejected") | ~Q(rejection_reason=""),
                name="credential_rejection_has_reason",
                violation_error_message="Give a reason when rejecting proof.",
            ),
        ]

    def __str__(self):
        return f"{self.certification_type.code} for {self.employee.full_name}, issued {self.issued_on}"

    def clean(self):
        certification_type = self.certification_type if self.certification_type_id else None
        if self.expires_on is None and self.issued_on and certification_type and certification_type.expires:
            self.expires_on = default_expiry(
                self.issued_on,
                certification_type.validity_months,
                at_month_end=certification_type.expires_at_month_end,
            )
        if self.issued_on and self.expires_on:
            problem = plausible.expiry_problem(self.expires_on, issued_on=self.issued_on)
            if problem:
                raise ValidationError({"expires_on": problem})
        if self.verification == self.Verification.REJECTED and not self.rejection_reason.strip():
            raise ValidationError({"rejection_reason": "Give a reason when rejecting proof."})
