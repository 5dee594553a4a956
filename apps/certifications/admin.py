import datetime
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AdminFileWidget
from django.core.exceptions import ValidationError
from django.db import models
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from apps.core import clock

from .models import CertificationType, Credential, Prerequisite, Requirement
from .services import credential_create, credential_reject, credential_verify

Verification = Credential.Verification


@dataclass(frozen=True)
class StoredProof:
    url: str

    def __str__(self):
        return "View proof"


class ProofFileWidget(AdminFileWidget):
    """Links the stored proof through the permission-checked view: proof never has a public media URL."""

    def is_initial(self, value):
        return bool(value and getattr(value, "instance", None) is not None and value.instance.pk)

    def format_value(self, value):
        if self.is_initial(value):
            return StoredProof(url=proof_url(value.instance))
        return None


def proof_url(credential: Credential) -> str:
    return reverse("credential_proof", args=[credential.pk])


def credential_from_admin_form(request, credential: Credential) -> Credential:
    """Create the credential HR entered, through the service; HR entering a card vouches for it by default."""
    return credential_create(
        employee=credential.employee,
        certification_type=credential.certification_type,
        issued_on=credential.issued_on,
        expires_on=credential.expires_on,
        issuer=credential.issuer,
        card_number=credential.card_number,
        proof=credential.proof or None,
        verification=credential.verification,
        acting_user=request.user,
        notes=credential.notes,
    )


def adopt(unsaved: Credential, saved: Credential) -> None:
    # The admin goes on to log, message and redirect with the form's instance: make it the saved row.
    unsaved.__dict__.update(saved.__dict__)


class CredentialInline(admin.TabularInline):
    """The employee's credentials. Rows added here are entered by HR and so count as verified by them."""

    model = Credential
    fields = ["certification_type", "issued_on", "expires_on", "issuer", "card_number", "proof", "status"]
    readonly_fields = ["status"]
    autocomplete_fields = ["certification_type"]
    formfield_overrides = {models.FileField: {"widget": ProofFileWidget}}
    show_change_link = True
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("certification_type", "employee")

    @admin.display(description="Verification")
    def status(self, credential):
        return credential.get_verification_display() if credential.pk else "Verified on save"


def save_credential_formset(request, formset) -> None:
    """Save a credential inline formset, creating new rows through the service as HR-verified."""
    credentials = formset.save(commit=False)
    for credential in formset.deleted_objects:
        credential.delete()
    for credential in credentials:
        if credential.pk is None:
            credential.verification = Verification.VERIFIED
            adopt(credential, credential_from_admin_form(request, credential))
        else:
            credential.save()


class PrerequisiteInline(admin.TabularInline):
    model = Prerequisite
    fk_name = "certification_type"
    fields = ["any_of", "must_stay_current"]
    autocomplete_fields = ["any_of"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("any_of")


@admin.register(CertificationType)
class CertificationTypeAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "level",
        "expires",
        "validity_months",
        "expires_at_month_end",
        "renewal_window_days",
    ]
    list_filter = ["level", "expires"]
    search_fields = ["code", "name"]
    inlines = [PrerequisiteInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


def any_of_codes(rule) -> str:
    return " or ".join(sorted(certification_type.code for certification_type in rule.any_of.all()))


@admin.register(Prerequisite)
class PrerequisiteAdmin(admin.ModelAdmin):
    list_display = ["certification_type", "needs", "must_stay_current"]
    list_filter = ["must_stay_current", "certification_type"]
    search_fields = ["certification_type__code", "certification_type__name", "any_of__code"]
    autocomplete_fields = ["certification_type", "any_of"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("certification_type").prefetch_related("any_of")

    @admin.display(description="Needs one of")
    def needs(self, prerequisite):
        return any_of_codes(prerequisite)


@admin.register(Requirement)
class RequirementAdmin(SimpleHistoryAdmin):
    list_display = ["role", "where", "satisfied_by", "mandatory", "due_within_days"]
    list_filter = ["mandatory", "role", "department", "any_of"]
    search_fields = ["role__name", "role__code", "department__name", "department__code", "any_of__code"]
    autocomplete_fields = ["role", "department", "any_of"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("role", "department").prefetch_related("any_of")

    @admin.display(description="Department", ordering="department__name")
    def where(self, requirement):
        return requirement.department.name if requirement.department_id else "Any department"

    @admin.display(description="Satisfied by one of")
    def satisfied_by(self, requirement):
        return any_of_codes(requirement)


class ExpiryFilter(admin.SimpleListFilter):
    title = "expiry"
    parameter_name = "expiry"
    windows = {"30": 30, "60": 60, "90": 90}

    def lookups(self, request, model_admin):
        return [(key, f"Expires within {days} days") for key, days in self.windows.items()] + [("expired", "Expired")]

    def queryset(self, request, queryset):
        today = clock.today()
        if self.value() == "expired":
            return queryset.filter(expires_on__lt=today)
        if self.value() in self.windows:
            horizon = today + datetime.timedelta(days=self.windows[self.value()])
            return queryset.filter(expires_on__gte=today, expires_on__lte=horizon)
        return queryset


class RejectionForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="The employee sees this. Say what is wrong and what to upload instead.",
    )


class CredentialAdmin(SimpleHistoryAdmin):
    """Registered by apps.backoffice, which adds the import and the reminder action."""

    list_display = [
        "employee",
        "certification_type",
        "issued_on",
        "expires_on",
        "verification",
        "decided_by",
        "decided_at",
        "proof_link",
    ]
    list_filter = [
        "verification",
        ExpiryFilter,
        "certification_type",
        "employee__department",
        "employee__role",
    ]
    list_select_related = ["employee", "certification_type", "verified_by"]
    search_fields = [
        "employee__first_name",
        "employee__last_name",
        "employee__employee_number",
        "employee__email",
        "card_number",
        "certification_type__code",
    ]
    autocomplete_fields = ["employee", "certification_type"]
    formfield_overrides = {models.FileField: {"widget": ProofFileWidget}}
    actions = ["verify_selected", "reject_selected"]
    fieldsets = [
        (None, {"fields": ["employee", "certification_type", "issued_on", "expires_on"]}),
        ("Card", {"fields": ["issuer", "card_number", "proof", "notes"]}),
        ("Verification", {"fields": ["verification", "verified_by", "verified_at", "rejection_reason"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["verified_by", "verified_at", "rejection_reason"]
        # Verification only changes through the actions, which record who and when. A card belongs to one
        # person for good: one entered against the wrong person is deleted and entered again.
        return ["employee", "verification", "verified_by", "verified_at", "rejection_reason", "created_at"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.fieldsets
        return [*self.fieldsets, ("Record", {"fields": ["created_at"]})]

    def get_changeform_initial_data(self, request):
        return {"verification": Verification.VERIFIED, **super().get_changeform_initial_data(request)}

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "verification":
            # Rejecting needs a reason and a credential to reject: that is the "Reject selected proof" action.
            kwargs["choices"] = [(Verification.VERIFIED, "Verified"), (Verification.PENDING, "Pending verification")]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    # verified_by/verified_at record whoever took the last decision, verify or reject.
    @admin.display(description="Decided by", ordering="verified_by__username")
    def decided_by(self, credential):
        return credential.verified_by

    @admin.display(description="Decided at", ordering="verified_at")
    def decided_at(self, credential):
        return credential.verified_at

    @admin.display(description="Proof")
    def proof_link(self, credential):
        if not credential.proof:
            return None
        return format_html('<a href="{}">View proof</a>', proof_url(credential))

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        else:
            adopt(obj, credential_from_admin_form(request, obj))

    @admin.action(description="Verify selected proof", permissions=["change"])
    def verify_selected(self, request, queryset):
        self.decide(
            request, queryset, Verification.VERIFIED, lambda c: credential_verify(credential=c, user=request.user)
        )

    @admin.action(description="Reject selected proof", permissions=["change"])
    def reject_selected(self, request, queryset):
        form = RejectionForm(request.POST if "confirm" in request.POST else None)
        if not form.is_valid():
            return self.rejection_page(request, queryset, form)
        reason = form.cleaned_data["reason"]
        self.decide(
            request,
            queryset,
            Verification.REJECTED,
            lambda c: credential_reject(credential=c, user=request.user, reason=reason),
        )
        return None

    def decide(self, request, queryset, outcome, decide_one):
        """Apply a decision to each selected credential and tell HR what happened to every one of them."""
        already = queryset.filter(verification=outcome).count()
        done = 0
        for credential in queryset.exclude(verification=outcome):
            try:
                decide_one(credential)
            except ValidationError as error:
                for message in error.messages:
                    self.message_user(request, message, messages.WARNING)
            else:
                done += 1
        label = Verification(outcome).label.lower()
        if done:
            self.message_user(request, f"{done} credential(s) marked {label}.", messages.SUCCESS)
        if already:
            self.message_user(request, f"{already} credential(s) were already {label}; left as they were.")

    def rejection_page(self, request, queryset, form):
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject proof",
            "opts": self.model._meta,
            "credentials": queryset.select_related("employee", "certification_type"),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/certifications/credential/reject_selected.html", context)
