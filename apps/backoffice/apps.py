from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """HR's admin pages that combine apps: it sits above them all, so no app has to import one above it."""

    name = "apps.backoffice"
