"""axe-core (through axe-playwright-python) on every page, for every role: no serious or critical violation.

One browser for the whole module and a few test functions, each walking one role's pages (the admin's every
change list, add form and change form included), so the whole sweep stays well under two minutes.
Keyboard-only paths through sign-in and upload, and the phone viewport for /me/ and the upload form, are here too.
"""

import datetime
import functools

import pytest
from django.contrib import admin
from django.urls import reverse

from apps.core import clock
from tests import factories
from tests.web.browser import PHONE, axe_findings, fits_the_screen, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_page(open_page):
    """axe-core in every page from the start: evaluated by Chromium as the page loads, not sent over per call."""
    return functools.partial(open_page, axe=True)


def sweep(page, paths: list[str], *, shots: dict[str, str] | None = None) -> list[str]:
    """Open each path and run axe on it; every page must answer 200 (or the status given after a '|')."""
    findings = []
    for entry in paths:
        path, _, status = entry.partition("|")
        response = page.goto(path)
        assert response.status == int(status or 200), f"{path} answered {response.status}"
        findings += axe_findings(page)
        if shots and path in shots:
            shoot(page, shots[path])
    return findings


def oversight_pages(hospital) -> list[str]:
    past = (clock.today() - datetime.timedelta(days=30)).isoformat()
    return [
        reverse("web:dashboard"),
        reverse("web:dashboard") + f"?as_of={past}",
        reverse("web:dashboard") + "?status=bogus",  # a form with an error
        reverse("web:employee_list"),
        reverse("web:employee_list") + "?q=nobody",
        reverse("web:employee_detail", args=[hospital.alice.pk]),
        reverse("web:employee_detail", args=[hospital.edgar.pk]),
        reverse("web:person_file", args=[hospital.edgar.pk]),
        reverse("web:person_file", args=[hospital.alice.pk]) + f"?as_of={past}",
        reverse("web:matrix"),
        reverse("web:matrix_cell") + f"?department={hospital.ed.pk}&certification={hospital.bls.pk}",
        reverse("web:attention"),
        reverse("web:renewals"),
        reverse("web:forecast"),
        reverse("web:audit_report"),
        reverse("web:audit_report") + f"?department={hospital.ed.pk}&as_of={past}",
        reverse("web:audit_report") + "?department=&as_of=",  # the form's errors
        reverse("password_change"),
        "/no-such-page/|404",
    ]


def test_a_manager_s_pages_have_no_serious_violations(open_page, live_hospital):
    page = open_page("margaret")

    findings = sweep(page, [*oversight_pages(live_hospital), reverse("web:me"), reverse("web:upload_proof")])

    assert findings == []


def test_hr_s_pages_and_the_whole_admin_have_no_serious_violations(open_page, live_hospital):
    page = open_page("hilda")
    pending = factories.CredentialFactory(
        employee=live_hospital.bob, certification_type=live_hospital.acls, verification="pending"
    )

    findings = sweep(
        page,
        [
            reverse("web:verification_queue"),
            reverse("web:me") + "|404",  # HR has no staff record
            *admin_pages(),
            reverse("admin:certifications_credential_change", args=[pending.pk]),
        ],
        shots={reverse("admin:index"): "hr-admin-index", reverse("web:dashboard"): "hr-dashboard"},
    )
    assert findings == []


def admin_pages() -> list[str]:
    """The admin's index, each app's index, and every registered model's list, add form and first change form."""
    pages = [reverse("admin:index")]
    apps = set()
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        apps.add(meta.app_label)
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        if model_admin.has_add_permission(_superuser_request()):
            pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk]))
    pages += [reverse("admin:app_list", args=[label]) for label in sorted(apps)]
    return pages


def _superuser_request():
    from django.contrib.auth.models import User
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = User(is_staff=True, is_superuser=True, is_active=True)
    return request


def test_staff_pages_signed_out_pages_and_the_no_role_page_have_no_serious_violations(open_page, live_hospital):
    factories.UserFactory(username="charlie")
    staff = open_page("alice")
    findings = sweep(
        staff,
        [
            reverse("web:me"),
            reverse("web:upload_proof"),
            reverse("web:person_file", args=[live_hospital.alice.pk]),
            reverse("password_change"),
            reverse("password_change_done"),
        ],
    )
    # A page with messages and a form with errors.
    staff.goto(reverse("web:upload_proof"))
    with staff.expect_navigation():  # axe must see the page the click leads to, not the one before
        staff.get_by_role("button", name="Upload").click()
    findings += axe_findings(staff)
    staff.goto(reverse("web:me"))
    with staff.expect_navigation():
        staff.get_by_role("button", name="Make my calendar link").click()
    findings += axe_findings(staff)

    nobody = open_page(None)
    findings += sweep(
        nobody,
        [
            reverse("login"),
            reverse("password_reset"),
            reverse("password_reset_done"),
            reverse("password_reset_confirm", args=["MQ", "not-a-token"]),  # the "link no longer works" page
            reverse("password_reset_complete"),
            reverse("sign_in_link_request"),
            reverse("sign_in_link_sent"),
            reverse("not_on_roster") + "|403",  # said with a 403: the sign-in was refused
            "/no-such-page/|404",
        ],
    )
    nobody.goto(reverse("login"))
    nobody.get_by_label("Username").fill("alice")
    nobody.get_by_label("Password").fill("wrong")
    with nobody.expect_navigation():
        nobody.get_by_role("button", name="Sign in").click()
    findings += axe_findings(nobody)

    findings += sweep(open_page("charlie"), [reverse("web:home")])

    assert findings == []


def test_sign_in_and_upload_by_keyboard_alone_on_a_phone(open_page, live_hospital):
    page = open_page(None, PHONE)
    keys = page.keyboard
    # The sign-in form puts the cursor in Username; from there on, keys only.
    assert page.evaluate("document.activeElement.name") == "username"
    keys.type("alice")
    keys.press("Tab")
    keys.type("password")
    keys.press("Enter")
    page.wait_for_url("**/me/")
    assert fits_the_screen(page)
    shoot(page, "staff-my-credentials-phone")

    page.focus("a.skip-link")
    keys.press("Enter")  # into the main content
    until_focused(page, "Upload a new or renewed card")
    keys.press("Enter")
    page.wait_for_url("**/me/credentials/upload/")
    assert fits_the_screen(page)

    issued = clock.today() - datetime.timedelta(days=3)
    until_focused(page, "Choose the certification on the card")
    keys.press("ArrowDown")  # native select: the first certification
    tab_to(page, "issued_on")
    keys.type(f"{issued:%m%d%Y}")  # Chromium's date field takes the digits in its own order
    tab_to(page, "card_number")
    keys.type("KEYBOARD-1")
    tab_to(page, "proof")
    # Space opens the operating system's file dialog, which is not the page's to test (and headless
    # Chromium under load does not always raise it): hand the file to the focused field, as the dialog would.
    page.locator("input[name=proof]:focus").set_input_files(
        files=[{"name": "card.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    shoot(page, "staff-upload-phone")
    keys.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Upload"
    keys.press("Enter")

    page.wait_for_url("**/me/")
    assert "card is uploaded" in page.get_by_role("status").inner_text()
    assert page.locator("td:has-text('KEYBOARD-1')").count() == 1
    assert fits_the_screen(page)


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def tab_to(page, name: str, limit: int = 20) -> None:
    """Tab forward until the form field with this name has focus (a date field takes a Tab per part)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == name:
            return
    raise AssertionError(f"the {name} field never took the focus")


def until_focused(page, text: str, limit: int = 40) -> None:
    """Tab forward until the element with this text (or selected option) has focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "(() => { const e = document.activeElement;"
            " return e.tagName === 'SELECT' ? e.options[e.selectedIndex].text : e.textContent.trim(); })()"
        )
        if focused == text:
            return
    raise AssertionError(f"{text!r} never took the focus")
