from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from apps.certifications.views import credential_proof
from apps.core.health import HealthView
from apps.core.views import healthz
from apps.web.views import access

admin.site.site_header = admin.site.site_title = "credtrack administration"
admin.site.index_title = "People, catalogue, credentials and imports"

urlpatterns = [
    # Resolved per request: the hashed name exists only after collectstatic, never at import time.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("web/favicon.svg"), permanent=True)),
    path("healthz", HealthView.as_view(), name="healthz"),
    path("healthz/live", healthz, name="healthz_live"),
    path("admin/", admin.site.urls),
    # Asking for a link or a password reset writes to the notifications outbox, above the accounts app.
    path("accounts/link/request/", access.sign_in_link_request, name="sign_in_link_request"),
    path("accounts/password_reset/", access.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("apps.accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("apps.api.urls")),
    path("proof/<int:credential_id>/", credential_proof, name="credential_proof"),
    path("", include("apps.web.urls")),
]
