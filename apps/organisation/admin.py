from django.contrib import admin
from django.db.models import Count
from simple_history.admin import SimpleHistoryAdmin

from apps.core.admin import ReadOnlyAdmin

from .models import DataProblem, Department, Role
from .scoping import employed_today


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "manager_names", "employee_count"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["managers"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(employee_count=Count("employees")).prefetch_related("managers")

    @admin.display(description="Managers")
    def manager_names(self, department):
        return ", ".join(manager.get_full_name() or manager.username for manager in department.managers.all())

    @admin.display(description="Employees", ordering="employee_count")
    def employee_count(self, department):
        return department.employee_count


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "employee_count"]
    search_fields = ["code", "name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(employee_count=Count("employees"))

    @admin.display(description="Employees", ordering="employee_count")
    def employee_count(self, role):
        return role.employee_count


class EmploymentFilter(admin.SimpleListFilter):
    title = "employment"
    parameter_name = "employment"

    def lookups(self, request, model_admin):
        return [("current", "Currently employed"), ("left", "Has left")]

    def queryset(self, request, queryset):
        if self.value() == "current":
            return queryset.filter(employed_today())
        if self.value() == "left":
            return queryset.exclude(employed_today())
        return queryset


class EmployeeAdmin(SimpleHistoryAdmin):
    """Registered by apps.backoffice, which adds what the apps above lend it: credentials, import, reminders."""

    list_display = [
        "employee_number",
        "last_name",
        "first_name",
        "role",
        "department",
        "email",
        "user",
        "hired_on",
        "terminated_on",
    ]
    list_display_links = ["employee_number", "last_name"]
    list_filter = [EmploymentFilter, "department", "role"]
    list_select_related = ["role", "department", "user"]
    search_fields = ["employee_number", "first_name", "last_name", "email", "user__username"]
    autocomplete_fields = ["user", "role", "department"]
    fieldsets = [
        (None, {"fields": ["employee_number", ("first_name", "last_name"), "email", "user"]}),
        ("Assignment", {"fields": ["role", "department", "hired_on", "assigned_on", "terminated_on"]}),
    ]


@admin.register(DataProblem)
class DataProblemAdmin(ReadOnlyAdmin):
    """People a batch job skipped because of their data (fix the record and the next run clears the row), and
    people whose dates the upgrade repaired (check the record, then delete the row)."""

    list_display = ["employee", "source", "reason", "first_seen", "last_seen"]
    list_filter = ["source"]
    list_select_related = ["employee"]
    search_fields = ["employee__employee_number", "employee__last_name", "employee__first_name", "reason"]

    def has_delete_permission(self, request, obj=None):
        # HR dismisses an entry once the record is checked (a repair's entry stays until then); a job's entry
        # comes back on the job's next run while the data is still wrong.
        return request.user.has_perm("organisation.delete_dataproblem")
