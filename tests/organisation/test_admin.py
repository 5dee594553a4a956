import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.urls import reverse

from apps.certifications.models import Credential
from apps.organisation.models import Department, Employee, Role
from tests import admin_checks, factories

pytestmark = pytest.mark.django_db

D = datetime.date
MODELS = {"department": Department, "role": Role, "employee": Employee}


def admin_url(model, view="changelist", *args):
    return admin_checks.admin_url("organisation", model, view, *args)


def make_org(count, offset):
    roles = Role.objects.bulk_create(Role(code=f"r{offset + i}", name=f"Role {offset + i}") for i in range(count))
    departments = Department.objects.bulk_create(
        Department(code=f"d{offset + i}", name=f"Dept {offset + i}") for i in range(count)
    )
    managers = [factories.UserFactory(username=f"manager{offset}-{i}") for i in range(2)]
    Department.managers.through.objects.bulk_create(
        Department.managers.through(department=department, user=manager)
        for department in departments
        for manager in managers
    )
    return roles, departments


def make_employees(count, offset):
    roles, departments = make_org(count, offset)
    users = [factories.UserFactory(username=f"staff{offset + i}") for i in range(count)]
    Employee.objects.bulk_create(
        Employee(
            employee_number=f"N{offset + i}",
            first_name="First",
            last_name=f"Last{offset + i}",
            user=user,
            role=role,
            department=department,
            hired_on=D(2020, 1, 1),
            assigned_on=D(2020, 1, 1),
        )
        for i, (user, role, department) in enumerate(zip(users, roles, departments, strict=True))
    )


BUILDERS = {
    "department": make_org,
    "role": make_org,
    "employee": make_employees,
}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.slow  # 500 rows of each model
def test_the_changelist_runs_as_many_queries_for_500_rows_as_for_10(hr, model):
    with_10, with_500 = admin_checks.changelist_queries_at_10_and_500(hr, admin_url(model), BUILDERS[model])

    assert MODELS[model].objects.count() == 500
    assert with_500 == with_10


@pytest.fixture
def nina(hr_admin):
    department = factories.DepartmentFactory(code="icu", name="Intensive care")
    department.managers.add(hr_admin)
    employee = factories.EmployeeFactory(
        employee_number="E4242",
        first_name="Nina",
        last_name="Nightingale",
        email="nina@example.org",
        role=factories.RoleFactory(code="rn", name="Registered nurse"),
        department=department,
    )
    credential = factories.CredentialFactory(employee=employee)
    credential.proof.save("nina.pdf", ContentFile(b"%PDF-1.4"), save=True)
    return employee


def objects(nina):
    return {"department": nina.department, "role": nina.role, "employee": nina}


@pytest.mark.parametrize("model", MODELS)
def test_every_page_renders_for_an_hr_admin(hr, nina, model):
    obj = objects(nina)[model]

    for url in [
        admin_url(model),
        admin_url(model, "add"),
        admin_url(model, "change", obj.pk),
        admin_url(model, "history", obj.pk),
        admin_url(model, "delete", obj.pk),
    ]:
        assert hr.get(url).status_code == 200, url


def test_a_past_version_of_an_employee_renders_from_the_history(hr, nina):
    record = nina.history.first()

    assert hr.get(admin_url("employee", "simple_history", nina.pk, record.history_id)).status_code == 200


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("who", ["anonymous", "charlie", "alice"])
def test_people_who_are_not_staff_are_sent_to_the_admin_login(client, charlie, alice, model, who):
    user = {"anonymous": None, "charlie": charlie, "alice": alice.user}[who]
    admin_checks.assert_sent_to_admin_login(client, admin_url(model), user)


def test_the_employee_page_links_proof_through_the_checked_view_only(hr, nina):
    credential = nina.credentials.get()

    page = hr.get(admin_url("employee", "change", nina.pk)).content.decode()

    assert f'href="{reverse("credential_proof", args=[credential.pk])}"' in page
    assert credential.proof.name not in page


@pytest.mark.parametrize("term", ["Nightingale", "Nina", "E4242", "nina@example.org"])
def test_the_employee_search_finds_by_name_number_and_email(hr, nina, term):
    factories.EmployeeFactory(first_name="Other", last_name="Person")

    found = hr.get(admin_url("employee"), {"q": term}).context["cl"].queryset

    assert list(found) == [nina]


def test_the_employee_list_filters_by_department_and_role(hr, nina):
    factories.EmployeeFactory()

    by_department = hr.get(admin_url("employee"), {"department__id__exact": nina.department_id})
    by_role = hr.get(admin_url("employee"), {"role__id__exact": nina.role_id})

    assert list(by_department.context["cl"].queryset) == [nina]
    assert list(by_role.context["cl"].queryset) == [nina]


@time_machine.travel(datetime.datetime(2026, 1, 15, 12, 0, tzinfo=ZoneInfo("America/New_York")), tick=False)
def test_the_employment_filter_uses_today(hr):
    staying = factories.EmployeeFactory(terminated_on=None)
    last_day_today = factories.EmployeeFactory(terminated_on=D(2026, 1, 15))
    gone = factories.EmployeeFactory(terminated_on=D(2026, 1, 14))

    current = set(hr.get(admin_url("employee"), {"employment": "current"}).context["cl"].queryset)
    left = set(hr.get(admin_url("employee"), {"employment": "left"}).context["cl"].queryset)

    assert current == {staying, last_day_today}
    assert left == {gone}


def test_hr_edits_a_departments_managers(hr):
    department = factories.DepartmentFactory(code="ed", name="Emergency department")
    manager = factories.UserFactory(username="mona")

    response = hr.post(
        admin_url("department", "change", department.pk),
        {"code": "ed", "name": "Emergency department", "managers": [manager.pk]},
    )

    assert response.status_code == 302
    assert list(department.managers.all()) == [manager]


def employee_form(employee, credentials=(), new=()):
    """The POST the employee change page sends: the employee's fields and its credential inline."""
    data = {
        "employee_number": employee.employee_number,
        "first_name": employee.first_name,
        "last_name": employee.last_name,
        "email": employee.email,
        "user": employee.user_id or "",
        "role": employee.role_id,
        "department": employee.department_id,
        "hired_on": employee.hired_on.isoformat(),
        "assigned_on": employee.assigned_on.isoformat(),
        "terminated_on": "",
        "credentials-TOTAL_FORMS": len(credentials) + len(new),
        "credentials-INITIAL_FORMS": len(credentials),
        "credentials-MIN_NUM_FORMS": 0,
        "credentials-MAX_NUM_FORMS": 1000,
    }
    for index, row in enumerate([*credentials, *new]):
        data.update({f"credentials-{index}-{field}": value for field, value in row.items()})
        data[f"credentials-{index}-employee"] = employee.pk
    return data


def test_a_credential_added_on_the_employee_page_is_verified_by_hr(hr, hr_admin, nina):
    acls = factories.CertificationTypeFactory(code="ACLS", validity_months=24)
    existing = nina.credentials.get()
    unchanged_row = {
        "id": existing.pk,
        "certification_type": existing.certification_type_id,
        "issued_on": existing.issued_on.isoformat(),
        "expires_on": existing.expires_on.isoformat(),
        "issuer": existing.issuer,
        "card_number": existing.card_number,
    }
    new_row = {"certification_type": acls.pk, "issued_on": "2025-09-05", "issuer": "AHA", "card_number": "ACLS-1"}

    response = hr.post(admin_url("employee", "change", nina.pk), employee_form(nina, [unchanged_row], [new_row]))

    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    added = nina.credentials.get(certification_type=acls)
    assert (added.verification, added.verified_by, added.expires_on) == (
        Credential.Verification.VERIFIED,
        hr_admin,
        D(2027, 9, 30),
    )
    assert added.history.get().history_user == hr_admin


def test_a_credential_removed_on_the_employee_page_is_deleted(hr, nina):
    existing = nina.credentials.get()
    row = {
        "id": existing.pk,
        "certification_type": existing.certification_type_id,
        "issued_on": existing.issued_on.isoformat(),
        "expires_on": existing.expires_on.isoformat(),
        "DELETE": "on",
    }

    response = hr.post(admin_url("employee", "change", nina.pk), employee_form(nina, [row]))

    assert response.status_code == 302
    assert not nina.credentials.exists()


def test_the_employee_page_refuses_an_assignment_before_hire(hr, nina):
    data = employee_form(nina)
    data["assigned_on"] = "2019-12-31"

    response = hr.post(admin_url("employee", "change", nina.pk), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["assigned_on"] == [
        "The assignment cannot start before the hire date."
    ]


def test_employee_changes_are_recorded_with_the_hr_admin(hr, hr_admin, nina):
    data = employee_form(nina)
    data["last_name"] = "Nightingale-Smith"

    hr.post(admin_url("employee", "change", nina.pk), data)

    latest = nina.history.first()
    assert (latest.last_name, latest.history_user) == ("Nightingale-Smith", hr_admin)
