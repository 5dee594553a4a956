from django.contrib import admin
from django.urls import include, path

from apps.certifications.views import credential_proof
from apps.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("apps.api.urls")),
    path("proof/<int:credential_id>/", credential_proof, name="credential_proof"),
    path("", include("apps.web.urls")),
]
