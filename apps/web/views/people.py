"""One person's page for HR and their manager (and themselves): requirements, cards, history, reminders."""

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_safe

from apps.core import clock
from apps.organisation import scoping

from .. import selectors
from ..cards import card_rows
from .common import render_page, scope_of


@require_safe
@login_required
def employee_detail(request, pk: int):
    scope = scope_of(request)
    employee = scoping.visible_employee_or_404(request.user, pk, scope)
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
