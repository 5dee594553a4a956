"""HR's verification queue: uploaded proof waiting for a decision, with verify and reject buttons."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST, require_safe

from apps.certifications.models import Credential
from apps.certifications.services import credential_reject, credential_verify
from apps.organisation.scoping import may_verify_credentials

from ..forms import RejectionForm
from .common import paginate, render_page


def _verifier_or_404(request) -> None:
    if not may_verify_credentials(request.user):
        raise Http404("No such page.")


@require_safe
@login_required
def queue(request):
    _verifier_or_404(request)
    pending = Credential.objects.filter(verification=Credential.Verification.PENDING).select_related(
        "employee__department", "employee__role", "certification_type"
    )
    return render_page(
        request,
        "web/verification_queue.html",
        {"page": paginate(request, pending.order_by("created_at", "id"), per_page=25), "rejection": RejectionForm()},
    )


def _undecided_or_none(request, pk: int) -> Credential | None:
    """The credential, if still pending; otherwise say who got there first."""
    credential = get_object_or_404(Credential.objects.select_related("employee", "certification_type"), pk=pk)
    if credential.verification == Credential.Verification.PENDING:
        return credential
    messages.info(
        request, f"{credential} was already {credential.get_verification_display().lower()}; nothing changed."
    )
    return None


@require_POST
@login_required
def verify(request, pk: int):
    _verifier_or_404(request)
    credential = _undecided_or_none(request, pk)
    if credential is None:
        return redirect("web:verification_queue")
    try:
        credential_verify(credential=credential, user=request.user)
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
    else:
        messages.success(request, f"Verified: {credential}.")
    return redirect("web:verification_queue")


@require_POST
@login_required
def reject(request, pk: int):
    _verifier_or_404(request)
    credential = _undecided_or_none(request, pk)
    if credential is None:
        return redirect("web:verification_queue")
    form = RejectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not rejected: say why you reject {credential}, so the employee can fix it.")
        return redirect("web:verification_queue")
    try:
        credential_reject(credential=credential, user=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
    else:
        messages.success(request, f"Rejected: {credential}. The employee sees your reason.")
    return redirect("web:verification_queue")
