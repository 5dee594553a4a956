"""Every dashboard and list page runs the same number of queries for a department of 10 or of 1,000."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.certifications.models import Credential
from apps.compliance import services as compliance_services
from apps.core import clock
from apps.organisation.models import Employee
from tests import factories

pytestmark = pytest.mark.django_db

MOST_QUERIES_A_PAGE_MAY_RUN = 30


def grow_department(hospital, size: int) -> None:
    """Bring the Emergency Department to `size` people with a spread of expiry dates, and rescan."""
    today = clock.today()
    missing = size - Employee.objects.filter(department=hospital.ed).count()
    people = Employee.objects.bulk_create(
        factories.EmployeeFactory.build(
            department=hospital.ed, role=hospital.nurse, hired_on=today - datetime.timedelta(days=1000)
        )
        for _ in range(missing)
    )
    Credential.objects.bulk_create(
        factories.CredentialFactory.build(
            employee=person,
            certification_type=kind,
            issued_on=today - datetime.timedelta(days=500),
            expires_on=today + datetime.timedelta(days=(number * 37) % 400 - 60),
            verification=Credential.Verification.PENDING if number % 17 == 0 else Credential.Verification.VERIFIED,
        )
        for number, person in enumerate(people)
        for kind in (hospital.bls, hospital.acls)
    )
    compliance_services.scan_run()


def pages(hospital):
    last_month = clock.today() - datetime.timedelta(days=30)
    return {
        "dashboard": reverse("web:dashboard"),
        "dashboard filtered": reverse("web:dashboard") + f"?department={hospital.ed.pk}&status=expired",
        "dashboard as of a past day": reverse("web:dashboard") + f"?as_of={last_month}",
        "people": reverse("web:employee_list"),
        "people, page 2": reverse("web:employee_list") + "?page=2",
        "needs attention": reverse("web:attention"),
        "expiring": reverse("web:renewals") + "?within=90",
        "forecast": reverse("web:forecast") + "?days=180",
        "audit report": reverse("web:audit_report") + f"?department={hospital.ed.pk}&as_of={last_month}",
        "verification queue": reverse("web:verification_queue"),
        "an employee": reverse("web:employee_detail", args=[hospital.alice.pk]),
        "matrix": reverse("web:matrix"),
        "a matrix cell": reverse("web:matrix_cell") + f"?department={hospital.ed.pk}&certification={hospital.bls.pk}",
        "a training file": reverse("web:person_file", args=[hospital.alice.pk]),
    }


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        assert response.status_code == 200, url
    return len(queries)


@pytest.mark.slow  # a department of 1,000 people, every page rendered twice
@pytest.mark.parametrize("who", ["manager", "hr"])
def test_pages_run_a_fixed_number_of_queries_whatever_the_department_size(client, hospital, who):
    client.force_login(hospital.manager if who == "manager" else hospital.hr)
    urls = pages(hospital)
    if who == "manager":
        del urls["verification queue"]  # HR's page only

    grow_department(hospital, 10)
    small = {name: count_queries(client, url) for name, url in urls.items()}
    grow_department(hospital, 1000)
    large = {name: count_queries(client, url) for name, url in urls.items()}

    assert Employee.objects.filter(department=hospital.ed).count() == 1000
    assert large == small
    assert max(large.values()) <= MOST_QUERIES_A_PAGE_MAY_RUN, large
