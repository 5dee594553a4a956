"""Logins that follow the roster: every employee with an email has one, and it ends with the employment.

The login of an employee is a plain Django user, linked 1:1 from `Employee.user`, named after the
employee number (stable: names and addresses change, the number does not) and with no usable
password: staff sign in by the link in their emails, by single sign-on, or after setting a password
through "forgot your password". HR and manager logins that belong to no employee are never touched.

Everything here is set-based (a few queries per chunk of employees, whatever the chunk's size), so
an import of 100k people or the nightly check costs seconds, not a query per person.

Deactivation cuts every way in at once, because each of them checks `is_active` or the password
hash when used: sessions (Django checks both on every request), sign-in links (django-sesame signs
the password hash), API tokens (only active users' tokens authenticate) and the calendar feed (it
answers only for an active login of someone still employed).
"""

from __future__ import annotations

import datetime
import logging
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import transaction
from django.db.models import F, Max, Min, OuterRef, Q, Subquery

from apps.core import clock
from apps.core.bulk import insert_rows
from apps.organisation.models import Employee

logger = logging.getLogger(__name__)

CHUNK = 5_000
RANGE = 20_000
NEW_USER_COLUMNS = (
    "username",
    "email",
    "first_name",
    "last_name",
    "password",
    "is_active",
    "is_staff",
    "is_superuser",
    "date_joined",
)


@dataclass
class ProvisionReport:
    created: int = 0
    linked: int = 0
    updated: int = 0
    reactivated: int = 0
    deactivated: int = 0
    problems: list[str] = field(default_factory=list)

    def __str__(self):
        text = (
            f"{self.created} logins made, {self.linked} linked, {self.updated} updated, "
            f"{self.reactivated} reactivated, {self.deactivated} deactivated"
        )
        if self.problems:
            text += f"; {len(self.problems)} left alone (first: {self.problems[0]})"
        return text

    def add(self, other: ProvisionReport) -> None:
        self.created += other.created
        self.linked += other.linked
        self.updated += other.updated
        self.reactivated += other.reactivated
        self.deactivated += other.deactivated
        self.problems.extend(other.problems)


def left_before(day: datetime.date) -> Q:
    """Employees whose last day of employment is behind them on `day`."""
    return Q(terminated_on__lt=day)


def accounts_provision(
    *, employee_ids: Iterable[int] | None = None, reactivate: bool = True, day: datetime.date | None = None
) -> ProvisionReport:
    """Bring the logins of these employees (None: everyone) in line with the roster.

    - employed, with an email, no login: a login is made (username = employee number) and linked;
    - with a login: its email and name follow the employee's;
    - employment over (last day before `day`): the login is deactivated and every way in cut;
    - employed again (a rehire, or a termination date taken back) and `reactivate`: the login works again.
      The nightly check passes reactivate=False, so a login HR switched off by hand stays off until
      someone edits the employee.
    One employee's problem (their number already taken by an unrelated login) is reported, never raised.
    """
    day = day or clock.today()
    report = ProvisionReport()
    for part in _parts(employee_ids):
        with transaction.atomic():
            report.add(_provision_part(part, reactivate=reactivate, day=day))
    if report.problems:
        logger.warning("account provisioning: %s", report)
    return report


def account_sync(*, employee: Employee) -> ProvisionReport:
    """The one call every path that creates or edits a single employee makes (admin, API)."""
    report = accounts_provision(employee_ids=[employee.pk])
    employee.refresh_from_db(fields=["user"])
    return report


def accounts_deactivate_leavers(*, day: datetime.date | None = None) -> int:
    """The nightly check: every login of someone whose employment ended is switched off."""
    day = day or clock.today()
    return _deactivate(Employee.objects.filter(left_before(day), user__is_active=True).values("user_id"))


def _parts(employee_ids: Iterable[int] | None) -> Iterator[Q]:
    """The employees to provision, a chunk at a time: ranges of ids for everyone (no long IN lists for the
    database to plan), lists for the rows an import or an edit just wrote."""
    if employee_ids is None:
        bounds = Employee.objects.aggregate(low=Min("pk"), high=Max("pk"))
        if bounds["low"] is None:
            return
        for start in range(bounds["low"], bounds["high"] + 1, RANGE):
            yield Q(pk__gte=start, pk__lt=start + RANGE)
        return
    iterator = iter(sorted(set(employee_ids)))
    while chunk := list(islice(iterator, CHUNK)):
        yield Q(pk__in=chunk)


def _provision_part(part: Q, *, reactivate: bool, day: datetime.date) -> ProvisionReport:
    User = get_user_model()
    report = ProvisionReport()
    employees = Employee.objects.filter(part).order_by()
    current = employees.exclude(left_before(day))

    wanted = list(
        current.filter(user__isnull=True)
        .exclude(email="")
        .values_list("employee_number", "email", "first_name", "last_name")
    )
    existing = dict(User.objects.filter(username__in=[row[0] for row in wanted]).values_list("username", "email"))
    # A login already named after the employee number is linked only when it is plainly theirs: a plain
    # login with their address and no other employee. Anything else may be someone else's account.
    reclaimable = set(
        User.objects.filter(
            username__in=existing, employee__isnull=True, is_staff=False, is_superuser=False
        ).values_list("username", flat=True)
    )
    new_users, to_link = [], []
    joined = clock.now()
    for number, email, first_name, last_name in wanted:
        if number not in existing:
            new_users.append((number, email, first_name, last_name, _unusable_password(), True, False, False, joined))
        elif number not in reclaimable or existing[number].lower() != email.lower():
            report.problems.append(f"employee {number}: a login named {number!r} exists and is not plainly theirs")
            continue
        to_link.append(number)
    if new_users:
        insert_rows(User, NEW_USER_COLUMNS, new_users)
        report.created = len(new_users)
    if to_link:
        # One statement links the chunk by the stable username: no per-row update. Employee history is not
        # written for this link: it is the system's bookkeeping, not a change HR made to the person.
        report.linked = current.filter(user__isnull=True, employee_number__in=to_link).update(
            user_id=Subquery(User.objects.filter(username=OuterRef("employee_number")).order_by().values("pk")[:1])
        )

    logins = User.objects.filter(employee__in=employees)
    person = Employee.objects.filter(user_id=OuterRef("pk")).order_by()
    report.updated = logins.filter(
        ~Q(email=F("employee__email"))
        | ~Q(first_name=F("employee__first_name"))
        | ~Q(last_name=F("employee__last_name"))
    ).update(
        email=Subquery(person.values("email")[:1]),
        first_name=Subquery(person.values("first_name")[:1]),
        last_name=Subquery(person.values("last_name")[:1]),
    )

    if reactivate:
        report.reactivated = User.objects.filter(is_active=False, employee__in=current).update(is_active=True)
    report.deactivated = _deactivate(employees.filter(left_before(day), user__is_active=True).values("user_id"))
    return report


def _unusable_password() -> str:
    """What make_password(None) stores (no password matches it; each is different), from os.urandom at once:
    make_password draws its 40 characters one by one, which was half the time of provisioning 100k."""
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def _deactivate(user_ids) -> int:
    """Switch logins off. A fresh unusable password changes the hash that every session and every
    sign-in link is checked against, so those die on their next use even outside the backends'
    is_active checks."""
    User = get_user_model()
    users = list(User.objects.filter(pk__in=user_ids, is_active=True).values_list("pk", flat=True))
    for start in range(0, len(users), 1000):
        part = users[start : start + 1000]
        User.objects.filter(pk__in=part).update(is_active=False, password=_unusable_password())
    return len(users)
