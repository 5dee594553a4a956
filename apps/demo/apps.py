from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Fabricated workforces for demos, benchmarks and tests: it sits above every app it fills, so none imports it."""

    name = "apps.demo"
