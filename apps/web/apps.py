from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "apps.web"

    def ready(self):
        from . import signals  # noqa: F401
