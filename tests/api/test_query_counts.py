"""Every list endpoint runs the same number of queries for a page of 5 as for a page of 100."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.compliance.services import scan_run
from tests import factories

from .conftest import D

pytestmark = pytest.mark.django_db

V1 = "/api/v1"
ENDPOINTS = [
    ("departments", "departments/"),
    ("roles", "roles/"),
    ("employees", "employees/"),
    ("certification types", "certification-types/"),
    ("prerequisites", "prerequisites/"),
    ("requirements", "requirements/"),
    ("credentials", "credentials/"),
    ("stored compliance", "compliance/employees/"),
    ("computed compliance", "compliance/employees/?as_of=2026-01-05"),
    ("findings", "findings/"),
    ("findings by certification", "findings/?certification=BLS&compliant=true"),
]
ROLLUPS = [
    "compliance/departments/",
    "compliance/departments/?as_of=2026-01-05&forecast=90",
    "compliance/roles/?forecast=90",
]


def grow_to(size: int, existing: int) -> None:
    """`size` of everything: departments, roles, certification types, prerequisites, requirements,
    employees with their cards (and the stored results of a scan over them)."""
    bls = factories.CertificationTypeFactory(code="BLS")
    for n in range(existing, size):
        manager = factories.UserFactory()
        department = factories.DepartmentFactory(code=f"dept-{n}")
        department.managers.add(manager)
        role = factories.RoleFactory(code=f"role-{n}")
        extra = factories.CertificationTypeFactory(code=f"X{n}")
        factories.PrerequisiteFactory(certification_type=extra, any_of=[bls])
        factories.RequirementFactory(role=role, department=department, any_of=[bls, extra])
        employee = factories.EmployeeFactory(role=role, department=department, hired_on=D(2019, 1, 7))
        factories.CredentialFactory(
            employee=employee, certification_type=bls, issued_on=D(2025, 1, 10), expires_on=D(2027, 1, 31)
        )


def page(api, url: str, size: int):
    separator = "&" if "?" in url else "?"
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"{V1}/{url}{separator}page_size={size}")
    assert response.status_code == 200, (url, response.content[:300])
    return response.json(), len(queries)


@pytest.mark.slow  # a big population of everything
def test_lists_run_a_fixed_number_of_queries(api, hr_admin, frozen_today, django_capture_on_commit_callbacks):
    api.force_login(hr_admin)
    counts = {}
    for size, existing in ((5, 0), (100, 5)):
        grow_to(size, existing)
        scan_run()
        for name, url in ENDPOINTS:
            body, queries = page(api, url, size)
            assert len(body["results"]) == size, (name, size)
            counts.setdefault(name, []).append(queries)
        for url in ROLLUPS:
            body, queries = page(api, url, size)
            assert sum(row["total"] for row in body["results"]) == size, url
            counts.setdefault(url, []).append(queries)
    assert {name: small for name, (small, large) in counts.items() if small != large} == {}, counts
    assert max(small for small, _ in counts.values()) <= 20, counts


def test_employee_compliance_runs_a_fixed_number_of_queries(api, hr_admin, frozen_today):
    grow_to(3, 0)
    role, department = factories.RoleFactory(code="role-0"), factories.DepartmentFactory(code="dept-0")
    few, many = (factories.EmployeeFactory(role=role, department=department) for _ in range(2))
    for n in range(20):
        factories.CredentialFactory(employee=many, issued_on=D(2024, 1, 1 + n))
    scan_run()
    api.force_login(hr_admin)

    for query in ("", "?as_of=2025-06-01", "?forecast=365", "?as_of=2025-06-01&forecast=90"):
        counts = []
        for employee in (few, many):
            with CaptureQueriesContext(connection) as queries:
                assert api.get(f"{V1}/employees/{employee.pk}/compliance/{query}").status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1] <= 21, (query, counts)  # 21: with as_of, a look-up of the periods horizon
