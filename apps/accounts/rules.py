"""Who may use which way in.

Sign-in links (in emails) and the "email me a link" form are for plain staff only: an active login
linked to an employee that carries no other power. HR, managers, superusers and anyone with admin
access sign in fully (password or single sign-on): a forwarded or leaked email must never open a
dashboard of other people's data.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, Q, QuerySet

from apps.organisation.models import Department, Employee
from apps.organisation.scoping import HR_PERMISSION


def _hr_permission() -> Q:
    app_label, codename = HR_PERMISSION.split(".")
    return Q(content_type__app_label=app_label, codename=codename)


def plain_staff() -> QuerySet:
    """Active logins of employees with no HR, admin or manager power, as one query."""
    User = get_user_model()
    hr = Permission.objects.filter(_hr_permission())
    return User.objects.filter(
        Exists(Employee.objects.filter(user_id=OuterRef("pk"))),
        is_active=True,
        is_staff=False,
        is_superuser=False,
    ).exclude(
        Exists(Department.managers.through.objects.filter(user_id=OuterRef("pk")))
        | Exists(hr.filter(user=OuterRef("pk")))
        | Exists(hr.filter(group__user=OuterRef("pk")))
    )


def plain_staff_ids(user_ids: Iterable[int]) -> set[int]:
    """Of these logins, the ones a sign-in link may sign in: one query for a whole batch of emails."""
    ids = [pk for pk in set(user_ids) if pk]
    if not ids:
        return set()
    return set(plain_staff().filter(pk__in=ids).values_list("pk", flat=True))


def is_plain_staff(user) -> bool:
    return bool(user and user.pk and user.pk in plain_staff_ids([user.pk]))
