import pytest
from django.core.cache import cache

from apps.accounts.provisioning import account_sync
from tests import factories


@pytest.fixture(autouse=True)
def fresh_cache():
    # Request counters for "email me a link" live in the cache.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def dora(db):
    """A nurse whose login was made by provisioning: no password, reached only by links and SSO."""
    employee = factories.EmployeeFactory(employee_number="4001", first_name="Dora", email="dora@example.org")
    account_sync(employee=employee)
    return employee


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright (never `playwright install`)."""
    import os
    from pathlib import Path

    from tests.conftest import require_service

    require_service(Path(CHROMIUM).exists(), f"needs Debian's Chromium at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls stay synchronous.
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
            )
            yield chromium
            chromium.close()
    finally:
        if saved is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved
