"""The permission matrix: every endpoint and method, for anonymous, charlie (no scope), alice (staff, ED),
margaret (manager of ED), and hilda (HR). Out of scope answers 404; writes by anyone but HR answer 403."""

import pytest

from apps.compliance.engine import Status
from tests import factories

from .conftest import D

pytestmark = pytest.mark.django_db

V1 = "/api/v1"
LISTS = [
    "departments",
    "roles",
    "employees",
    "certification-types",
    "prerequisites",
    "requirements",
    "credentials",
    "compliance/employees",
    "compliance/departments",
    "compliance/roles",
    "findings",
    "notifications/outbox",
]


def detail_urls(world):
    """One object per resource (all of them visible to HR, alice's department's or her own where it matters)."""
    return {
        "departments": f"{V1}/departments/{world.ed.pk}/",
        "roles": f"{V1}/roles/{world.nurse.pk}/",
        "employees": f"{V1}/employees/{world.alice.pk}/",
        "certification-types": f"{V1}/certification-types/{world.bls.pk}/",
        "prerequisites": f"{V1}/prerequisites/{world.acls.prerequisites.get().pk}/",
        "requirements": f"{V1}/requirements/{world.nurse.requirements.first().pk}/",
        "credentials": f"{V1}/credentials/{world.alice.credentials.get().pk}/",
    }


def every_request(world):
    """(method, url) for every route the API has."""
    credential = world.alice.credentials.get().pk
    yield from (("get", f"{V1}/{name}/") for name in LISTS)
    yield from (("post", f"{V1}/{name}/") for name in LISTS[:7])
    for url in detail_urls(world).values():
        yield from (("get", url), ("put", url), ("patch", url), ("delete", url))
    yield "get", f"{V1}/employees/{world.alice.pk}/compliance/"
    yield "post", f"{V1}/credentials/{credential}/verify/"
    yield "post", f"{V1}/credentials/{credential}/reject/"


def call(api, method, url, data=None):
    return getattr(api, method)(url, data or {}, format="json")


def test_anonymous_is_refused_everywhere_with_401(api, world):
    for method, url in every_request(world):
        response = call(api, method, url)
        assert response.status_code == 401, (method, url)
        assert response["WWW-Authenticate"] == "Bearer"
        assert response.json()["code"] == "not_authenticated"


def test_charlie_without_any_scope_is_refused_everywhere_with_403(api, world, charlie):
    api.force_login(charlie)
    for method, url in every_request(world):
        response = call(api, method, url)
        assert response.status_code == 403, (method, url)
        assert response.json()["code"] == "permission_denied"


def test_hr_reads_everything(api, scanned, hr_admin):
    api.force_login(hr_admin)
    for name in LISTS:
        assert api.get(f"{V1}/{name}/").status_code == 200, name
    for url in detail_urls(scanned).values():
        assert api.get(url).status_code == 200, url
    assert api.get(f"{V1}/employees/{scanned.bob.pk}/compliance/").status_code == 200
    employees = {row["employee_number"] for row in api.get(f"{V1}/employees/").json()["results"]}
    assert employees == {scanned.alice.employee_number, scanned.bob.employee_number}


@pytest.mark.parametrize("username", ["alice", "margaret"])
def test_nobody_but_hr_writes_to_the_catalogue_or_records(api, world, username):
    api.force_login(factories.UserFactory(username=username))
    for method, url in every_request(world):
        if method == "get" or url == f"{V1}/credentials/":
            continue
        response = call(api, method, url)
        assert response.status_code == 403, (method, url)


def test_staff_see_themselves_and_the_catalogue_only(api, scanned):
    world = scanned
    api.force_login(world.alice.user)

    employees = api.get(f"{V1}/employees/").json()["results"]
    assert [row["id"] for row in employees] == [world.alice.pk]
    assert api.get(f"{V1}/employees/{world.bob.pk}/").status_code == 404
    assert api.get(f"{V1}/employees/{world.bob.pk}/compliance/").status_code == 404
    assert api.get(f"{V1}/employees/{world.alice.pk}/compliance/").status_code == 200
    assert api.get(f"{V1}/credentials/{world.bob.credentials.get().pk}/").status_code == 404
    assert {row["employee"] for row in api.get(f"{V1}/credentials/").json()["results"]} == {world.alice.pk}
    assert {row["employee"]["id"] for row in api.get(f"{V1}/findings/").json()["results"]} == {world.alice.pk}
    compliance = api.get(f"{V1}/compliance/employees/").json()["results"]
    assert [row["employee"]["id"] for row in compliance] == [world.alice.pk]
    assert api.get(f"{V1}/departments/").json()["results"] == []
    assert api.get(f"{V1}/departments/{world.ed.pk}/").status_code == 404
    assert api.get(f"{V1}/roles/").json()["count"] == 1
    assert api.get(f"{V1}/certification-types/").json()["count"] == 3


def test_staff_may_not_see_roll_ups(api, scanned):
    api.force_login(scanned.alice.user)
    assert api.get(f"{V1}/compliance/departments/").status_code == 403
    assert api.get(f"{V1}/compliance/roles/").status_code == 403


def test_a_manager_sees_their_department_and_not_the_other(api, scanned):
    world = scanned
    api.force_login(world.margaret)

    assert [row["id"] for row in api.get(f"{V1}/employees/").json()["results"]] == [world.alice.pk]
    assert api.get(f"{V1}/employees/{world.bob.pk}/").status_code == 404
    assert api.get(f"{V1}/employees/{world.bob.pk}/compliance/").status_code == 404
    assert api.get(f"{V1}/employees/{world.bob.pk}/compliance/?as_of=2025-06-01").status_code == 404
    assert api.get(f"{V1}/credentials/{world.bob.credentials.get().pk}/").status_code == 404
    assert {row["employee"] for row in api.get(f"{V1}/credentials/").json()["results"]} == {world.alice.pk}
    assert {row["employee"]["id"] for row in api.get(f"{V1}/findings/").json()["results"]} == {world.alice.pk}
    assert api.get(f"{V1}/findings/?department=ICU").json()["count"] == 0
    compliance = api.get(f"{V1}/compliance/employees/").json()["results"]
    assert [row["employee"]["id"] for row in compliance] == [world.alice.pk]
    past = api.get(f"{V1}/compliance/employees/?as_of=2025-06-01").json()["results"]
    assert [row["employee"]["id"] for row in past] == [world.alice.pk]
    assert [row["code"] for row in api.get(f"{V1}/departments/").json()["results"]] == ["ED"]
    assert api.get(f"{V1}/departments/{world.icu.pk}/").status_code == 404
    rollup = api.get(f"{V1}/compliance/departments/").json()
    assert [row["department"]["code"] for row in rollup["results"]] == ["ED"]
    assert rollup["results"][0]["total"] == 1
    roles = api.get(f"{V1}/compliance/roles/?as_of=2025-06-01").json()["results"]
    assert [(row["role"]["code"], row["total"]) for row in roles] == [("rn", 1)]
    assert api.get(f"{V1}/compliance/departments/?department=ICU").status_code == 400


def test_a_manager_sees_a_transferee_in_their_department_on_a_past_day_only(api, scanned):
    world = scanned
    bob = world.bob
    bob.department, bob.assigned_on = world.ed, D(2026, 1, 5)
    bob.save()
    api.force_login(world.margaret)

    before = api.get(f"{V1}/compliance/employees/?as_of=2025-12-01").json()["results"]
    after = api.get(f"{V1}/compliance/employees/?as_of=2026-02-01").json()["results"]

    assert [row["employee"]["id"] for row in before] == [world.alice.pk]
    assert {row["employee"]["id"] for row in after} == {world.alice.pk, bob.pk}


def test_staff_record_their_own_card_as_pending_and_nobody_elses(api, world):
    api.force_login(world.alice.user)
    card = {"certification_type": "ACLS", "issued_on": "2026-03-01", "verification": "verified"}

    own = api.post(f"{V1}/credentials/", {**card, "employee": world.alice.pk}, format="json")
    other = api.post(f"{V1}/credentials/", {**card, "employee": world.bob.pk}, format="json")

    assert own.status_code == 201
    assert own.json()["verification"] == "pending"
    assert other.status_code == 400
    assert other.json()["fields"] == {"employee": [f"No employee with id {world.bob.pk}."]}
    assert not world.bob.credentials.filter(certification_type__code="ACLS").exists()


def test_a_manager_cannot_record_cards_for_their_staff(api, world):
    api.force_login(world.margaret)
    card = {"employee": world.alice.pk, "certification_type": "ACLS", "issued_on": "2026-03-01"}

    response = api.post(f"{V1}/credentials/", card, format="json")

    assert response.status_code == 403


def test_a_read_only_hr_login_reads_everything_and_writes_nothing(api, world):
    from django.contrib.auth.models import Permission

    auditor = factories.UserFactory(username="audrey")
    auditor.user_permissions.add(Permission.objects.get(codename="view_organisation"))
    api.force_login(auditor)

    assert api.get(f"{V1}/employees/").json()["count"] == 2
    assert api.patch(f"{V1}/employees/{world.bob.pk}/", {"first_name": "Rob"}, format="json").status_code == 403
    card = {"employee": world.bob.pk, "certification_type": "ACLS", "issued_on": "2026-03-01"}
    assert api.post(f"{V1}/credentials/", card, format="json").status_code == 403


def test_hr_writes_everywhere(api, world, hr_admin, django_capture_on_commit_callbacks):
    api.force_login(hr_admin)
    with django_capture_on_commit_callbacks(execute=True):
        role = api.post(f"{V1}/roles/", {"code": "medic", "name": "Paramedic"}, format="json")
        department = api.post(f"{V1}/departments/", {"code": "EMS", "name": "EMS", "managers": ["margaret"]})
        requirement = api.post(
            f"{V1}/requirements/", {"role": "medic", "department": "EMS", "any_of": ["BLS", "ACLS"]}, format="json"
        )
        renamed = api.patch(f"{V1}/employees/{world.bob.pk}/", {"first_name": "Rob"}, format="json")
        verified = api.post(f"{V1}/credentials/{world.bob.credentials.get().pk}/verify/")
        deleted = api.delete(f"{V1}/requirements/{requirement.json()['id']}/")

    assert [r.status_code for r in (role, department, requirement, renamed, verified, deleted)] == [
        201,
        201,
        201,
        200,
        200,
        204,
    ]
    assert department.json()["managers"] == ["margaret"]
    assert sorted(requirement.json()["any_of"]) == ["ACLS", "BLS"]
    world.bob.refresh_from_db()
    assert world.bob.first_name == "Rob"


def test_compliance_statuses_are_in_the_schema_enum(api, scanned, hr_admin):
    api.force_login(hr_admin)
    statuses = {row["status"] for row in api.get(f"{V1}/findings/").json()["results"]}
    assert statuses <= {status.value for status in Status}
