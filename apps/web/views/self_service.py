"""Where everyone lands, and staff's own pages: my credentials, proof upload, my calendar link."""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from apps.certifications.models import Credential
from apps.certifications.services import credential_create
from apps.core import clock
from apps.organisation import scoping
from apps.organisation.models import Employee

from .. import services
from ..cards import card_rows
from ..forms import ProofUploadForm
from ..ical import expiry_calendar
from ..models import CalendarFeedToken, hash_feed_secret
from ..selectors import person as selectors
from .common import render_page

NEW_FEED_LINK = "web:new-calendar-link"


@require_safe
@login_required
def home(request):
    """HR and managers to the dashboard, staff to their credentials, anyone else to a polite dead end."""
    scope = scoping.request_scope(request)
    if scoping.oversees_anyone(scope):
        return redirect("web:dashboard")
    if scope.employee_id:
        return redirect("web:me")
    return render_page(request, "web/no_role.html")


class NoStaffRecord(Exception):
    """The login is not linked to an employee: HR and managers opening staff pages."""


def _own_employee(request) -> Employee:
    scope = scoping.request_scope(request)
    if not scope.employee_id:
        raise NoStaffRecord
    return scoping.visible_employee_or_404(scope, scope.employee_id)


def _no_staff_record(view):
    """Staff pages answer a login without an employee record with a page that says so and where to go (a 404)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NoStaffRecord:
            return render_page(request, "web/no_staff_record.html", status=404)

    return wrapped


@require_safe
@login_required
@_no_staff_record
def me(request):
    employee = _own_employee(request)
    today = clock.today()
    return render_page(
        request,
        "web/me.html",
        {
            "employee": employee,
            "compliance": selectors.person_compliance(employee, today),
            "cards": card_rows(selectors.person_credentials(employee), today),
            "feed": CalendarFeedToken.objects.filter(employee=employee, revoked_at__isnull=True).first(),
            "new_feed_link": request.session.pop(NEW_FEED_LINK, None),
        },
    )


@login_required
@_no_staff_record
def upload_proof(request):
    employee = _own_employee(request)
    # `?certification=<id>` comes from a reminder's link: the form opens on the card it is about.
    initial = {"certification_type": request.GET.get("certification")} if request.method == "GET" else None
    form = ProofUploadForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            credential = credential_create(
                employee=employee,
                certification_type=data["certification_type"],
                issued_on=data["issued_on"],
                expires_on=data["expires_on"],
                issuer=data["issuer"],
                card_number=data["card_number"],
                proof=data["proof"],
                verification=Credential.Verification.PENDING,
                acting_user=request.user,
            )
        except ValidationError as error:
            _report_on_form(form, error)
        else:
            messages.success(
                request,
                f"Thank you: your {credential.certification_type.code} card is uploaded. "
                "HR will check it; until then it shows as pending verification.",
            )
            return redirect("web:me")
    if request.method == "POST":
        messages.error(request, "The card was not uploaded: please correct the fields marked below.")
    return render_page(request, "web/upload.html", {"form": form, "employee": employee})


def _report_on_form(form, error: ValidationError) -> None:
    """Put the service's validation errors on the matching fields; the rest at the top of the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, field_errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, field_errors)


@require_POST
@login_required
@_no_staff_record
def calendar_link_create(request):
    employee = _own_employee(request)
    secret = services.calendar_feed_create(employee=employee)
    request.session[NEW_FEED_LINK] = request.build_absolute_uri(reverse("web:calendar_feed", args=[secret]))
    messages.success(request, "Your new calendar link is below. Any link you made before has stopped working.")
    return redirect("web:me")


@require_POST
@login_required
@_no_staff_record
def calendar_link_revoke(request):
    employee = _own_employee(request)
    if services.calendar_feed_revoke(employee=employee):
        messages.success(request, "Your calendar link no longer works. Calendars subscribed to it stop updating.")
    else:
        messages.info(request, "You had no calendar link to revoke.")
    return redirect("web:me")


@require_safe
def calendar_feed(request, secret: str):
    """The secret link is the credential: no login, and an unknown or revoked link is a plain 404."""
    # A leaver's link stops with their login: the feed answers only for an active login of someone employed.
    token = (
        CalendarFeedToken.objects.select_related("employee")
        .filter(secret_hash=hash_feed_secret(secret), revoked_at__isnull=True, employee__user__is_active=True)
        .filter(scoping.employed_today("employee__"))
        .first()
    )
    if token is None:
        raise Http404("No such calendar.")
    employee = token.employee
    body = expiry_calendar(
        employee, selectors.person_credentials(employee), selectors.person_compliance(employee, clock.today())
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="certification-expiry.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
