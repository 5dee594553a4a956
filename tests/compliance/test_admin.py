"""The compliance results admin (apps/compliance/admin.py): read-only pages for HR."""

import datetime

import pytest
from django.utils import timezone

from apps.certifications.models import CertificationType, Credential, Requirement
from apps.compliance.models import ComplianceRun, CredentialFinding, EmployeeStatus, RequirementStatus, Snapshot
from apps.organisation.models import Department, Employee, Role
from tests import admin_checks, factories

pytestmark = pytest.mark.django_db

D = datetime.date
MODELS = {
    "compliancerun": ComplianceRun,
    "employeestatus": EmployeeStatus,
    "requirementstatus": RequirementStatus,
    "credentialfinding": CredentialFinding,
    "snapshot": Snapshot,
}


def admin_url(model, view="changelist", *args):
    return admin_checks.admin_url("compliance", model, view, *args)


TODAY = D(2026, 1, 15)


def complete_run(as_of=TODAY):
    return ComplianceRun.objects.create(
        as_of=as_of, state=ComplianceRun.State.COMPLETE, finished_at=timezone.now(), employee_count=1
    )


def make_world(count, offset):
    """`count` employees, each with their own role, department, requirement (an any-of pair) and credential."""
    roles = Role.objects.bulk_create(Role(code=f"r{offset + i}", name=f"Role {offset + i}") for i in range(count))
    departments = Department.objects.bulk_create(
        Department(code=f"d{offset + i}", name=f"Dept {offset + i}") for i in range(count)
    )
    pair = CertificationType.objects.bulk_create(
        CertificationType(code=f"{code}{offset}", name=f"{code} {offset}", level="basic", validity_months=24)
        for code in ("BLS", "CPR")
    )
    employees = Employee.objects.bulk_create(
        Employee(
            employee_number=f"N{offset + i}",
            first_name="First",
            last_name=f"Last{offset + i}",
            role=role,
            department=department,
            hired_on=D(2020, 1, 1),
            assigned_on=D(2020, 1, 1),
        )
        for i, (role, department) in enumerate(zip(roles, departments, strict=True))
    )
    requirements = Requirement.objects.bulk_create(
        Requirement(role=role, department=department) for role, department in zip(roles, departments, strict=True)
    )
    Requirement.any_of.through.objects.bulk_create(
        Requirement.any_of.through(requirement=r, certificationtype=t) for r in requirements for t in pair
    )
    credentials = Credential.objects.bulk_create(
        Credential(employee=e, certification_type=pair[0], issued_on=D(2025, 1, 1), expires_on=D(2027, 1, 31))
        for e in employees
    )
    return employees, requirements, credentials


def make_runs(count, offset):
    ComplianceRun.objects.bulk_create(
        ComplianceRun(as_of=D(2025, 1, 1) + datetime.timedelta(days=offset + i), state="complete") for i in range(count)
    )


def make_employee_statuses(count, offset):
    run = complete_run()
    employees, _, _ = make_world(count, offset)
    EmployeeStatus.objects.bulk_create(
        EmployeeStatus(run=run, employee=e, status="compliant", computed_at=timezone.now()) for e in employees
    )


def make_requirement_statuses(count, offset):
    run = complete_run()
    employees, requirements, credentials = make_world(count, offset)
    RequirementStatus.objects.bulk_create(
        RequirementStatus(
            run=run,
            employee=e,
            requirement=r,
            mandatory=True,
            status="compliant",
            reason="Holds BLS until 2027-01-31.",
            credential=c,
            expires_on=c.expires_on,
            computed_at=timezone.now(),
        )
        for e, r, c in zip(employees, requirements, credentials, strict=True)
    )


def make_findings(count, offset):
    run = complete_run()
    employees, _, credentials = make_world(count, offset)
    CredentialFinding.objects.bulk_create(
        CredentialFinding(run=run, employee=e, credential=c, kind="prerequisite_not_current_at_issue", message="No BLS")
        for e, c in zip(employees, credentials, strict=True)
    )


def make_snapshots(count, offset):
    Snapshot.objects.bulk_create(
        Snapshot(
            day=D(2025, 1, 1) + datetime.timedelta(days=offset + i),
            dimension="organisation",
            key=0,
            total=4,
            counts={"compliant": 3, "expired": 1},
        )
        for i in range(count)
    )


BUILDERS = {
    "compliancerun": make_runs,
    "employeestatus": make_employee_statuses,
    "requirementstatus": make_requirement_statuses,
    "credentialfinding": make_findings,
    "snapshot": make_snapshots,
}


@pytest.mark.parametrize("model", MODELS)
def test_the_changelist_runs_as_many_queries_for_500_rows_as_for_10(hr, model):
    with_10, with_500 = admin_checks.changelist_queries_at_10_and_500(hr, admin_url(model), BUILDERS[model])

    assert MODELS[model].objects.count() >= 500
    assert with_500 == with_10


@pytest.fixture
def results():
    run = complete_run()
    acls = factories.CertificationTypeFactory(code="ACLS")
    credential = factories.CredentialFactory(certification_type=acls)
    requirement = factories.RequirementFactory(role=credential.employee.role, any_of=[acls])
    return {
        "compliancerun": run,
        "employeestatus": EmployeeStatus.objects.create(
            run=run, employee=credential.employee, status="prerequisite_lapsed", computed_at=timezone.now()
        ),
        "requirementstatus": RequirementStatus.objects.create(
            run=run,
            employee=credential.employee,
            requirement=requirement,
            mandatory=True,
            status="prerequisite_lapsed",
            reason="ACLS counts only while BLS or CPR is current.",
            credential=credential,
            computed_at=timezone.now(),
        ),
        "credentialfinding": CredentialFinding.objects.create(
            run=run, employee=credential.employee, credential=credential, kind="no_prerequisite", message="No BLS"
        ),
        "snapshot": Snapshot.objects.create(
            day=D(2026, 1, 15), dimension="organisation", key=0, total=2, counts={"compliant": 1, "expired": 1}
        ),
    }


@pytest.mark.parametrize("model", MODELS)
def test_every_page_renders_read_only_for_an_hr_admin(hr, results, model):
    obj = results[model]

    assert hr.get(admin_url(model)).status_code == 200
    assert hr.get(admin_url(model, "history", obj.pk)).status_code == 200
    change_page = hr.get(admin_url(model, "change", obj.pk))
    assert change_page.status_code == 200
    assert change_page.context["has_change_permission"] is False
    assert 'name="_save"' not in change_page.content.decode()


@pytest.mark.parametrize("model", MODELS)
def test_nobody_adds_changes_or_deletes_results_by_hand(hr, results, model):
    obj = results[model]

    assert hr.get(admin_url(model, "add")).status_code == 403
    assert hr.post(admin_url(model, "change", obj.pk), {}).status_code == 403
    assert hr.post(admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert MODELS[model].objects.filter(pk=obj.pk).exists()


def test_the_snapshot_list_shows_the_compliance_rate(hr, results):
    assert "50%" in hr.get(admin_url("snapshot")).content.decode()


def test_statuses_filter_by_run(hr, results):
    older = complete_run(as_of=D(2026, 1, 14))
    EmployeeStatus.objects.create(
        run=older, employee=results["employeestatus"].employee, status="compliant", computed_at=timezone.now()
    )

    response = hr.get(admin_url("employeestatus"), {"run": results["compliancerun"].pk})

    assert list(response.context["cl"].queryset) == [results["employeestatus"]]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("who", ["anonymous", "charlie", "alice"])
def test_people_who_are_not_staff_are_sent_to_the_admin_login(client, charlie, alice, model, who):
    user = {"anonymous": None, "charlie": charlie, "alice": alice.user}[who]
    admin_checks.assert_sent_to_admin_login(client, admin_url(model), user)
