"""The web app in a real browser: Playwright driving Debian's Chromium against the live test server.

A manager reads the dashboard, filters, drills down and exports CSV; a staff member on a phone uploads
proof of a renewed card; HR verifies it, and the staff member's status changes. Screenshots of each main
page land in test-artifacts/ (ignored by git).
"""

import datetime
import io
from pathlib import Path

import pytest
from PIL import Image

from apps.core import clock
from tests.web.browser import PHONE, fits_the_screen, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_manager_reads_filters_drills_down_and_exports(open_page, live_hospital):
    hospital = live_hospital
    page = open_page("margaret")

    page.wait_for_url("**/dashboard/")
    assert page.get_by_role("heading", level=1).inner_text() == "Your departments' compliance"
    attention = page.get_by_role("region", name="Requirements needing attention now (2)")
    assert "BLS expired on" in attention.inner_text()
    assert "Intensive Care" not in page.content()
    shoot(page, "manager-dashboard")

    page.get_by_role("combobox", name="Status").select_option("expired")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**status=expired**")
    assert page.get_by_role("combobox", name="Status").input_value() == "expired"
    assert page.locator(".stat dd").nth(1).inner_text() == "1"  # people: Edgar alone

    page.get_by_role("link", name="Edgar Evans").first.click()
    page.wait_for_url(f"**/employees/{hospital.edgar.pk}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Edgar Evans"
    assert "BLS expired on" in page.get_by_role("region", name="Requirements", exact=False).first.inner_text()
    shoot(page, "manager-employee")

    page.get_by_role("link", name="Training file for a surveyor (print or PDF)").click()
    page.wait_for_url(f"**/employees/{hospital.edgar.pk}/file/")
    assert "Training file: Edgar Evans" in page.get_by_role("heading", level=1).inner_text()
    shoot(page, "manager-training-file")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Matrix").click()
    page.wait_for_url("**/matrix/")
    shoot(page, "manager-matrix")
    page.get_by_role("link", name="met: Emergency Department, BLS", exact=False).click()
    page.wait_for_url("**/matrix/cell/**")
    assert page.get_by_role("heading", level=1).inner_text() == "BLS in Emergency Department"
    shoot(page, "manager-matrix-cell")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    page.wait_for_url("**/employees/")
    shoot(page, "manager-people")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    exported = Path(download.value.path()).read_text()
    assert "Evans" in exported and "Adams" in exported
    assert "Irwin" not in exported and "Brown" not in exported

    for name, link, path in [
        ("manager-needs-attention", "Needs attention", "/attention/"),
        ("manager-expiring", "Expiring", "/expiring/"),
        ("manager-forecast", "Forecast", "/forecast/"),
    ]:
        page.get_by_role("navigation", name="Main").get_by_role("link", name=link).click()
        page.wait_for_url(f"**{path}")  # the shot is of the page the link leads to
        shoot(page, name)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit report").click()
    page.get_by_label("Department").select_option(label="Emergency Department")
    page.get_by_label("As of").fill((clock.today() - datetime.timedelta(days=11)).isoformat())
    page.get_by_role("button", name="Show the report").click()
    assert "Certification compliance: Emergency Department" in page.get_by_role("heading", level=1).inner_text()
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    shoot(page, "manager-audit-report-print")


def png_card() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 380), "#dbeafe").save(buffer, "PNG")
    return buffer.getvalue()


def test_staff_upload_on_a_phone_and_hr_verifies(open_page, live_hospital):
    phone = open_page("alice", PHONE)
    phone.wait_for_url("**/me/")
    assert phone.locator("p:has-text('Overall:') .status").inner_text() == "Expiring soon"
    assert fits_the_screen(phone)
    shoot(phone, "staff-my-credentials-phone")

    phone.get_by_role("link", name="Upload a new or renewed card").click()
    issued = clock.today() - datetime.timedelta(days=1)
    phone.get_by_label("Certification").select_option(label="BLS (Basic Life Support)")
    phone.get_by_label("Issue date").fill(issued.isoformat())
    phone.get_by_label("Expiry date").fill((issued + datetime.timedelta(days=730)).isoformat())
    phone.get_by_label("Card number").fill("AHA-RENEWED-1")
    phone.get_by_label("Photo or scan of the card").set_input_files(
        files=[{"name": "IMG_2041.png", "mimeType": "image/png", "buffer": png_card()}]
    )
    assert fits_the_screen(phone)
    shoot(phone, "staff-upload-phone")
    phone.get_by_role("button", name="Upload").click()

    phone.wait_for_url("**/me/")
    assert "your BLS card is uploaded" in phone.get_by_role("status").inner_text()
    assert phone.get_by_text("Pending verification").first.is_visible()

    desk = open_page("hilda")
    desk.wait_for_url("**/dashboard/")
    shoot(desk, "hr-dashboard")
    desk.get_by_role("link", name="Verify proof").first.click()
    assert desk.get_by_role("heading", name="BLS for Alice Adams").is_visible()
    shoot(desk, "hr-verification-queue")
    with desk.expect_popup() as proof:
        desk.get_by_role("link", name="Open the proof for BLS, Alice Adams").click()
    proof.value.close()
    desk.get_by_role("button", name="Verify BLS for Alice Adams").click()
    assert "Verified: BLS for Alice Adams" in desk.get_by_role("status").inner_text()
    assert desk.get_by_text("Nothing to verify").is_visible()

    phone.reload()
    assert phone.locator("p:has-text('Overall:') .status").inner_text() == "Compliant"
    shoot(phone, "staff-after-verification-phone")
