"""Who may see whom: the one permission layer every page, export, feed and API endpoint uses.

- HR admins (superusers, or users granted `organisation.view_organisation`) see the whole organisation.
- Managers see the employees of the departments they manage (as assigned today), and themselves.
- Staff see only themselves.
- Anyone else sees nothing. Out-of-scope objects must answer 404, never a hint that they exist.

Views, API views, exports and feeds get the caller's scope once, with `request_scope(request)`, and pass
it first to everything below: what the scope may see never depends on which caller asks.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404

from apps.core import clock

from .models import Department, Employee
from .selectors import in_departments_on

HR_PERMISSION = "organisation.view_organisation"


@dataclass(frozen=True)
class Scope:
    organisation: bool
    department_ids: frozenset[int]
    employee_id: int | None

    @property
    def is_manager(self) -> bool:
        return bool(self.department_ids)

    @property
    def is_empty(self) -> bool:
        return not (self.organisation or self.department_ids or self.employee_id)


def is_hr_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(HR_PERMISSION))


def request_scope(request) -> Scope:
    """The caller's scope, worked out once per request (pages and API alike)."""
    if not hasattr(request, "_credtrack_scope"):
        request._credtrack_scope = scope_for(request.user)
    return request._credtrack_scope


def scope_for(user) -> Scope:
    """Two small queries at most; cache the result on the request if a page needs it often."""
    if not (user and user.is_authenticated and user.is_active):
        return Scope(False, frozenset(), None)
    if is_hr_admin(user):
        return Scope(True, frozenset(), None)
    department_ids = frozenset(user.managed_departments.values_list("id", flat=True))
    employee_id = Employee.objects.filter(user=user).values_list("id", flat=True).first()
    return Scope(False, department_ids, employee_id)


def employed_today(via: str = "") -> Q:
    """Still employed today: their last day (the termination date) is today or ahead, or not set."""
    return Q(**{f"{via}terminated_on__isnull": True}) | Q(**{f"{via}terminated_on__gte": clock.today()})


def employee_condition(scope: Scope, *, include_self: bool = True, via: str = "", include_left: bool = False) -> Q:
    """The scope's rule as a filter on employees, or on rows pointing at one (`via="employee__"`).

    Managers' people are those assigned to their departments today and still employed: from the day
    after their last day, staff who left are on no manager's page, list, export or API answer.
    HR reach them with `include_left=True` (an explicit filter). `include_self=False` leaves out
    the user's own record: a manager's own card in another department must not bring that
    department onto their dashboards.
    """
    if scope.organisation:
        return Q() if include_left else employed_today(via)
    condition = Q(pk__in=[])
    if scope.department_ids:
        condition |= Q(**{f"{via}department_id__in": scope.department_ids})
    if include_self and scope.employee_id:
        condition |= Q(**{f"{via}pk": scope.employee_id})
    return condition & employed_today(via)


def visible_employees(scope: Scope, *, include_left: bool | None = None) -> QuerySet[Employee]:
    """Whom the scope may open. HR may open anyone, staff who left included, unless a list asks otherwise."""
    include_left = scope.organisation if include_left is None else include_left
    return Employee.objects.filter(employee_condition(scope, include_left=include_left))


def employees_on_any_day(
    scope: Scope, *, include_self: bool = True
) -> tuple[QuerySet[Employee], frozenset[int] | None]:
    """For a past (or future) day: everyone who may then have been in the scope's departments
    (transferees included), and the department ids to narrow to with
    `compliance.selectors.evaluate(..., department_ids=)` (None: every department)."""
    if scope.organisation:
        return Employee.objects.all(), None
    condition = Q(pk__in=[])
    if scope.department_ids:
        condition |= in_departments_on(scope.department_ids)
    if include_self and scope.employee_id:
        condition |= Q(pk=scope.employee_id)
    return Employee.objects.filter(condition), scope.department_ids


def visible_departments(scope: Scope) -> QuerySet[Department]:
    if scope.organisation:
        return Department.objects.all()
    return Department.objects.filter(pk__in=scope.department_ids)


def visible_condition(scope: Scope, *, via: str = "") -> Q:
    """`visible_employees` as a filter on rows pointing at an employee (`via="employee__"`: their cards, the
    emails about them): HR's is empty (no narrowing), so never OR it with another condition."""
    return employee_condition(scope, via=via, include_left=scope.organisation)


def visible_employee_or_404(scope: Scope, pk) -> Employee:
    try:
        return visible_employees(scope).get(pk=pk)
    except (Employee.DoesNotExist, ValueError, TypeError):
        raise Http404("No such employee") from None


def overseen_employees(scope: Scope, *, include_left: bool = False) -> QuerySet[Employee]:
    """The people whose compliance the user oversees on dashboards, lists, exports and charts:
    the whole organisation for HR, the managed departments for a manager, never the user themselves.
    Staff who left are counted nowhere; HR list them with `include_left=True`."""
    return Employee.objects.filter(employee_condition(scope, include_self=False, include_left=include_left))


def overseen_employees_on_any_day(scope: Scope) -> tuple[QuerySet[Employee], frozenset[int] | None]:
    """overseen_employees for a past day: see employees_on_any_day."""
    return employees_on_any_day(scope, include_self=False)


def oversees_anyone(scope: Scope) -> bool:
    return scope.organisation or scope.is_manager


def may_verify_credentials(user) -> bool:
    """HR who decide on uploaded proof, and so may open anyone's proof file: staff allowed to change credentials."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm("certifications.change_credential")
    )


def may_see_proof(user, employee: Employee) -> bool:
    """Proof files are for HR and their owner only; a manager sees the card's dates, never the file."""
    return may_verify_credentials(user) or (employee.user_id is not None and employee.user_id == user.pk)
