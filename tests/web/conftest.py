"""A small hospital for the web tests, with dates relative to today so live-server browser tests can share it.

Emergency Department (the manager Margaret's): Alice (staff login, BLS and ACLS current), Edgar (BLS expired).
Intensive Care Unit (not Margaret's): Bob (staff login, compliant), Ivy (never held BLS), and Margaret's own
employee record, which must not bring the ICU onto her dashboard.
"""

import datetime
from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile

from apps.certifications.models import CertificationType, Credential
from apps.compliance import services as compliance_services
from apps.core import clock
from apps.organisation.models import Department, Employee, Role
from tests import factories

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@dataclass
class Hospital:
    ed: Department
    icu: Department
    nurse: Role
    bls: CertificationType
    acls: CertificationType
    hr: object
    manager: object
    alice: Employee
    edgar: Employee
    bob: Employee
    ivy: Employee
    margaret: Employee
    alices_card: Credential
    bobs_card: Credential


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def make_hospital(hr_admin) -> Hospital:
    today = clock.today()
    ed = factories.DepartmentFactory(code="ed", name="Emergency Department")
    icu = factories.DepartmentFactory(code="icu", name="Intensive Care Unit")
    nurse = factories.RoleFactory(code="registered-nurse", name="Registered nurse")
    bls = factories.CertificationTypeFactory(code="BLS", name="Basic Life Support")
    acls = factories.CertificationTypeFactory(code="ACLS", name="Advanced Cardiovascular Life Support")
    factories.PrerequisiteFactory(certification_type=acls, any_of=[bls])
    factories.RequirementFactory(role=nurse, any_of=[bls])
    factories.RequirementFactory(role=nurse, department=ed, any_of=[acls])
    manager = factories.UserFactory(username="margaret", first_name="Margaret")
    ed.managers.add(manager)
    hired = today - days(3 * 365)

    def person(first, last, department, username=None):
        return factories.EmployeeFactory(
            first_name=first,
            last_name=last,
            department=department,
            role=nurse,
            hired_on=hired,
            user=factories.UserFactory(username=username) if username else None,
        )

    alice = person("Alice", "Adams", ed, "alice")
    edgar = person("Edgar", "Evans", ed)
    bob = person("Bob", "Brown", icu, "bob")
    ivy = person("Ivy", "Irwin", icu)
    margaret = factories.EmployeeFactory(
        first_name="Margaret", last_name="Moss", department=icu, role=nurse, hired_on=hired, user=manager
    )

    def card(employee, kind, issued, expires):
        return factories.CredentialFactory(
            employee=employee, certification_type=kind, issued_on=today - days(issued), expires_on=today + days(expires)
        )

    alices_card = card(alice, bls, 300, 40)  # renewal due within 60 days
    alices_card.proof.save("alice.pdf", ContentFile(PDF), save=True)
    card(alice, acls, 300, 400)
    card(edgar, bls, 800, -10)  # expired ten days ago
    card(edgar, acls, 700, 300)
    bobs_card = card(bob, bls, 100, 500)
    bobs_card.proof.save("bob.pdf", ContentFile(PDF), save=True)
    card(margaret, bls, 100, 500)
    compliance_services.scan_run()
    return Hospital(
        ed=ed,
        icu=icu,
        nurse=nurse,
        bls=bls,
        acls=acls,
        hr=hr_admin,
        manager=manager,
        alice=alice,
        edgar=edgar,
        bob=bob,
        ivy=ivy,
        margaret=margaret,
        alices_card=alices_card,
        bobs_card=bobs_card,
    )


@pytest.fixture
def hospital(db, hr_admin) -> Hospital:
    return make_hospital(hr_admin)


@pytest.fixture(scope="session")
def browser():
    """One Chromium for every browser test of the run (Debian's, never `playwright install`)."""
    import os
    from pathlib import Path

    from tests.conftest import require_service
    from tests.web.browser import ARTIFACTS, CHROMIUM

    require_service(Path(CHROMIUM).exists(), f"needs Debian's Chromium at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the test's own ORM calls are still
    # plain synchronous code, so Django's guard against ORM calls inside an event loop must stand aside.
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    ARTIFACTS.mkdir(exist_ok=True)
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


@pytest.fixture
def live_hospital(transactional_db, hr_admin) -> Hospital:
    """The hospital, committed, for a live server and a browser to read."""
    return make_hospital(hr_admin)


@pytest.fixture
def open_page(browser, live_server):
    """open_page(username, viewport) -> a signed-in page in a fresh browser context (closed after the test)."""
    from tests.web.browser import AXE_SOURCE, DESKTOP

    contexts = []

    def open_as(username: str | None, viewport=DESKTOP):
        context = browser.new_context(viewport=viewport, base_url=live_server.url, accept_downloads=True)
        context.set_default_timeout(15_000)
        context.add_init_script(path=AXE_SOURCE)
        contexts.append(context)
        page = context.new_page()
        page.goto("/accounts/login/")
        if username:
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill("password")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state()
        return page

    yield open_as
    for context in contexts:
        context.close()
