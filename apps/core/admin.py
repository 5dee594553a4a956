from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records only the system writes (compliance results, the email outbox): HR looks, never edits."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
