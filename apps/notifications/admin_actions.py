"""HR's "send reminder now", as admin actions the employee and credential admins list."""

from django.contrib import admin, messages

from . import planning, tasks


@admin.action(description="Send a reminder email now", permissions=["change"])
def send_reminder_now(modeladmin, request, queryset):
    _queue(modeladmin, request, queryset.values_list("id", flat=True))


@admin.action(description="Send their holders a reminder email now", permissions=["change"])
def send_reminder_now_for_credentials(modeladmin, request, queryset):
    _queue(modeladmin, request, queryset.values_list("employee_id", flat=True).distinct())


def _queue(modeladmin, request, employee_ids) -> None:
    report = planning.manual_reminders_queue(employee_ids=employee_ids)
    if report.queued:
        tasks.queue_delivery()
        modeladmin.message_user(request, f"Reminder queued for {len(report.queued)} person(s).", messages.SUCCESS)
    if report.already_today:
        modeladmin.message_user(
            request, f"{len(report.already_today)} person(s) were already reminded today; not sent again."
        )
    if report.nothing_due:
        modeladmin.message_user(
            request, f"{len(report.nothing_due)} person(s) have nothing that needs renewing; nothing sent."
        )
    if report.no_address:
        modeladmin.message_user(
            request,
            f"{len(report.no_address)} person(s) have no email address; see the outbox, filtered by "
            "'No email address'.",
            messages.WARNING,
        )
