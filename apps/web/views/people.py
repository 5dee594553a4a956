"""One person's page for HR and their manager (and themselves): requirements, cards, history, reminders; and their
training file for a surveyor, as a print-ready page and as a PDF."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_safe

from apps.core import clock
from apps.organisation import scoping

from .. import person_file as files
from ..cards import card_rows
from ..forms import PersonFileForm
from ..selectors import person as selectors
from .common import render_page


@require_safe
@login_required
def employee_detail(request, pk: int):
    scope = scoping.request_scope(request)
    employee = scoping.visible_employee_or_404(scope, pk)
    today = clock.today()
    return render_page(
        request,
        "web/employee_detail.html",
        {
            "employee": employee,
            "compliance": selectors.person_compliance(employee, today),
            "cards": card_rows(selectors.person_credentials(employee), today),
            "history": selectors.person_history(employee),
            "reminders": selectors.person_reminders(employee),
            "may_see_proof": scoping.may_see_proof(request.user, employee),
        },
    )


def _file_for(request, pk: int):
    """The person (in the viewer's scope, else 404), the day asked for (today if none or invalid) and the form."""
    scope = scoping.request_scope(request)
    employee = scoping.visible_employee_or_404(scope, pk)
    today = clock.today()
    form = PersonFileForm(request.GET if "as_of" in request.GET else None, initial={"as_of": today})
    day = form.cleaned_data["as_of"] if form.is_bound and form.is_valid() else today
    file = files.person_file(employee, day, with_proof=scoping.may_see_proof(request.user, employee))
    return file, form


def _prepared_by(request) -> str:
    return request.user.get_full_name() or request.user.get_username()


@require_safe
@login_required
def person_file(request, pk: int):
    file, form = _file_for(request, pk)
    return render_page(
        request,
        "web/person_file.html",
        {"file": file, "form": form, "prepared_by": _prepared_by(request), "prepared_at": clock.now()},
    )


@require_safe
@login_required
def person_file_pdf(request, pk: int):
    file, _ = _file_for(request, pk)
    body = files.pdf(file, prepared_by=_prepared_by(request), prepared_at=clock.now())
    response = HttpResponse(body, content_type="application/pdf")
    name = f"training-file-{file.employee.employee_number}-{file.day:%Y-%m-%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"  # personal data: no shared cache keeps a copy
    return response
