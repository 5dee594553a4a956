import datetime

import pytest

from apps.compliance import selectors
from tests import factories

D = datetime.date


@pytest.fixture
def catalogue(db):
    cpr = factories.CertificationTypeFactory(code="CPR")
    bls = factories.CertificationTypeFactory(code="BLS")
    acls = factories.CertificationTypeFactory(code="ACLS", level="advanced")
    factories.PrerequisiteFactory(certification_type=acls, any_of=[bls, cpr])
    nurse = factories.RoleFactory(code="rn")
    teacher = factories.RoleFactory(code="teacher")
    ed = factories.DepartmentFactory(code="ed")
    ward = factories.DepartmentFactory(code="ward")
    school = factories.DepartmentFactory(code="school")
    factories.RequirementFactory(role=nurse, any_of=[bls, cpr])
    factories.RequirementFactory(role=nurse, department=ed, any_of=[acls])
    factories.RequirementFactory(role=teacher, any_of=[cpr])
    return {
        "CPR": cpr,
        "BLS": bls,
        "ACLS": acls,
        "rn": nurse,
        "teacher": teacher,
        "ed": ed,
        "ward": ward,
        "school": school,
    }


def ed_nurse(catalogue, *, bls_expires=None, **kwargs):
    bls_expires = bls_expires or D(2027, 9, 30)
    nurse = factories.EmployeeFactory(role=catalogue["rn"], department=catalogue["ed"], **kwargs)
    factories.CredentialFactory(
        employee=nurse, certification_type=catalogue["BLS"], issued_on=D(2025, 9, 5), expires_on=bls_expires
    )
    factories.CredentialFactory(
        employee=nurse, certification_type=catalogue["ACLS"], issued_on=D(2025, 9, 5), expires_on=D(2027, 9, 30)
    )
    return nurse


def stored_status(employee):
    return selectors.current_employee_statuses().get(employee=employee).status
