from django import forms
from django.contrib import admin, messages

from .models import ApiToken
from .services import api_token_issue, api_token_revoke


class IssueTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["name", "user"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """HR issues a token per integration here (the secret is shown once) and revokes it."""

    list_display = ["name", "user", "key_hint", "created_at", "created_by", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "user__username", "key_hint"]
    list_select_related = ["user", "created_by"]
    autocomplete_fields = ["user"]
    actions = ["revoke"]
    readonly_fields = ["key_hint", "created_at", "created_by", "last_used_at", "revoked_at", "revoked_by"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = IssueTokenForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["name", "user"] if obj is None else ["name", "user", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        # An issued token is only ever revoked: renaming it or moving it to another account would rewrite history.
        return [] if obj is None else ["name", "user", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if change:
            return
        token, secret = api_token_issue(name=obj.name, user=obj.user, created_by=request.user)
        obj.__dict__.update(token.__dict__)
        messages.warning(
            request,
            f"Token for {token.name}: {secret}  Copy it now into the integration's configuration; "
            "it is stored hashed and will not be shown again.",
        )

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row records who issued it and when it was last used

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(token=token, revoked_by=request.user)
        self.message_user(request, "Revoked. Requests with those tokens now answer 401.", messages.SUCCESS)
