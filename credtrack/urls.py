from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from apps.certifications.views import credential_proof
from apps.core.health import HealthView
from apps.core.views import healthz

admin.site.site_header = admin.site.site_title = "credtrack administration"
admin.site.index_title = "People, catalogue, credentials and imports"

urlpatterns = [
    # Resolved per request: the hashed name exists only after collectstatic, never at import time.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("web/favicon.svg"), permanent=True)),
    path("healthz", HealthView.as_view(), name="healthz"),
    path("healthz/live", healthz, name="healthz_live"),
    path("admin/", admin.site.urls),
    path("accounts/", include("apps.accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("apps.api.urls")),
    path("proof/<int:credential_id>/", credential_proof, name="credential_proof"),
    path("", include("apps.web.urls")),
]
