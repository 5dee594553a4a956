from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from . import views

app_name = "api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("departments", views.DepartmentViewSet, basename="department")
router.register("roles", views.RoleViewSet, basename="role")
router.register("employees", views.EmployeeViewSet, basename="employee")
router.register("certification-types", views.CertificationTypeViewSet, basename="certification-type")
router.register("prerequisites", views.PrerequisiteViewSet, basename="prerequisite")
router.register("requirements", views.RequirementViewSet, basename="requirement")
router.register("credentials", views.CredentialViewSet, basename="credential")
router.register("compliance/employees", views.EmployeeComplianceViewSet, basename="compliance-employee")
router.register("compliance/departments", views.DepartmentRollupViewSet, basename="compliance-department")
router.register("compliance/roles", views.RoleRollupViewSet, basename="compliance-role")
router.register("compliance/gaps", views.GapViewSet, basename="compliance-gap")
router.register("findings", views.FindingViewSet, basename="finding")
router.register("notifications/outbox", views.OutboxViewSet, basename="outbox")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # Redoc injects its styles at run time (styled-components); its script still comes only from our origin.
    path(
        "redoc/",
        csp_update({"style-src": [UNSAFE_INLINE]})(SpectacularRedocView.as_view(url_name="api:schema")),
        name="redoc",
    ),
    # Anything else under /api/ (a mistyped path, an id that is not a number) answers in the API's error shape.
    re_path(r"^.*$", views.not_found),
]
