"""Reads of the organisation that only its own tables (and the employee history) answer."""

from collections.abc import Iterable

from django.db.models import Q

from .models import Employee


def in_departments_on(department_ids: Iterable[int]) -> Q:
    """Employees who are, or ever were, in these departments.

    A superset for any one day: narrow it to the day with the assignment in force then
    (`compliance.selectors.evaluate(..., department_ids=)`), so transferees are found in their old department.
    """
    ids = list(department_ids)
    return Q(department_id__in=ids) | Q(id__in=Employee.history.filter(department_id__in=ids).values("id"))
