"""The employee and credential admins, put together from the pieces each app owns.

organisation and certifications define the admins of their models; imports lends the import and export
buttons, notifications the "send reminder now" actions, certifications the credential inline, accounts the
login that follows the employee record. Registering
them here keeps every app importing only downward (docs/architecture.md).
"""

from django.contrib import admin

from apps.accounts.provisioning import account_sync
from apps.certifications import admin as certifications_admin
from apps.certifications.models import Credential
from apps.imports.admin import CredentialImportExportMixin, StaffImportExportMixin
from apps.notifications.admin_actions import send_reminder_now, send_reminder_now_for_credentials
from apps.organisation import admin as organisation_admin
from apps.organisation.models import Employee


@admin.register(Employee)
class EmployeeAdmin(StaffImportExportMixin, organisation_admin.EmployeeAdmin):
    inlines = [certifications_admin.CredentialInline, *organisation_admin.EmployeeAdmin.inlines]
    actions = [*organisation_admin.EmployeeAdmin.actions, send_reminder_now]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        account_sync(employee=obj)

    def save_formset(self, request, form, formset, change):
        if formset.model is Credential:
            certifications_admin.save_credential_formset(request, formset)
        else:
            super().save_formset(request, form, formset, change)


@admin.register(Credential)
class CredentialAdmin(CredentialImportExportMixin, certifications_admin.CredentialAdmin):
    actions = [*certifications_admin.CredentialAdmin.actions, send_reminder_now_for_credentials]  # type: ignore[list-item]
