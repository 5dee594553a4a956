"""Staff upload proof of a card: PDF, JPEG or PNG by content, size-limited, stored under a random name, pending."""

import datetime
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from apps.certifications import validators
from apps.certifications.models import Credential
from apps.core import clock
from tests.web.conftest import PDF

pytestmark = pytest.mark.django_db

URL = reverse("web:upload_proof")


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 25), "white").save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 25), "white").save(buffer, "JPEG")
    return buffer.getvalue()


def stored_files() -> set[Path]:
    root = Path(settings.PRIVATE_MEDIA_ROOT)
    return {path for path in root.rglob("*") if path.is_file()}


@pytest.fixture
def as_alice(client, hospital):
    client.force_login(hospital.alice.user)
    return client


@pytest.fixture
def form(hospital):
    issued = clock.today() - datetime.timedelta(days=2)

    def build(upload=None, **overrides):
        data = {
            "certification_type": hospital.bls.pk,
            "issued_on": issued.isoformat(),
            "expires_on": issued.replace(year=issued.year + 2).isoformat(),
            "card_number": "AHA-123",
            "issuer": "American Heart Association",
            "proof": upload or SimpleUploadedFile("card.pdf", PDF, "application/pdf"),
        }
        data.update(overrides)
        return {key: value for key, value in data.items() if value is not None}

    return build


def test_it_stores_a_pdf_as_a_pending_credential(as_alice, hospital, form):
    before = stored_files()

    response = as_alice.post(URL, form())

    assert response.status_code == 302
    assert response["Location"] == reverse("web:me")
    credential = Credential.objects.get(employee=hospital.alice, card_number="AHA-123")
    assert credential.verification == Credential.Verification.PENDING
    assert credential.history.first().history_user == hospital.alice.user
    (new_file,) = stored_files() - before
    assert new_file.read_bytes() == PDF
    assert new_file.suffix == ".pdf"
    assert "card" not in new_file.name  # a random name, not the uploader's
    assert Path(settings.PRIVATE_MEDIA_ROOT) in new_file.parents
    assert not str(new_file).startswith(str(settings.STATIC_ROOT))


def test_it_thanks_the_employee_and_shows_the_card_as_pending(as_alice, form):
    response = as_alice.post(URL, form(), follow=True)

    html = response.content.decode()
    assert "your BLS card is uploaded" in html
    assert "Pending verification" in html


@pytest.mark.parametrize(
    ("name", "content", "extension"),
    [("card.png", png_bytes(), ".png"), ("IMG_0042.JPG", jpeg_bytes(), ".jpg"), ("photo.pdf", png_bytes(), ".png")],
)
def test_it_accepts_pictures_and_names_them_by_their_content(as_alice, hospital, form, name, content, extension):
    before = stored_files()

    response = as_alice.post(URL, form(SimpleUploadedFile(name, content)))

    assert response.status_code == 302
    (new_file,) = stored_files() - before
    assert new_file.suffix == extension


@pytest.mark.parametrize(
    ("case", "upload"),
    [
        ("an executable renamed .pdf", SimpleUploadedFile("card.pdf", b"MZ\x90\x00\x03" + b"\x00" * 400)),
        ("an HTML page renamed .png", SimpleUploadedFile("card.png", b"<html><script>alert(1)</script></html>")),
        ("a GIF", SimpleUploadedFile("card.gif", b"GIF89a" + b"\x00" * 300)),
        ("a Word document", SimpleUploadedFile("card.docx", b"PK\x03\x04" + b"\x00" * 300)),
        ("plain text", SimpleUploadedFile("card.txt", b"BLS card, trust me")),
        ("a truncated PNG", SimpleUploadedFile("card.png", png_bytes()[:60])),
    ],
)
def test_it_refuses_anything_but_a_real_pdf_jpeg_or_png(as_alice, form, case, upload):
    before = stored_files()

    response = as_alice.post(URL, form(upload))

    assert response.status_code == 200, case
    assert response.context["form"].errors["proof"], case
    assert not Credential.objects.filter(card_number="AHA-123").exists()
    assert stored_files() == before


def test_it_refuses_a_file_that_is_too_big(as_alice, form, monkeypatch):
    monkeypatch.setattr(validators, "PROOF_MAX_BYTES", 1000)
    before = stored_files()

    response = as_alice.post(URL, form(SimpleUploadedFile("card.pdf", PDF + b"\x00" * 2000)))

    assert "proof may be at most" in response.context["form"].errors["proof"][0]
    assert not Credential.objects.filter(card_number="AHA-123").exists()
    assert stored_files() == before


@pytest.mark.parametrize("missing", ["certification_type", "issued_on", "proof"])
def test_it_asks_for_what_is_missing(as_alice, form, missing):
    data = form()
    del data[missing]

    response = as_alice.post(URL, data)

    assert response.context["form"].errors[missing] == ["This field is required."]
    assert not Credential.objects.filter(card_number="AHA-123").exists()


def test_it_ties_each_error_to_its_field_for_screen_readers(as_alice, form):
    response = as_alice.post(URL, form(issued_on=""))

    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_issued_on_helptext id_issued_on_error"' in html
    assert 'id="id_issued_on_error"' in html
    assert "The card was not uploaded" in html


def test_it_refuses_dates_that_cannot_be_on_a_card(as_alice, form):
    tomorrow = clock.today() + datetime.timedelta(days=1)
    response = as_alice.post(URL, form(issued_on=tomorrow.isoformat()))
    assert "in the future" in response.context["form"].errors["issued_on"][0]

    response = as_alice.post(URL, form(expires_on=(clock.today() - datetime.timedelta(days=30)).isoformat()))
    assert "before the issue date" in response.context["form"].errors["expires_on"][0]
    assert not Credential.objects.filter(card_number="AHA-123").exists()


def test_it_reports_a_card_already_on_record_without_storing_a_file(as_alice, hospital, form):
    on_record = hospital.alices_card
    before = stored_files()

    response = as_alice.post(URL, form(issued_on=on_record.issued_on.isoformat()))

    assert response.status_code == 200
    assert "already has this certification issued on that day" in response.content.decode()
    assert stored_files() == before


def test_it_proposes_the_expiry_when_the_card_shows_none(as_alice, hospital, form):
    issued = datetime.date(clock.today().year - 1, 3, 5)

    as_alice.post(URL, form(issued_on=issued.isoformat(), expires_on=None))

    credential = Credential.objects.get(card_number="AHA-123")
    assert credential.expires_on == datetime.date(issued.year + 2, 3, 31)
