"""One small hospital and one cast for every test package (as healthchecks' hc/test.py gives its tests one).

The catalogue: CPR; BLS; ACLS (advanced), which needs BLS or CPR first. Every registered nurse needs BLS or CPR;
nurses in the Emergency Department need ACLS as well. Three departments: the Emergency Department (ED), the
Intensive Care Unit (ICU) and the Medical ward (WARD).

The cast, made by the helpers below when a test needs them (dates stay the test's own: each package freezes its
own day):
- hilda, the HR admin, and charlie, a login with no role at all (the `hr_admin` and `charlie` fixtures);
- margaret (Margaret Moss), the manager: of the ED unless a test hands her other departments;
- alice (Alice Adams), a staff nurse in the ED with a login; edgar (Edgar Evans), an ED nurse without one;
- bob (Bob Brown), an ICU nurse with a login; ivy (Ivy Irwin), an ICU nurse who never held BLS.
Anyone else a test needs is a `nurse(...)` of its own, named for what the test is about.
"""

import datetime
from dataclasses import dataclass

from apps.certifications.models import CertificationType, Credential, Requirement
from apps.organisation.models import Department, Employee, Role
from tests import factories


@dataclass
class Hospital:
    cpr: CertificationType
    bls: CertificationType
    acls: CertificationType
    nurse: Role
    ed: Department
    icu: Department
    ward: Department
    basic: Requirement  # every nurse: BLS or CPR
    advanced: Requirement  # nurses in the ED: ACLS


def build_hospital() -> Hospital:
    cpr = factories.CertificationTypeFactory(code="CPR", name="Cardiopulmonary Resuscitation")
    bls = factories.CertificationTypeFactory(
        code="BLS",
        name="Basic Life Support",
        renewal_guidance="Book a BLS renewal with an AHA training centre.",
        renewal_url="https://cpr.heart.org/bls",
    )
    acls = factories.CertificationTypeFactory(
        code="ACLS", name="Advanced Cardiovascular Life Support", level=CertificationType.Level.ADVANCED
    )
    factories.PrerequisiteFactory(certification_type=acls, any_of=[bls, cpr])
    nurse = factories.RoleFactory(code="rn", name="Registered nurse")
    ed = factories.DepartmentFactory(code="ED", name="Emergency Department")
    icu = factories.DepartmentFactory(code="ICU", name="Intensive Care Unit")
    ward = factories.DepartmentFactory(code="WARD", name="Medical ward")
    return Hospital(
        cpr=cpr,
        bls=bls,
        acls=acls,
        nurse=nurse,
        ed=ed,
        icu=icu,
        ward=ward,
        basic=factories.RequirementFactory(role=nurse, any_of=[bls, cpr]),
        advanced=factories.RequirementFactory(role=nurse, department=ed, any_of=[acls]),
    )


def nurse(hospital: Hospital, first: str, last: str, *, department: Department, username=None, **kwargs) -> Employee:
    """A registered nurse in `department`; with `username`, a login of that name too (password "password")."""
    user = factories.UserFactory(username=username) if username else None
    return factories.EmployeeFactory(
        first_name=first, last_name=last, role=hospital.nurse, department=department, user=user, **kwargs
    )


def alice(hospital: Hospital, **kwargs) -> Employee:
    return nurse(hospital, "Alice", "Adams", department=hospital.ed, username="alice", **kwargs)


def edgar(hospital: Hospital, **kwargs) -> Employee:
    return nurse(hospital, "Edgar", "Evans", department=hospital.ed, **kwargs)


def bob(hospital: Hospital, **kwargs) -> Employee:
    return nurse(hospital, "Bob", "Brown", department=hospital.icu, username="bob", **kwargs)


def ivy(hospital: Hospital, **kwargs) -> Employee:
    return nurse(hospital, "Ivy", "Irwin", department=hospital.icu, **kwargs)


def margaret(hospital: Hospital, *departments: Department):
    """The manager's login: she manages the ED, or the `departments` given."""
    user = factories.UserFactory(
        username="margaret", first_name="Margaret", last_name="Moss", email="margaret@example.org"
    )
    for department in departments or (hospital.ed,):
        department.managers.add(user)
    return user


def card(employee: Employee, kind: CertificationType, issued_on: datetime.date, expires_on) -> Credential:
    """A verified card of `kind`, held by `employee` from `issued_on` to `expires_on`."""
    return factories.CredentialFactory(
        employee=employee, certification_type=kind, issued_on=issued_on, expires_on=expires_on
    )
