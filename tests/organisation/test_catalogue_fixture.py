import datetime

import pytest
from django.core.management import call_command

from apps.certifications.models import CertificationType, Prerequisite, Requirement
from apps.compliance import engine, selectors
from apps.organisation.models import Department, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    call_command("loaddata", "fixtures/catalogue.json", verbosity=0)


def needs(role: str, department: str) -> set[frozenset[str]]:
    """The any-of sets an employee with this role in this department must hold, as sets of codes."""
    rules = selectors.load_catalogue()
    role_id = Role.objects.get(code=role).id
    department_id = Department.objects.get(code=department).id
    return {frozenset(rules.types[t].code for t in r.any_of) for r in rules.requirements_for(role_id, department_id)}


def test_it_holds_the_six_certifications_with_their_validity(catalogue):
    types = {t.code: t for t in CertificationType.objects.all()}

    assert set(types) == {"CPR", "BLS", "ACLS", "PALS", "NRP", "ATLS"}
    assert {code: t.validity_months for code, t in types.items()} == {
        "CPR": 24,
        "BLS": 24,
        "ACLS": 24,
        "PALS": 24,
        "NRP": 24,
        "ATLS": 48,
    }
    assert {code: t.level for code, t in types.items()} == {
        "CPR": "basic",
        "BLS": "basic",
        "ACLS": "advanced",
        "PALS": "specialty",
        "NRP": "specialty",
        "ATLS": "specialty",
    }
    assert types["ACLS"].name == "Advanced Cardiovascular Life Support"
    for card in types.values():
        assert card.expires and card.expires_at_month_end
        assert card.renewal_window_days == 90
        assert card.renewal_guidance and card.renewal_url.startswith("https://")
        card.full_clean()


def test_acls_needs_bls_or_cpr_and_pals_needs_bls(catalogue):
    sets = {
        p.certification_type.code: (frozenset(t.code for t in p.any_of.all()), p.must_stay_current)
        for p in Prerequisite.objects.all()
    }

    assert sets == {"ACLS": (frozenset({"BLS", "CPR"}), True), "PALS": (frozenset({"BLS"}), True)}


@pytest.mark.parametrize(
    ("role", "department", "expected"),
    [
        ("registered-nurse", "ED", {"BLS CPR", "ACLS"}),
        ("registered-nurse", "ICU", {"BLS CPR", "ACLS"}),
        ("registered-nurse", "TELE", {"BLS CPR", "ACLS"}),
        ("registered-nurse", "MEDSURG", {"BLS CPR"}),
        ("registered-nurse", "NICU", {"BLS CPR", "NRP"}),
        ("registered-nurse", "LD", {"BLS CPR", "NRP"}),
        ("registered-nurse", "NURSERY", {"BLS CPR", "NRP"}),
        ("paramedic", "EMS", {"BLS", "ACLS"}),
        ("medical-assistant", "CLINIC", {"BLS CPR"}),
        ("physician", "CLINIC", {"BLS", "ACLS"}),
        ("physician", "PEDS", {"BLS", "ACLS", "PALS"}),
        ("physician", "TRAUMA", {"BLS", "ACLS", "ATLS"}),
        ("physician", "SURGERY", {"BLS", "ACLS", "ATLS"}),
        ("physician", "NICU", {"BLS", "ACLS", "NRP"}),
        ("nurse-practitioner", "ICU", {"BLS", "ACLS"}),
        ("physician-assistant", "CARDIOLOGY", {"BLS", "ACLS"}),
        ("nurse-practitioner", "LD", {"NRP"}),
        ("teacher", "SCHOOL", {"CPR"}),
        ("coach", "FITNESS", {"CPR"}),
        ("fitness-trainer", "FITNESS", {"CPR"}),
        ("security-officer", "SECURITY", {"CPR"}),
        ("childcare-provider", "CHILDCARE", {"CPR"}),
    ],
)
def test_it_holds_the_articles_who_needs_what_table(catalogue, role, department, expected):
    assert needs(role, department) == {frozenset(item.split()) for item in expected}


def test_every_requirement_is_mandatory_and_due_within_30_days(catalogue):
    assert Requirement.objects.count() == 37
    assert set(Requirement.objects.values_list("mandatory", "due_within_days")) == {(True, 30)}


def test_acls_alone_never_satisfies_a_bls_or_cpr_requirement(catalogue):
    """ACLS does not re-teach CPR: an ED nurse holding only ACLS still misses BLS-or-CPR."""
    rules = selectors.load_catalogue()
    type_ids = {t.code: t.id for t in rules.types.values()}
    nurse = engine.EmployeeFacts(
        id=1,
        role_id=Role.objects.get(code="registered-nurse").id,
        department_id=Department.objects.get(code="ED").id,
        assigned_on=datetime.date(2020, 1, 6),
        credentials=(
            engine.CredentialFact(1, type_ids["ACLS"], datetime.date(2025, 9, 5), datetime.date(2027, 9, 30)),
        ),
    )

    result = engine.evaluate_employee(nurse, rules, datetime.date(2026, 1, 15))

    codes = {r.id: frozenset(rules.types[t].code for t in r.any_of) for r in rules.requirements}
    statuses = {codes[r.requirement_id]: r.status for r in result.requirements}
    assert statuses[frozenset({"BLS", "CPR"})] == engine.Status.MISSING


def test_loading_it_twice_changes_nothing(catalogue):
    before = (CertificationType.objects.count(), Requirement.objects.count(), Role.objects.count())

    call_command("loaddata", "fixtures/catalogue.json", verbosity=0)

    assert (CertificationType.objects.count(), Requirement.objects.count(), Role.objects.count()) == before
