"""The surveyor's per-person training file: as of a chosen day, every card with its proof and verification trail,
the history of changes; a print page and a PDF, for whoever may see the person, proof only for HR and the owner."""

import datetime
import io

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image

from apps.certifications.models import Credential
from apps.certifications.services import credential_verify
from apps.core import clock
from tests import factories

pytestmark = pytest.mark.django_db


def page_url(employee, day=None):
    return reverse("web:person_file", args=[employee.pk]) + (f"?as_of={day.isoformat()}" if day else "")


def pdf_url(employee, day=None):
    return reverse("web:person_file_pdf", args=[employee.pk]) + (f"?as_of={day.isoformat()}" if day else "")


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 190), "#dbeafe").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def verified_picture_card(hospital):
    """Edgar's renewed BLS, a photo of the card, verified by HR."""
    card = factories.CredentialFactory(
        employee=hospital.edgar,
        certification_type=hospital.bls,
        issued_on=clock.today() - datetime.timedelta(days=2),
        expires_on=clock.today() + datetime.timedelta(days=700),
        verification=Credential.Verification.PENDING,
        card_number="AHA-PHOTO-1",
    )
    card.proof.save("card.png", ContentFile(png()), save=True)
    credential_verify(credential=card, user=hospital.hr)
    return card


def test_the_file_answers_as_of_the_day_asked_for(client, hospital):
    client.force_login(hospital.manager)
    before_lapse = clock.today() - datetime.timedelta(days=30)

    then = client.get(page_url(hospital.edgar, before_lapse)).content.decode()
    now = client.get(page_url(hospital.edgar)).content.decode()

    assert "Training file: Edgar Evans" in then
    assert f"Requirements on {before_lapse:%b %-d, %Y}" in then
    assert "BLS expired on" not in then
    assert "BLS expired on" in now


def test_it_starts_on_today_and_refuses_a_future_day(client, hospital):
    client.force_login(hospital.manager)

    today = client.get(page_url(hospital.edgar)).content.decode()
    future = client.get(page_url(hospital.edgar, clock.today() + datetime.timedelta(days=1))).content.decode()

    assert f'value="{clock.today().isoformat()}"' in today
    assert "A training file looks back" in future


def test_every_card_shows_its_verification_trail_and_the_history(client, hospital, verified_picture_card):
    hospital.hr.first_name, hospital.hr.last_name = "Hilda", "Hart"
    hospital.hr.save()
    client.force_login(hospital.hr)

    page = client.get(page_url(hospital.edgar)).content.decode()

    assert page.count('class="file-card"') == hospital.edgar.credentials.count() == 3
    assert "Verified on" in page and "by Hilda Hart" in page
    assert "Superseded" in page  # the lapsed BLS, replaced by the verified renewal
    assert reverse("credential_proof", args=[verified_picture_card.pk]) in page
    assert "History of changes" in page and "Changed: BLS issued" in page


def test_a_manager_s_file_names_the_proof_but_never_opens_it(client, hospital, verified_picture_card):
    client.force_login(hospital.manager)

    page = client.get(page_url(hospital.edgar)).content.decode()

    assert "only HR and the employee may open it" in page
    assert reverse("credential_proof", args=[verified_picture_card.pk]) not in page


def pdf_text(body: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_the_pdf_carries_the_file_the_card_pictures_and_the_pdf_proofs(client, hospital, verified_picture_card):
    client.force_login(hospital.hr)

    response = client.get(pdf_url(hospital.alice))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert (
        f'filename="training-file-{hospital.alice.employee_number}-{clock.today():%Y-%m-%d}.pdf"'
        in (response["Content-Disposition"])
    )
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(response.content))
    assert list(reader.attachments) == [f"BLS-{hospital.alice.employee_number}-{hospital.alices_card.issued_on}.pdf"]
    text = pdf_text(response.content)
    assert "Training file: Alice Adams" in text and "Cards and their verification" in text

    with_picture = client.get(pdf_url(hospital.edgar))
    assert b"/Subtype /Image" in with_picture.content or b"/Subtype/Image" in with_picture.content


def test_a_manager_s_pdf_carries_no_proof(client, hospital):
    client.force_login(hospital.manager)

    response = client.get(pdf_url(hospital.alice))

    from pypdf import PdfReader

    assert response.status_code == 200
    assert not PdfReader(io.BytesIO(response.content)).attachments


@pytest.mark.parametrize("url", [page_url, pdf_url])
def test_no_one_outside_the_person_s_scope_gets_their_file(client, hospital, charlie, url):
    client.force_login(hospital.manager)  # Margaret manages the ED, not the ICU
    assert client.get(url(hospital.ivy)).status_code == 404
    client.force_login(hospital.alice.user)  # staff: their own file only
    assert client.get(url(hospital.edgar)).status_code == 404
    client.force_login(charlie)
    assert client.get(url(hospital.alice)).status_code == 404
    client.logout()
    assert client.get(url(hospital.alice)).status_code == 302


def test_the_employee_page_and_the_audit_report_lead_to_the_file(client, hospital):
    client.force_login(hospital.manager)
    day = clock.today() - datetime.timedelta(days=5)

    employee_page = client.get(reverse("web:employee_detail", args=[hospital.edgar.pk])).content.decode()
    report = client.get(reverse("web:audit_report"), {"department": hospital.ed.pk, "as_of": day.isoformat()})

    assert reverse("web:person_file", args=[hospital.edgar.pk]) in employee_page
    assert page_url(hospital.edgar, day) in report.content.decode()
