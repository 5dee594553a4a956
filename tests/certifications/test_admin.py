import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.admin import helpers
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.certifications.models import CertificationType, Credential, Prerequisite, Requirement
from apps.organisation.models import Department, Employee, Role
from tests import admin_checks, factories

pytestmark = pytest.mark.django_db

D = datetime.date
PENDING, VERIFIED, REJECTED = Credential.Verification
MODELS = ["certificationtype", "prerequisite", "requirement", "credential"]


def admin_url(model, view="changelist", *args):
    return admin_checks.admin_url("certifications", model, view, *args)


def make_types(count, offset=0, prefix="T"):
    return CertificationType.objects.bulk_create(
        CertificationType(
            code=f"{prefix}{offset + i}", name=f"{prefix} {offset + i}", level="basic", validity_months=24
        )
        for i in range(count)
    )


def make_prerequisites(count, offset=0):
    prerequisites = Prerequisite.objects.bulk_create(
        Prerequisite(certification_type=t) for t in make_types(count, offset, prefix="P")
    )
    needed = make_types(2, offset, prefix="N")
    Prerequisite.any_of.through.objects.bulk_create(
        Prerequisite.any_of.through(prerequisite=p, certificationtype=t) for p in prerequisites for t in needed
    )


def make_org(count, offset):
    roles = Role.objects.bulk_create(Role(code=f"r{offset + i}", name=f"Role {offset + i}") for i in range(count))
    departments = Department.objects.bulk_create(
        Department(code=f"d{offset + i}", name=f"Dept {offset + i}") for i in range(count)
    )
    return roles, departments


def make_requirements(count, offset=0):
    roles, departments = make_org(count, offset)
    types = make_types(2, offset, prefix="R")
    requirements = Requirement.objects.bulk_create(
        Requirement(role=role, department=department if i % 2 else None)
        for i, (role, department) in enumerate(zip(roles, departments, strict=True))
    )
    Requirement.any_of.through.objects.bulk_create(
        Requirement.any_of.through(requirement=r, certificationtype=t) for r in requirements for t in types
    )


def make_employees(count, offset=0):
    roles, departments = make_org(count, offset)
    return Employee.objects.bulk_create(
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


def make_credentials(count, offset=0):
    employees = make_employees(count, offset)
    types = make_types(count, offset, prefix="C")
    verifier = factories.UserFactory(username=f"verifier{offset}")
    Credential.objects.bulk_create(
        Credential(
            employee=employee,
            certification_type=certification_type,
            issued_on=D(2025, 1, 1),
            expires_on=D(2027, 1, 31),
            verification=VERIFIED,
            verified_by=verifier,
            proof=f"proof/card{offset + i}.pdf",
        )
        for i, (employee, certification_type) in enumerate(zip(employees, types, strict=True))
    )


MODEL_CLASSES = {
    "certificationtype": CertificationType,
    "prerequisite": Prerequisite,
    "requirement": Requirement,
    "credential": Credential,
}
BUILDERS = {
    "certificationtype": make_types,
    "prerequisite": make_prerequisites,
    "requirement": make_requirements,
    "credential": make_credentials,
}


@pytest.mark.parametrize("model", MODELS)
def test_the_changelist_runs_as_many_queries_for_500_rows_as_for_10(hr, model):
    with_10, with_500 = admin_checks.changelist_queries_at_10_and_500(hr, admin_url(model), BUILDERS[model])

    assert MODEL_CLASSES[model].objects.count() == 500
    assert with_500 == with_10


@pytest.fixture
def catalogue():
    bls = factories.CertificationTypeFactory(code="BLS", name="Basic Life Support")
    cpr = factories.CertificationTypeFactory(code="CPR", name="Cardiopulmonary Resuscitation")
    acls = factories.CertificationTypeFactory(code="ACLS", name="Advanced Cardiovascular Life Support")
    prerequisite = factories.PrerequisiteFactory(certification_type=acls, any_of=[bls, cpr])
    requirement = factories.RequirementFactory(
        role=factories.RoleFactory(code="rn", name="Registered nurse"), any_of=[bls, cpr]
    )
    credential = factories.CredentialFactory(certification_type=bls, proof="proof/secret-name.pdf")
    return {
        "certificationtype": acls,
        "prerequisite": prerequisite,
        "requirement": requirement,
        "credential": credential,
    }


@pytest.mark.parametrize("model", MODELS)
def test_every_page_renders_for_an_hr_admin(hr, catalogue, model):
    obj = catalogue[model]

    for url in [
        admin_url(model),
        admin_url(model, "add"),
        admin_url(model, "change", obj.pk),
        admin_url(model, "history", obj.pk),
        admin_url(model, "delete", obj.pk),
    ]:
        assert hr.get(url).status_code == 200, url


@pytest.mark.parametrize("model", ["requirement", "credential"])
def test_a_past_version_renders_from_the_history(hr, catalogue, model):
    record = catalogue[model].history.first()

    response = hr.get(admin_url(model, "simple_history", catalogue[model].pk, record.history_id))

    assert response.status_code == 200


@pytest.mark.parametrize("model", MODELS)
def test_the_changelist_search_finds_by_code(hr, catalogue, model):
    response = hr.get(admin_url(model), {"q": "BLS"})

    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


def _not_matching_bls(catalogue):
    """One more row per model that a search for "BLS" must leave out."""
    pals = factories.CertificationTypeFactory(code="PALS", name="Pediatric Advanced Life Support")
    return {
        "certificationtype": pals,
        "prerequisite": factories.PrerequisiteFactory(certification_type=pals, any_of=[catalogue["certificationtype"]]),
        "requirement": factories.RequirementFactory(
            role=factories.RoleFactory(code="doc", name="Physician"), any_of=[pals]
        ),
        "credential": factories.CredentialFactory(certification_type=pals),
    }


@pytest.mark.parametrize("model", MODELS)
def test_the_changelist_search_leaves_out_rows_that_do_not_match(hr, catalogue, model):
    other = _not_matching_bls(catalogue)[model]

    response = hr.get(admin_url(model), {"q": "BLS"})

    found = set(response.context["cl"].result_list)
    assert other not in found
    assert found and all("BLS" in str(row) or model in ("prerequisite", "requirement") for row in found)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("who", ["anonymous", "charlie", "alice"])
def test_people_who_are_not_staff_are_sent_to_the_admin_login(client, charlie, alice, model, who):
    user = {"anonymous": None, "charlie": charlie, "alice": alice.user}[who]
    admin_checks.assert_sent_to_admin_login(client, admin_url(model), user)


def test_staff_without_credential_permissions_are_refused(client):
    client.force_login(factories.UserFactory(username="receptionist", is_staff=True))

    assert client.get(admin_url("credential")).status_code == 403


def test_the_lists_show_the_any_of_sets(hr, catalogue):
    assert "BLS or CPR" in hr.get(admin_url("prerequisite")).content.decode()
    assert "BLS or CPR" in hr.get(admin_url("requirement")).content.decode()


@pytest.fixture
def card_holder():
    return factories.EmployeeFactory(employee_number="E4242", first_name="Nina", last_name="Nurse")


def test_a_credential_added_by_hr_is_verified_by_them_with_the_proposed_expiry(hr, hr_admin, card_holder):
    bls = factories.CertificationTypeFactory(code="BLS", validity_months=24)
    assert hr.get(admin_url("credential", "add")).context["adminform"].form.initial["verification"] == VERIFIED

    response = hr.post(
        admin_url("credential", "add"),
        {
            "employee": card_holder.pk,
            "certification_type": bls.pk,
            "issued_on": "2025-09-05",
            "expires_on": "",
            "issuer": "American Heart Association",
            "card_number": "AHA-1",
            "proof": SimpleUploadedFile("card.pdf", b"%PDF-1.4 nina", content_type="application/pdf"),
            "notes": "",
            "verification": VERIFIED,
        },
    )

    assert response.status_code == 302
    credential = Credential.objects.get()
    assert (credential.verification, credential.verified_by, credential.expires_on) == (
        VERIFIED,
        hr_admin,
        D(2027, 9, 30),
    )
    assert credential.history.get().history_user == hr_admin
    assert response["Location"] == admin_url("credential")


def test_a_credential_added_by_hr_may_be_left_pending(hr, card_holder):
    bls = factories.CertificationTypeFactory(code="BLS")

    hr.post(
        admin_url("credential", "add"),
        {"employee": card_holder.pk, "certification_type": bls.pk, "issued_on": "2025-09-05", "verification": PENDING},
    )

    credential = Credential.objects.get()
    assert (credential.verification, credential.verified_by) == (PENDING, None)


def test_the_add_form_shows_the_expiry_error_next_to_the_field(hr, card_holder):
    bls = factories.CertificationTypeFactory(code="BLS")

    response = hr.post(
        admin_url("credential", "add"),
        {
            "employee": card_holder.pk,
            "certification_type": bls.pk,
            "issued_on": "2025-09-05",
            "expires_on": "2025-09-01",
            "verification": VERIFIED,
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["expires_on"] == [
        "The expiry date cannot be before the issue date."
    ]
    assert not Credential.objects.exists()


def test_the_change_page_links_the_proof_through_the_checked_view_only(hr, catalogue):
    credential = catalogue["credential"]

    page = hr.get(admin_url("credential", "change", credential.pk)).content.decode()

    assert f'href="{reverse("credential_proof", args=[credential.pk])}"' in page
    assert "secret-name" not in page


def test_the_changelist_links_the_proof_through_the_checked_view_only(hr, catalogue):
    credential = catalogue["credential"]

    page = hr.get(admin_url("credential")).content.decode()

    assert f'href="{reverse("credential_proof", args=[credential.pk])}"' in page
    assert "secret-name" not in page


def test_verification_cannot_be_edited_on_the_change_form(hr, hr_admin):
    credential = factories.CredentialFactory(verification=PENDING)
    form = hr.get(admin_url("credential", "change", credential.pk)).context["adminform"].form

    assert "verification" not in form.fields
    assert "employee" not in form.fields


def post_action(client, action, credentials, **extra):
    return client.post(
        admin_url("credential"),
        {"action": action, helpers.ACTION_CHECKBOX_NAME: [c.pk for c in credentials], **extra},
    )


@time_machine.travel(datetime.datetime(2026, 1, 15, 9, 30, tzinfo=ZoneInfo("America/New_York")), tick=False)
def test_the_verify_action_records_the_hr_admin(hr, hr_admin):
    pending = factories.CredentialFactory.create_batch(2, verification=PENDING)
    untouched = factories.CredentialFactory(verification=PENDING)

    response = post_action(hr, "verify_selected", pending)

    assert response.status_code == 302
    for credential in pending:
        credential.refresh_from_db()
        assert (credential.verification, credential.verified_by) == (VERIFIED, hr_admin)
        assert credential.verified_at == datetime.datetime(2026, 1, 15, 14, 30, tzinfo=datetime.UTC)
        assert credential.history.first().history_user == hr_admin
    untouched.refresh_from_db()
    assert untouched.verification == PENDING


def test_the_verify_action_leaves_already_verified_credentials_alone(hr):
    earlier_verifier = factories.UserFactory(username="vera")
    verified = factories.CredentialFactory(verification=VERIFIED, verified_by=earlier_verifier)

    response = post_action(hr, "verify_selected", [verified])

    verified.refresh_from_db()
    assert verified.verified_by == earlier_verifier
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["1 credential(s) were already verified; left as they were."]


def test_the_reject_action_first_asks_for_a_reason(hr):
    pending = factories.CredentialFactory(verification=PENDING)

    response = post_action(hr, "reject_selected", [pending])

    assert response.status_code == 200
    assert "admin/certifications/credential/reject_selected.html" in [t.name for t in response.templates]
    assert str(pending) in response.content.decode()
    pending.refresh_from_db()
    assert pending.verification == PENDING


def test_the_reject_action_refuses_a_blank_reason(hr):
    pending = factories.CredentialFactory(verification=PENDING)

    response = post_action(hr, "reject_selected", [pending], confirm="yes", reason="   ")

    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["This field is required."]
    pending.refresh_from_db()
    assert pending.verification == PENDING


def test_the_reject_action_records_who_and_why(hr, hr_admin):
    pending = factories.CredentialFactory.create_batch(2, verification=PENDING)

    response = post_action(hr, "reject_selected", pending, confirm="yes", reason="Card photo is unreadable")

    assert response.status_code == 302
    for credential in pending:
        credential.refresh_from_db()
        assert (credential.verification, credential.verified_by, credential.rejection_reason) == (
            REJECTED,
            hr_admin,
            "Card photo is unreadable",
        )
        assert credential.history.first().history_user == hr_admin


def test_people_without_change_permission_do_not_get_the_actions(client):
    viewer = factories.UserFactory(username="auditor", is_staff=True)
    viewer.user_permissions.add(*_permissions("view_credential"))
    client.force_login(viewer)
    pending = factories.CredentialFactory(verification=PENDING)

    response = client.get(admin_url("credential"))
    post_action(client, "verify_selected", [pending])

    assert response.status_code == 200
    assert "verify_selected" not in response.content.decode()
    pending.refresh_from_db()
    assert pending.verification == PENDING


def _permissions(*codenames):
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(content_type__app_label="certifications", codename__in=codenames)


@time_machine.travel(datetime.datetime(2026, 1, 15, 12, 0, tzinfo=ZoneInfo("America/New_York")), tick=False)
@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("expired", {"yesterday"}),
        ("30", {"today", "in 30 days"}),
        ("60", {"today", "in 30 days", "in 31 days"}),
        ("90", {"today", "in 30 days", "in 31 days", "in 90 days"}),
    ],
)
def test_the_expiry_filter_selects_by_days_from_today(hr, choice, expected):
    today = D(2026, 1, 15)
    by_label = {}
    for label, expires_on in [
        ("yesterday", today - datetime.timedelta(days=1)),
        ("today", today),
        ("in 30 days", today + datetime.timedelta(days=30)),
        ("in 31 days", today + datetime.timedelta(days=31)),
        ("in 90 days", today + datetime.timedelta(days=90)),
        ("in 91 days", today + datetime.timedelta(days=91)),
        ("never", None),
    ]:
        by_label[label] = factories.CredentialFactory(issued_on=D(2025, 1, 1), expires_on=expires_on).pk

    response = hr.get(admin_url("credential"), {"expiry": choice})

    selected = {credential.pk for credential in response.context["cl"].queryset}
    assert selected == {by_label[label] for label in expected}


def test_the_credential_search_finds_by_name_number_email_and_card(hr):
    nina = factories.EmployeeFactory(
        employee_number="E777", first_name="Nina", last_name="Nightingale", email="nina@example.org"
    )
    hers = factories.CredentialFactory(employee=nina, card_number="AHA-NINA-1")
    factories.CredentialFactory(card_number="AHA-OTHER")

    for term in ["Nightingale", "E777", "nina@example.org", "AHA-NINA-1"]:
        found = {c.pk for c in hr.get(admin_url("credential"), {"q": term}).context["cl"].queryset}
        assert found == {hers.pk}, term
