"""Query-string filters. Departments, roles and certifications are named by code, as everywhere in the API."""

import datetime

import django_filters as filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from apps.certifications.models import CertificationType, Credential, Requirement
from apps.compliance.engine import COMPLIANT_STATUSES, NON_COMPLIANT_STATUSES
from apps.compliance.models import EmployeeStatus, RequirementStatus
from apps.core import clock
from apps.notifications.models import Notification
from apps.organisation.models import Department, Employee, Role
from apps.organisation.scoping import employed_today

from .serializers import STATUS_CHOICES


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(filters.NumberFilter):
    field_class = forms.IntegerField


def by_code(model, field_name: str, noun: str, **kwargs):
    return filters.ModelChoiceFilter(
        field_name=field_name,
        queryset=model.objects.all(),
        to_field_name="code",
        help_text=f"{noun} code.",
        **kwargs,
    )


class EmployeeFilter(filters.FilterSet):
    department = by_code(Department, "department", "Department")
    role = by_code(Role, "role", "Role")
    employee_number = filters.CharFilter()
    employed_on = filters.DateFilter(
        method="filter_employed_on", help_text="Only those employed on this day (YYYY-MM-DD)."
    )
    left = filters.BooleanFilter(
        method="filter_left",
        help_text="true: only staff whose last day has passed (HR only: managers never see them). "
        "Without it, the list holds staff employed today.",
    )

    class Meta:
        model = Employee
        fields = ["department", "role", "employee_number", "employed_on", "left"]

    def filter_left(self, queryset, name, value: bool):
        return queryset.exclude(employed_today()) if value else queryset.filter(employed_today())

    def filter_employed_on(self, queryset, name, day: datetime.date):
        return queryset.employed_on(day)


class CredentialFilter(filters.FilterSet):
    employee = IntegerFilter(field_name="employee_id", help_text="Employee id.")
    certification = by_code(CertificationType, "certification_type", "Certification type")
    verification = filters.ChoiceFilter(choices=Credential.Verification.choices)
    expires_before = filters.DateFilter(field_name="expires_on", lookup_expr="lte", help_text="Expires on or before.")
    expires_after = filters.DateFilter(field_name="expires_on", lookup_expr="gte", help_text="Expires on or after.")

    class Meta:
        model = Credential
        fields = ["employee", "certification", "verification", "expires_before", "expires_after"]


class StatusFilterMixin(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=STATUS_CHOICES, help_text="Repeat for several statuses.")
    compliant = filters.BooleanFilter(
        method="filter_compliant", help_text="true: may work (compliant, expiring, not yet due); false: may not."
    )

    def filter_compliant(self, queryset, name, value: bool):
        # A positive IN list either way, so the (run, status) index serves it.
        wanted = COMPLIANT_STATUSES if value else NON_COMPLIANT_STATUSES
        return queryset.filter(status__in=sorted(status.value for status in wanted))


class EmployeeStatusFilter(StatusFilterMixin):
    department = by_code(Department, "employee__department", "Department")
    role = by_code(Role, "employee__role", "Role")

    class Meta:
        model = EmployeeStatus
        fields = ["status", "compliant", "department", "role"]


class FindingFilter(StatusFilterMixin):
    department = by_code(Department, "employee__department", "Department")
    role = by_code(Role, "employee__role", "Role")
    certification = filters.ModelChoiceFilter(
        field_name="requirement__any_of",
        queryset=CertificationType.objects.all(),
        to_field_name="code",
        help_text="Certification code: requirements this certification meets.",
    )
    employee = IntegerFilter(field_name="employee_id", help_text="Employee id.")
    mandatory = filters.BooleanFilter()
    expiring_within = IntegerFilter(
        method="filter_expiring_within",
        min_value=0,
        max_value=3650,
        help_text="Only requirements whose credential expires within this many days from today.",
    )

    class Meta:
        model = RequirementStatus
        fields = ["status", "compliant", "department", "role", "certification", "employee", "mandatory"]

    def filter_expiring_within(self, queryset, name, days):
        today = clock.today()
        return queryset.filter(expires_on__gte=today, expires_on__lte=today + datetime.timedelta(days=days))


class RequirementFilter(filters.FilterSet):
    role = by_code(Role, "role", "Role")
    department = by_code(Department, "department", "Department")

    class Meta:
        model = Requirement
        fields = ["role", "department", "mandatory"]


class OutboxFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=Notification.Status.choices, help_text="Repeat for several.")
    kind = filters.MultipleChoiceFilter(choices=Notification.Kind.choices, help_text="Repeat for several.")
    employee = IntegerFilter(field_name="employee_id", help_text="Employee id.")
    created_after = filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", help_text="Queued on or after this day."
    )
    created_before = filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", help_text="Queued on or before this day."
    )

    class Meta:
        model = Notification
        fields = ["status", "kind", "employee", "created_after", "created_before"]
