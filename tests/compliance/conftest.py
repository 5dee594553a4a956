import datetime
from dataclasses import dataclass

import pytest

from apps.compliance import selectors
from apps.organisation.models import Department, Role
from tests import factories
from tests.world import Hospital, card

D = datetime.date


@dataclass
class Catalogue(Hospital):
    teacher: Role  # the hospital school's teachers need CPR and nothing else
    school: Department


@pytest.fixture
def catalogue(hospital):
    """The hospital of tests/world.py, and a role with requirements of its own."""
    teacher = factories.RoleFactory(code="teacher", name="Teacher")
    school = factories.DepartmentFactory(code="SCHOOL", name="Hospital school")
    factories.RequirementFactory(role=teacher, any_of=[hospital.cpr])
    return Catalogue(**vars(hospital), teacher=teacher, school=school)


def ed_nurse(catalogue, *, bls_expires=None, **kwargs):
    """An ED nurse holding BLS (until `bls_expires`, by default 30 September 2027) and ACLS."""
    nurse = factories.EmployeeFactory(role=catalogue.nurse, department=catalogue.ed, **kwargs)
    card(nurse, catalogue.bls, D(2025, 9, 5), bls_expires or D(2027, 9, 30))
    card(nurse, catalogue.acls, D(2025, 9, 5), D(2027, 9, 30))
    return nurse


def stored_status(employee):
    return selectors.current_employee_statuses().get(employee=employee).status
