import filetype
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from apps.organisation import scoping

from .models import Credential

# Types a browser may show inline. Anything else, whatever its name claims, is sent as an opaque download,
# so an uploaded HTML or SVG "card" can never run in our origin.
INLINE_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/gif", "image/webp"}
SNIFF_BYTES = 261  # what filetype needs to recognise any type it knows


@require_safe
@login_required
def credential_proof(request, credential_id: int):
    """Stream a credential's proof to HR or to its own employee. Everyone else gets a 404, not a hint it exists."""
    credential = get_object_or_404(
        Credential.objects.select_related("employee", "certification_type"), pk=credential_id
    )
    if not credential.proof or not scoping.may_see_proof(request.user, credential.employee):
        raise Http404("No proof here.")
    try:
        proof = credential.proof.open("rb")
    except FileNotFoundError as missing:
        raise Http404("The proof file is missing from storage.") from missing
    kind = filetype.guess(proof.read(SNIFF_BYTES))
    proof.seek(0)
    inline = kind is not None and kind.mime in INLINE_TYPES
    extension = kind.extension if kind is not None else "bin"
    filename = f"{credential.certification_type.code}-{credential.employee.employee_number}-{credential.issued_on}"
    response = FileResponse(
        proof,
        content_type=kind.mime if inline else "application/octet-stream",
        as_attachment=not inline,
        filename=f"{filename}.{extension}",
    )
    # Personal data: no shared cache may keep a copy.
    response["Cache-Control"] = "private, no-store"
    return response
