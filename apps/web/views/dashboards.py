"""Managers' and HR's pages: the dashboard, the lists behind it (each exportable as CSV), the forecast
and the audit report. Every one starts from the scoping layer; anyone who oversees nobody gets a 404."""

import datetime

from django.contrib.auth.decorators import login_required
from django.db.models import Case, Value, When
from django.http import Http404
from django.views.decorators.http import require_safe

from apps.certifications.models import Credential
from apps.compliance import periods, read
from apps.compliance import selectors as compliance_selectors
from apps.compliance.engine import Status
from apps.compliance.read import forecast as forecasting
from apps.compliance.read import overview as overviews
from apps.compliance.read import rows
from apps.core import clock
from apps.organisation import problems, scoping
from apps.organisation.models import DataProblem

from .. import charts
from ..exports import csv_response
from ..forms import (
    AttentionForm,
    AuditForm,
    DashboardForm,
    EmployeeListForm,
    ForecastForm,
    MatrixCellForm,
    MatrixForm,
    RenewalForm,
)
from ..matrix import BAND_WORDS, Band, unit_certification_matrix
from ..selectors.audit import audit
from ..templatetags.web_tags import requirement_label, tone
from .common import oversight_or_404, paginate, render_page

# The dashboard's gap panel looks back this far from the day shown (the audit report takes any window).
GAP_WINDOW_DAYS = 90


def _catalogue(request, scope):
    return overviews.catalogue_for(scoping.visible_departments(scope))


def _wants_csv(request) -> bool:
    return request.GET.get("format") == "csv"


@require_safe
@login_required
def dashboard(request):
    scope = oversight_or_404(request)
    catalogue = _catalogue(request, scope)
    form = DashboardForm(request.GET, catalogue=catalogue)
    filters = form.filters()
    today = clock.today()
    day = form.cleaned_data.get("as_of") or today
    people = read.People.overseen(scope)
    overview = overviews.overview(people, filters=filters, catalogue=catalogue, day=day, today=today)
    departments = [filters.department_id] if filters.department_id else people.department_ids
    overview.trend = overviews.trend(department_ids=departments, until=day)
    gaps = overviews.gaps(
        department_ids=departments, start=day - datetime.timedelta(GAP_WINDOW_DAYS - 1), end=day, limit=10
    )
    statuses = list(Status)
    context = {
        "legend": [(band.value, BAND_WORDS[band]) for band in Band],
        "form": form,
        "filters": filters,
        "overview": overview,
        "gaps": gaps,
        "today": today,
        "statuses": [(status, overview.everyone.count(status)) for status in statuses],
        "charts": {
            "departments": charts.rates(overview.by_department),
            "roles": charts.rates(overview.by_role),
            "certifications": charts.rates(overview.by_certification),
            "statuses": charts.status_counts(
                [s.label for s in statuses], [overview.everyone.count(s) for s in statuses], [tone(s) for s in statuses]
            ),
            "renewals": charts.renewals(overview.renewals_by_week),
            "trend": charts.trend(overview.trend),
        },
    }
    if scope.organisation:
        context["pending_proof"] = Credential.objects.filter(verification=Credential.Verification.PENDING).count()
    return render_page(request, "web/dashboard.html", context)


@require_safe
@login_required
def employee_list(request):
    scope = oversight_or_404(request)
    form = EmployeeListForm(request.GET, catalogue=_catalogue(request, scope), hr=scope.organisation)
    filters = form.filters()
    left = bool(form.cleaned_data.get("left"))
    people = rows.employee_list(
        employees=scoping.overseen_employees(scope, include_left=left),
        left=left,
        filters=filters,
        search=form.cleaned_data.get("q") or "",
        day=clock.today(),
    )
    if _wants_csv(request):
        return csv_response(
            "employees",
            ["Employee number", "Last name", "First name", "Department", "Role", "Status", "Next expiry"],
            (
                (
                    p.employee_number,
                    p.last_name,
                    p.first_name,
                    p.department.name,
                    p.role.name,
                    Status(p.compliance_status).label if p.compliance_status else "Not yet scanned",
                    p.next_expiry,
                )
                for p in problems.leave_out_unreadable(
                    people, source=DataProblem.Source.EXPORT, employee="id", dates=problems.EMPLOYEE_DATES
                ).iterator(chunk_size=2000)
            ),
        )
    return render_page(request, "web/employee_list.html", {"form": form, "page": paginate(request, people)})


def _problem_csv(name: str, results):
    return csv_response(
        name,
        [
            "Employee number",
            "Name",
            "Department",
            "Role",
            "Requirement",
            "Status",
            "Reason",
            "Since",
            "Due",
            "Expires",
        ],
        (
            (
                r.employee.employee_number,
                r.employee.full_name,
                r.employee.department.name,
                r.employee.role.name,
                requirement_label(r.requirement),
                Status(r.status).label,
                r.reason,
                r.since,
                r.due_on,
                r.expires_on,
            )
            for r in results
        ),
    )


@require_safe
@login_required
def attention(request):
    scope = oversight_or_404(request)
    form = AttentionForm(request.GET, catalogue=_catalogue(request, scope))
    results = rows.attention_list(employees=scoping.overseen_employees(scope), filters=form.filters())
    if _wants_csv(request):
        return _problem_csv("needs-attention", _exportable(results))
    return render_page(request, "web/attention.html", {"form": form, "page": paginate(request, results)})


@require_safe
@login_required
def renewals(request):
    scope = oversight_or_404(request)
    form = RenewalForm(request.GET, catalogue=_catalogue(request, scope))
    filters = form.filters()
    within = form.cleaned_data.get("within") or periods.RENEWAL_HORIZONS[-1]
    results = rows.renewal_list(
        employees=scoping.overseen_employees(scope),
        filters=filters,
        day=clock.today(),
        within_days=within,
    )
    if _wants_csv(request):
        return _problem_csv(f"expiring-within-{within}-days", _exportable(results))
    # The dashboard's link counts people; the list has a row per requirement their cards keep met.
    people = results.order_by().values("employee_id").distinct().count()
    context = {"form": form, "within": within, "page": paginate(request, results), "people": people}
    return render_page(request, "web/renewals.html", context)


def _exportable(results):
    """A list's rows for its CSV, without the people whose stored record cannot be read (listed for HR)."""
    return _chunked(
        problems.leave_out_unreadable(
            results,
            source=DataProblem.Source.EXPORT,
            employee="employee_id",
            dates=[f"employee__{name}" for name in problems.EMPLOYEE_DATES],
        )
    )


def _chunked(results, size: int = 2000):
    """Stream in chunks: with a chunk size, iterator() keeps the prefetch of each requirement's any-of set."""
    return results.iterator(chunk_size=size)


@require_safe
@login_required
def forecast(request):
    scope = oversight_or_404(request)
    form = ForecastForm(request.GET, catalogue=_catalogue(request, scope))
    filters = form.filters()
    days = form.cleaned_data.get("days") or 90
    today = clock.today()
    lapses = forecasting.forecast(read.People.overseen(scope), filters=filters, day=today, horizon_days=days)
    if _wants_csv(request):
        return _problem_csv("forecast", _lapse_rows(lapses))
    page = paginate(request, lapses)
    page.object_list = rows.problem_rows([(lapse.employee_id, lapse) for lapse in page.object_list])
    context = {"form": form, "days": days, "today": today, "horizon": today + datetime.timedelta(days), "page": page}
    return render_page(request, "web/forecast.html", context)


def _lapse_rows(lapses, size: int = 2000):
    for start in range(0, len(lapses), size):
        yield from rows.problem_rows([(lapse.employee_id, lapse) for lapse in lapses[start : start + size]])


@require_safe
@login_required
def audit_report(request):
    scope = oversight_or_404(request)
    catalogue = _catalogue(request, scope)
    form = AuditForm(request.GET or None, catalogue=catalogue, initial={"as_of": clock.today()})
    if not form.is_valid():
        if request.GET and "department" in form.errors and request.GET.get("department"):
            raise Http404("No such department.")
        return render_page(request, "web/audit_form.html", {"form": form})
    department = next(d for d in catalogue.departments if d.pk == form.cleaned_data["department"])
    employees, _ = scoping.overseen_employees_on_any_day(scope)
    report = audit(
        employees=employees,
        department=department,
        day=form.cleaned_data["as_of"],
        catalogue=catalogue,
        window_start=form.cleaned_data.get("window_start"),
    )
    context = {
        "report": report,
        "generated_at": clock.now(),
        "window_asked": bool(form.cleaned_data.get("window_start")),
    }
    return render_page(request, "web/audit_report.html", context)


@require_safe
@login_required
def matrix(request):
    """Which unit is behind on which card: compliance per department and certification, each cell a link."""
    scope = oversight_or_404(request)
    catalogue = _catalogue(request, scope)
    form = MatrixForm(request.GET, catalogue=catalogue)
    grid = unit_certification_matrix(
        employees=scoping.overseen_employees(scope), catalogue=catalogue, filters=form.filters()
    )
    legend = [(band.value, BAND_WORDS[band]) for band in Band]
    return render_page(request, "web/matrix.html", {"form": form, "matrix": grid, "legend": legend})


@require_safe
@login_required
def matrix_cell(request):
    """The people behind one cell of the matrix: each one's requirement that the certification satisfies."""
    scope = oversight_or_404(request)
    catalogue = _catalogue(request, scope)
    form = MatrixCellForm(request.GET, catalogue=catalogue)
    if not form.is_valid():
        raise Http404("No such cell.")  # a department outside the viewer's scope is no valid choice
    filters = form.filters()
    results = rows.stored_requirement_statuses(
        compliance_selectors.current_run(), scoping.overseen_employees(scope), filters
    )
    worst_first = Case(*(When(status=s.value, then=Value(-s.severity)) for s in Status), default=Value(0))
    results = rows.with_people(results).order_by(worst_first, "employee__last_name", "employee__first_name", "id")
    if _wants_csv(request):
        return _problem_csv("matrix-cell", _exportable(results))
    context = {
        "form": form,
        "department": catalogue.department_name(filters.department_id),
        "certification": catalogue.type_name(filters.certification_id),
        "page": paginate(request, results),
    }
    return render_page(request, "web/matrix_cell.html", context)
