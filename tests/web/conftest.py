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


@pytest.fixture
def live_hospital(transactional_db, hr_admin) -> Hospital:
    """The hospital, committed, for a live server and a browser to read."""
    return make_hospital(hr_admin)


@pytest.fixture
def open_page(browser, live_server):
    """open_page(username, viewport, axe=False) -> a page in a fresh browser context (closed after the test).

    With a username, the page opens signed in, on the page signing in leads to, by a session made on the server:
    signing in through the form is tested on its own (test_accessibility, the journey), not paid for in every test.
    Without, it opens on the sign-in page. axe=True puts axe-core into every page of the context from the start.
    """
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from tests.web.browser import AXE_SOURCE, DESKTOP

    contexts = []

    def open_as(username: str | None, viewport=DESKTOP, *, axe: bool = False):
        context = browser.new_context(viewport=viewport, base_url=live_server.url, accept_downloads=True)
        context.set_default_timeout(15_000)
        if axe:
            context.add_init_script(path=AXE_SOURCE)
        contexts.append(context)
        if username:
            session = Client()
            session.force_login(
                get_user_model().objects.get(username=username), backend="django.contrib.auth.backends.ModelBackend"
            )
            cookie = session.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
        page = context.new_page()
        page.goto(str(settings.LOGIN_REDIRECT_URL) if username else "/accounts/login/")
        return page

    yield open_as
    for context in contexts:
        context.close()
