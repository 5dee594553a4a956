"""A past day is answered with the catalogue as it stood then, on every page and in the API: a requirement HR
has changed or deleted since reads as it was (never looked up in today's table), and says which catalogue
applied."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.compliance import timeline_store
from tests import factories

pytestmark = pytest.mark.django_db
D = datetime.date
PAST = D(2026, 3, 1)


def noon(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


@pytest.fixture
def changed_since(hr_admin):
    """ED nurses needed "BLS or CPR" and ACLS. On 2026-06-01 HR narrowed the first to BLS and deleted the
    second. Nina's ACLS lapsed at the end of January 2026; today is 2026-09-01."""
    with time_machine.travel(noon(D(2026, 9, 1)), tick=False):
        bls = factories.CertificationTypeFactory(code="BLS")
        cpr = factories.CertificationTypeFactory(code="CPR")
        acls = factories.CertificationTypeFactory(code="ACLS", level="advanced")
        nurse = factories.RoleFactory(code="rn")
        ed = factories.DepartmentFactory(code="ed", name="Emergency")
        basic = factories.RequirementFactory(role=nurse, any_of=[bls, cpr])
        advanced = factories.RequirementFactory(role=nurse, department=ed, any_of=[acls])
        nina = factories.EmployeeFactory(
            role=nurse, department=ed, hired_on=D(2020, 1, 6), first_name="Nina", last_name="Nagy"
        )
        factories.CredentialFactory(
            employee=nina, certification_type=bls, issued_on=D(2025, 9, 5), expires_on=D(2027, 9, 30)
        )
        factories.CredentialFactory(
            employee=nina, certification_type=acls, issued_on=D(2024, 1, 5), expires_on=D(2026, 1, 31)
        )
    advanced_id = advanced.pk
    with time_machine.travel(noon(D(2026, 6, 1)), tick=False):
        basic.any_of.set([bls])
        advanced.delete()
    with time_machine.travel(noon(D(2026, 9, 1)), tick=False):
        yield {"nina": nina, "ed": ed, "advanced_id": advanced_id}


def test_the_audit_report_applies_the_days_catalogue_and_names_it(client, hr_admin, changed_since):
    client.force_login(hr_admin)
    page = client.get(
        reverse("web:audit_report"), {"department": changed_since["ed"].pk, "as_of": PAST.isoformat()}
    ).content.decode()

    assert "BLS or CPR" in page  # the set as it stood, not today's "BLS"
    assert "ACLS" in page and "Expired" in page  # the requirement deleted since still applied that day
    assert "As changed on Jan 1, 2000, the last change on or before Mar 1, 2026" in page
    after = client.get(
        reverse("web:audit_report"), {"department": changed_since["ed"].pk, "as_of": "2026-07-01"}
    ).content.decode()
    assert "As changed on Jun 1, 2026" in after and "BLS or CPR" not in after


def test_the_person_file_and_the_api_read_requirements_as_they_stood(client, hr_admin, changed_since):
    nina = changed_since["nina"]
    client.force_login(hr_admin)
    page = client.get(reverse("web:person_file", args=[nina.pk]), {"as_of": PAST.isoformat()})
    assert page.status_code == 200
    body = page.content.decode()
    assert "BLS or CPR" in body and "ACLS" in body

    api = APIClient()
    api.force_authenticate(hr_admin)
    answer = api.get(f"/api/v1/employees/{nina.pk}/compliance/", {"as_of": PAST.isoformat()}).json()
    assert sorted(row["certifications"] for row in answer["requirements"]) == [["ACLS"], ["BLS", "CPR"]]
    listed = api.get("/api/v1/compliance/employees/", {"as_of": PAST.isoformat()}).json()["results"]
    assert sorted(row["certifications"] for row in listed[0]["requirements"]) == [["ACLS"], ["BLS", "CPR"]]


def test_gaps_and_the_dashboard_keep_a_requirement_deleted_since(client, hr_admin, changed_since):
    timeline_store.rebuild_all()
    client.force_login(hr_admin)
    api = APIClient()
    api.force_authenticate(hr_admin)

    gaps = api.get("/api/v1/compliance/gaps/", {"start": "2026-02-01", "end": "2026-05-31"}).json()["results"]
    assert [(row["requirement"], row["certifications"], row["days"]) for row in gaps] == [
        (changed_since["advanced_id"], ["ACLS"], 120)
    ]
    report = client.get(
        reverse("web:audit_report"),
        {"department": changed_since["ed"].pk, "as_of": "2026-05-31", "window_start": "2026-02-01"},
    ).context["report"]
    assert [(row.requirement.codes, row.days) for row in report.gaps.rows] == [(("ACLS",), 120)]
    response = client.get(reverse("web:dashboard"), {"as_of": PAST.isoformat()})
    assert "People employed that day" in response.content.decode()
    overview = response.context["overview"]
    assert overview.attention_total == 1
    assert [row.requirement.codes for row in overview.attention] == [("ACLS",)]
