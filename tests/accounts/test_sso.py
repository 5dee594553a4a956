"""Single sign-on end to end: credtrack (live server) against a real OpenID Connect provider (django-oidc-provider)
started on loopback, driven by Chromium. Redirect, the IdP's own sign-in page, code exchange with PKCE, the signed
ID token checked against the IdP's published keys, the callback and the session: nothing mocked."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model

from apps.accounts.provisioning import account_sync
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CLIENT_ID, CLIENT_SECRET = "credtrack-test", "credtrack-test-secret-0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def idp(live_server, tmp_path_factory):
    """The organisation's IdP, knowing Dora (on the roster) and Xavier (not), with credtrack as its client."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "IDP_DATABASE": str(tmp_path_factory.mktemp("idp") / "idp.sqlite3"),
        "IDP_SITE_URL": url,
        "PEOPLE": "dora.idp:dora@example.org;xavier:xavier@example.org",
        "PYTHONPATH": str(django_settings.BASE_DIR),
    }
    log = tempfile.NamedTemporaryFile("w+", prefix="idp-", suffix=".log", delete=False)  # noqa: SIM115
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.idp.serve",
            str(port),
            f"{live_server.url}/accounts/sso/callback/",
            CLIENT_ID,
            CLIENT_SECRET,
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=django_settings.BASE_DIR,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{url}/openid/.well-known/openid-configuration", timeout=1)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the test IdP did not start; its log: {log.name}") from None
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def sso(settings, idp):
    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_DISCOVERY_URL = f"{idp}/openid/.well-known/openid-configuration"
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.OIDC_RP_SCOPES = "openid email profile"
    settings.OIDC_MATCH_CLAIM = "email"
    settings.OIDC_MATCH_FIELD = "email"
    settings.OIDC_GROUPS_CLAIM = "groups"
    settings.OIDC_HR_GROUP = ""
    settings.OIDC_CREATE_USER = False
    settings.OIDC_USE_PKCE = True
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "apps.accounts.oidc.RosterOIDCBackend"]
    return idp


def sign_in_with_the_idp(browser, live_server, username):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Sign in with your organisation account").click()
    page.wait_for_url("**/login/**")
    assert "Organisation sign-in" in page.content()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("idp-password")
    page.get_by_role("button", name="Sign in to the organisation").click()
    return context, page


def test_a_person_on_the_roster_signs_in_through_the_identity_provider(browser, live_server, sso):
    dora = factories.EmployeeFactory(employee_number="4001", first_name="Dora", email="dora@example.org")
    account_sync(employee=dora)

    context, page = sign_in_with_the_idp(browser, live_server, "dora.idp")

    page.wait_for_url(f"{live_server.url}/me/")
    assert "Signed in as 4001" in page.content()
    cookies = {c["name"] for c in context.cookies(live_server.url)}
    assert "sessionid" in cookies
    context.close()


def test_someone_not_on_the_roster_gets_a_clear_page_and_no_login(browser, live_server, sso):
    users_before = get_user_model().objects.count()

    context, page = sign_in_with_the_idp(browser, live_server, "xavier")

    page.wait_for_url(f"{live_server.url}/accounts/sso/not-on-roster/")
    assert "Your organisation account is not on the staff roster" in page.content()
    assert "Contact HR" in page.content()
    assert get_user_model().objects.count() == users_before
    context.close()
