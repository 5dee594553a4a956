"""The staff file: create and update employees, their logins and their departments' managers."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model

from apps.accounts.provisioning import accounts_provision
from apps.organisation.models import Department, Employee, Role

from .importer import Codes, Importer, Planned, Progress, RowCheck, display, run_import
from .layouts import STAFF_COLUMNS
from .parsing import ImportFile
from .report import CHANGED, NEW, UNCHANGED, ImportOptions, ImportReport


def staff_import(
    *,
    file: ImportFile,
    user=None,
    dry_run: bool = False,
    previewed: bool = False,
    options: ImportOptions | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Create and update employees from a staff file (layout: layouts.STAFF_COLUMNS)."""
    return run_import(
        StaffImport, file=file, user=user, dry_run=dry_run, previewed=previewed, options=options, progress=progress
    )


@dataclass
class _StaffLookups:
    users: dict[str, int]
    owners: dict[str, str]
    employees: dict[str, Employee]


def _logins(text: str) -> list[str]:
    return [name.strip() for name in text.replace(",", ";").split(";") if name.strip()]


class StaffImport(Importer):
    kind = "staff"
    columns = STAFF_COLUMNS
    model = Employee
    update_fields = [
        "first_name",
        "last_name",
        "email",
        "user",
        "role",
        "department",
        "hired_on",
        "assigned_on",
        "terminated_on",
    ]
    field_columns = {"user": "username", "user_id": "username", "role_id": "role", "department_id": "department"}

    def prepare(self):
        self.roles = Codes(Role.objects.values_list("code", "id"))
        self.departments = Codes(Department.objects.values_list("code", "id"))
        self.manager_pairs = set(Department.managers.through.objects.values_list("department_id", "user_id"))
        self.added_managers: dict[int, set[str]] = defaultdict(set)
        self.seen_numbers: dict[str, int] = {}
        self.seen_logins: dict[str, int] = {}

    def look_up(self, batch):
        numbers = {row.text("employee_number") for row in batch} - {""}
        logins = {row.text("username") for row in batch} - {""}
        managers = {name for row in batch for name in _logins(row.text("manager"))}
        users = {}
        if logins | managers:
            users = dict(get_user_model().objects.filter(username__in=logins | managers).values_list("username", "id"))
        owners = {}
        if logins:
            owners = dict(
                Employee.objects.filter(user__username__in=logins).values_list("user__username", "employee_number")
            )
        employees = {}
        if numbers:
            employees = {
                e.employee_number: e
                for e in Employee.objects.filter(employee_number__in=numbers).order_by().select_related("user")
            }
        return _StaffLookups(users=users, owners=owners, employees=employees)

    def plan_row(self, check, found):
        number = check.text("employee_number", required=True)
        values = {
            "first_name": check.text("first_name", required=True),
            "last_name": check.text("last_name", required=True),
            "role_id": self.code(check, "role", self.roles, "role"),
            "department_id": self.code(check, "department", self.departments, "department"),
            "hired_on": check.date("hired_on", required=True),
        }
        if email := check.text("email"):
            values["email"] = email
        if login := check.text("username"):
            values["user_id"] = self.login(check, login, number, found)
        if assigned_on := check.date("assigned_on"):
            values["assigned_on"] = assigned_on
        if terminated_on := check.date("terminated_on"):
            values["terminated_on"] = terminated_on
        managers = {name: self.manager(check, name, found) for name in _logins(check.text("manager"))}
        if number:
            self.once(check, "employee_number", self.seen_numbers, number, f"Employee number {number}")
        if check.errors:
            return None

        existing = found.employees.get(number)
        if existing is None:
            employee = Employee(employee_number=number, **values)
            planned = Planned(check.row, NEW, employee, fields=[])
            if employee.assigned_on is None:
                employee.assigned_on = employee.hired_on
                planned.shown["assigned_on"] = display(employee.assigned_on)
        else:
            employee = existing
            changed = [name for name, value in values.items() if getattr(employee, name) != value]
            if {"role_id", "department_id"} & set(changed) and assigned_on is None:
                check.error("assigned_on", "The role or department changes: give the day the new assignment starts.")
            before = {self.field_columns.get(name, name): self.stored(employee, name) for name in changed}
            for name in changed:
                setattr(employee, name, values[name])
            planned = Planned(check.row, CHANGED if changed else UNCHANGED, employee, changed, before)
        check.validate(employee, exclude=["role", "department", "user"], columns=self.field_columns)
        if check.errors:
            return None

        for name, user_id in managers.items():
            pair = (employee.department_id, user_id)
            if pair not in self.manager_pairs:
                self.manager_pairs.add(pair)
                self.added_managers[employee.department_id].add(name)
                planned.manager_pairs.add(pair)
        if planned.manager_pairs and planned.action == UNCHANGED:
            planned.action = CHANGED
            planned.before["manager"] = ""
        return planned

    def stored(self, employee: Employee, name: str) -> str:
        if name == "role_id":
            return self.roles.codes.get(employee.role_id, "")
        if name == "department_id":
            return self.departments.codes.get(employee.department_id, "")
        if name == "user_id":
            return employee.user.username if employee.user is not None else ""
        return display(getattr(employee, name))

    def login(self, check: RowCheck, login: str, number: str, found: _StaffLookups) -> int | None:
        user_id = found.users.get(login)
        if user_id is None:
            check.error("username", f"Unknown login {login!r}: create the user first, or leave the cell blank.")
            return None
        owner = found.owners.get(login)
        if owner and owner != number:
            check.error("username", f"The login {login!r} already belongs to employee {owner}.")
        self.once(check, "username", self.seen_logins, login, f"The login {login!r}")
        return user_id

    def manager(self, check: RowCheck, name: str, found: _StaffLookups) -> int | None:
        user_id = found.users.get(name)
        if user_id is None:
            check.error("manager", f"Unknown manager {name!r}: no login has that username.")
        return user_id

    def write(self, planned):
        written = [employee.pk for employee in self.write_rows(planned)]
        self.affected.update(written)
        # Logins follow the roster: made, updated or switched off for this batch's people, in bulk.
        self.report.notes.extend(accounts_provision(employee_ids=written).problems)
        through = Department.managers.through
        pairs = [pair for p in planned for pair in p.manager_pairs]
        if pairs:
            through.objects.bulk_create(
                [through(department_id=department_id, user_id=user_id) for department_id, user_id in pairs],
                ignore_conflicts=True,
            )

    def conclude(self, *, write):
        if self.added_managers:
            departments = Department.objects.in_bulk(list(self.added_managers))
            for department_id, names in sorted(self.added_managers.items()):
                listed = ", ".join(sorted(names))
                self.report.notes.append(f"{listed} will manage {departments[department_id]}.")
                if write:
                    # Department has no history table; the admin log records who granted manager access.
                    LogEntry.objects.log_actions(
                        self.user.pk,
                        [departments[department_id]],
                        CHANGE,
                        change_message=f"Added manager(s) {listed} ({self.reason.lower()})",
                        single_object=True,
                    )
        super().conclude(write=write)
