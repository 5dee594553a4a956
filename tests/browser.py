"""The one Chromium of the browser tests: Debian's, through Playwright (never `playwright install`).

Module scope: Playwright's sync API runs an event loop in the test thread for as long as it lives. Kept for the
whole session, it outlived the browser modules, and later tests' async_to_sync (/healthz) found a loop running.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    from tests.conftest import require_service

    require_service(Path(CHROMIUM).exists(), f"needs Debian's Chromium at {CHROMIUM} (apt-get install -y chromium)")
    # The test's own ORM calls are plain synchronous code in the thread where Playwright's loop runs: Django's
    # guard against ORM calls inside an event loop must stand aside while the browser lives.
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
