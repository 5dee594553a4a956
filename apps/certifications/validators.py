"""Checks on uploaded proof of certification, shared by every way proof comes in (web, API, admin)."""

import filetype
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

# Scans and photos of a card, or the eCard PDF the issuer sends: nothing a browser could execute.
PROOF_TYPES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}
PROOF_MAX_BYTES = 10 * 1024 * 1024
SNIFF_BYTES = 261  # what filetype needs to recognise any type it knows


def validate_proof_file(upload) -> None:
    """Accept a PDF, JPEG or PNG of at most PROOF_MAX_BYTES, judged by its content, never by its name."""
    if upload.size > PROOF_MAX_BYTES:
        raise ValidationError(
            "The file is %(size)s; proof may be at most %(limit)s.",
            code="file_too_large",
            params={"size": filesizeformat(upload.size), "limit": filesizeformat(PROOF_MAX_BYTES)},
        )
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    kind = filetype.guess(upload.read(SNIFF_BYTES))
    upload.seek(position)
    if kind is None or kind.mime not in PROOF_TYPES:
        raise ValidationError(
            "Upload the card as a %(types)s file; this file is not one, whatever its name says.",
            code="invalid_file_type",
            params={"types": ", ".join(PROOF_TYPES.values())},
        )


_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def proof_extension(upload) -> str:
    """The extension of the type the file's content shows ("bin" for anything validation would have refused)."""
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    kind = filetype.guess(upload.read(SNIFF_BYTES))
    upload.seek(position)
    return _EXTENSIONS.get(kind.mime, "bin") if kind else "bin"
