from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.contrib import admin, messages
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.decorators import method_decorator
from django.views.decorators.clickjacking import xframe_options_sameorigin

from apps.core.admin import ReadOnlyAdmin
from apps.organisation.scoping import is_hr_admin

from . import content, delivery, emails, rules, tasks
from .models import Notification, NotificationPreference, ReminderPolicy

# An email's HTML part in the admin's preview frame: its own inline styles and data: images, no script, and
# framed only by the preview page.
EMAIL_POLICY = {
    "default-src": [NONE],
    "script-src": [NONE],
    "style-src": [UNSAFE_INLINE],
    "style-src-attr": [UNSAFE_INLINE],
    "img-src": ["data:"],
    "frame-ancestors": [SELF],
    "form-action": [NONE],
}


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The outbox: read-only, so what was sent stays as it was. HR acts on it through the actions."""

    list_display = ["created_at", "kind", "recipient", "about", "about_date", "days_before", "status", "attempts"]
    list_filter = ["kind", "status", ("created_at", admin.DateFieldListFilter), ("sent_at", admin.DateFieldListFilter)]
    list_select_related = ["employee", "user"]
    search_fields = ["recipient", "subject", "employee__employee_number", "employee__last_name", "user__username"]
    date_hierarchy = "created_at"
    actions = ["resend"]
    change_list_template = "admin/notifications/notification/change_list.html"
    fields = readonly_fields = (
        "kind",
        "status",
        "recipient",
        "subject",
        "employee",
        "user",
        "credential",
        "requirement",
        "about_date",
        "days_before",
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
    )

    def has_module_permission(self, request):
        return is_hr_admin(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_hr_admin(request.user) or super().has_view_permission(request, obj)

    def has_resend_permission(self, request):
        return is_hr_admin(request.user)

    @admin.display(description="About")
    def about(self, notification):
        if notification.user_id:
            return notification.user.get_full_name() or notification.user.get_username()
        if notification.employee_id:
            return notification.employee.full_name
        return "Asked for at the sign-in page" if notification.kind in rules.ASKED_KINDS else "HR"

    @admin.action(description="Send the selected failed emails again", permissions=["resend"])
    def resend(self, request, queryset):
        selected = queryset.count()
        queued = delivery.notifications_resend(notification_ids=queryset.values_list("id", flat=True))
        if queued:
            tasks.queue_delivery()
            self.message_user(request, f"{queued} email(s) queued to be sent again.", messages.SUCCESS)
        if selected - queued:
            self.message_user(request, f"{selected - queued} selected email(s) had not failed; left as they were.")

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview_view)
        html = self.admin_site.admin_view(self.preview_html_view)
        return [
            path("preview/", preview, name="notifications_notification_preview"),
            path("preview/<int:index>/html/", html, name="notifications_notification_preview_html"),
            *super().get_urls(),
        ]

    def preview_view(self, request):
        if not is_hr_admin(request.user):
            raise Http404("No such page")
        previews = []
        for name, variant, ctx in content.samples():
            rendered = emails.render(name, ctx)
            previews.append({"name": name, "variant": variant, "email": rendered})
        context = {
            **self.admin_site.each_context(request),
            "title": "Email previews (sample data)",
            "opts": self.model._meta,
            "previews": previews,
        }
        return TemplateResponse(request, "admin/notifications/notification/preview.html", context)

    @method_decorator(xframe_options_sameorigin)
    @method_decorator(csp_replace(EMAIL_POLICY))
    def preview_html_view(self, request, index: int):
        """One sample's HTML part, framed by the preview page: emails style themselves inline (mail clients
        ignore style sheets), so this response alone allows inline styles, and nothing else (no script)."""
        if not is_hr_admin(request.user):
            raise Http404("No such page")
        samples = content.samples()
        if index >= len(samples):
            raise Http404("No such email")
        name, _variant, ctx = samples[index]
        return HttpResponse(emails.render(name, ctx).html)


@admin.register(ReminderPolicy)
class ReminderPolicyAdmin(admin.ModelAdmin):
    list_display = ["certification_type", "reminder_days", "repeat_while_lapsed"]
    autocomplete_fields = ["certification_type"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "skip_empty_digest"]
    list_filter = ["skip_empty_digest"]
    autocomplete_fields = ["user"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
