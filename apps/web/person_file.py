"""The surveyor's per-person training file: what one person was required to hold on a day, every card with its
proof and verification trail, and the history of changes; as a print-ready page and as a PDF (WeasyPrint).

The PDF is the page's own content, drawn by WeasyPrint from the same template with the site's stylesheet.
Proof the reader may see is carried inside it: pictures of cards on the page, PDF proofs as attached files.
"""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass

import filetype
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from apps.certifications.models import Credential
from apps.organisation.models import Employee

from .cards import CardRow, card_rows
from .selectors import person as selectors

IMAGE_TYPES = {"image/jpeg", "image/png"}


@dataclass(frozen=True)
class PersonFile:
    employee: Employee
    day: datetime.date
    compliance: selectors.PersonCompliance | None
    cards: list[CardRow]
    history: list[selectors.Change]
    with_proof: bool


def person_file(employee: Employee, day: datetime.date, *, with_proof: bool) -> PersonFile:
    return PersonFile(
        employee=employee,
        day=day,
        compliance=selectors.person_compliance(employee, day),
        cards=card_rows(selectors.person_credentials(employee), day),
        history=selectors.person_history(employee, limit=None),
        with_proof=with_proof,
    )


@dataclass(frozen=True)
class Proof:
    kind: str  # the MIME type found in the content, whatever the file is called
    content: bytes

    @property
    def data_uri(self) -> str:
        return f"data:{self.kind};base64,{base64.b64encode(self.content).decode()}"


def _proof(credential: Credential) -> Proof | None:
    if not credential.proof:
        return None
    try:
        with credential.proof.open("rb") as stored:
            content = stored.read()
    except FileNotFoundError:
        return None
    kind = filetype.guess(content)
    return Proof(kind.mime if kind else "application/octet-stream", content)


def pdf(file: PersonFile, *, prepared_by: str, prepared_at: datetime.datetime) -> bytes:
    """The file as a PDF: images of cards inline, PDF proofs attached (the reader's PDF viewer lists them)."""
    import weasyprint  # loads Pango: only where a PDF is actually made
    import weasyprint.urls

    proofs = {row.credential.pk: _proof(row.credential) for row in file.cards} if file.with_proof else {}
    images = {pk: proof.data_uri for pk, proof in proofs.items() if proof and proof.kind in IMAGE_TYPES}
    html = render_to_string(
        "web/person_file_pdf.html",
        {
            "file": file,
            "images": images,
            "attached": {pk for pk, proof in proofs.items() if proof and proof.kind == "application/pdf"},
            "prepared_by": prepared_by,
            "prepared_at": prepared_at,
        },
    )
    attachments = [
        weasyprint.Attachment(
            string=proof.content,
            name=attachment_name(row.credential),
            description=f"Proof of {row.credential.certification_type.code} issued {row.credential.issued_on}",
        )
        for row in file.cards
        if (proof := proofs.get(row.credential.pk)) is not None and proof.kind == "application/pdf"
    ]
    stylesheets = [weasyprint.CSS(filename=finders.find("web/web.css"))]
    # Nothing is fetched from elsewhere: every picture is inline (data: URLs) and the stylesheet is read from disk.
    fetcher = weasyprint.urls.URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=stylesheets, attachments=attachments)


def attachment_name(credential: Credential) -> str:
    return f"{credential.certification_type.code}-{credential.employee.employee_number}-{credential.issued_on}.pdf"
