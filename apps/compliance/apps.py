from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "apps.compliance"

    def ready(self):
        from . import signals  # noqa: F401  (connects the recompute triggers)
