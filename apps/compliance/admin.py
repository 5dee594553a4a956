"""Read-only views of stored compliance results. They are written only by compliance runs, never by hand."""

from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin

from .models import ComplianceRun, CredentialFinding, EmployeeStatus, RequirementStatus, Snapshot

RECENT_RUNS_IN_FILTER = 10


class RunFilter(admin.SimpleListFilter):
    """Results of one of the latest complete runs; listing every run ever made would swamp the sidebar."""

    title = "run"
    parameter_name = "run"

    def lookups(self, request, model_admin):
        runs = ComplianceRun.objects.filter(state=ComplianceRun.State.COMPLETE).order_by("-finished_at", "-id")
        return [(run.pk, f"#{run.pk} as of {run.as_of}") for run in runs[:RECENT_RUNS_IN_FILTER]]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(run_id=self.value())
        return queryset


@admin.register(ComplianceRun)
class ComplianceRunAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "as_of",
        "state",
        "started_at",
        "finished_at",
        "employee_count",
        "result_count",
        "chunk_count",
    ]
    list_filter = ["state"]
    date_hierarchy = "started_at"


@admin.register(EmployeeStatus)
class EmployeeStatusAdmin(ReadOnlyAdmin):
    list_display = ["employee", "status", "next_expiry", "run", "computed_at"]
    list_filter = [RunFilter, "status", "employee__department", "employee__role"]
    list_select_related = ["employee", "run"]
    search_fields = ["employee__first_name", "employee__last_name", "employee__employee_number", "employee__email"]
    # One row per employee per run: an exact count of a long history is slow and tells HR nothing.
    show_full_result_count = False


@admin.register(RequirementStatus)
class RequirementStatusAdmin(ReadOnlyAdmin):
    list_display = ["employee", "requirement", "status", "mandatory", "credential", "expires_on", "due_on", "since"]
    list_filter = [RunFilter, "status", "mandatory", "employee__department", "requirement__role"]
    search_fields = ["employee__first_name", "employee__last_name", "employee__employee_number", "employee__email"]
    show_full_result_count = False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "employee",
                "requirement__role",
                "requirement__department",
                "credential__employee",
                "credential__certification_type",
            )
            .prefetch_related("requirement__any_of")
        )


@admin.register(CredentialFinding)
class CredentialFindingAdmin(ReadOnlyAdmin):
    list_display = ["employee", "credential", "kind", "message", "run"]
    list_filter = [RunFilter, "kind"]
    list_select_related = ["employee", "run", "credential__employee", "credential__certification_type"]
    search_fields = ["employee__first_name", "employee__last_name", "employee__employee_number", "message"]


@admin.register(Snapshot)
class SnapshotAdmin(ReadOnlyAdmin):
    list_display = ["day", "dimension", "key", "total", "compliant", "rate_percent"]
    list_filter = ["dimension"]
    date_hierarchy = "day"

    @admin.display(description="Rate")
    def rate_percent(self, snapshot):
        return None if snapshot.rate is None else f"{snapshot.rate:.0%}"
