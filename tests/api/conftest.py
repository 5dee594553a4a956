"""People and a small catalogue for the API tests.

ED is department A (managed by mona; ann works there), ICU is department B (bob works there).
hilda (HR admin) sees everything; charlie has a login and nothing else.
"""

import datetime
from dataclasses import dataclass

import pytest
import time_machine
from django.core.cache import cache
from rest_framework.test import APIClient

from tests import factories

D = datetime.date
TODAY = datetime.datetime(2026, 3, 16, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def fresh_throttle_budget():
    # Throttle counters live in the cache; user ids repeat between tests.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield TODAY.date()


@pytest.fixture
def api():
    return APIClient()


@dataclass
class World:
    catalogue: dict
    ann: object
    bob: object
    mona: object
    ed: object
    icu: object


@pytest.fixture
def world(db, frozen_today):
    cpr = factories.CertificationTypeFactory(code="CPR", name="CPR")
    bls = factories.CertificationTypeFactory(code="BLS", name="Basic Life Support")
    acls = factories.CertificationTypeFactory(code="ACLS", name="ACLS", level="advanced")
    factories.PrerequisiteFactory(certification_type=acls, any_of=[bls, cpr])
    nurse = factories.RoleFactory(code="rn", name="Registered nurse")
    ed = factories.DepartmentFactory(code="ED", name="Emergency")
    icu = factories.DepartmentFactory(code="ICU", name="Intensive care")
    factories.RequirementFactory(role=nurse, any_of=[bls, cpr])
    factories.RequirementFactory(role=nurse, department=ed, any_of=[acls])
    ann = factories.EmployeeFactory(
        user=factories.UserFactory(username="ann"), role=nurse, department=ed, first_name="Ann", last_name="Archer"
    )
    bob = factories.EmployeeFactory(
        user=factories.UserFactory(username="bob"), role=nurse, department=icu, first_name="Bob", last_name="Baker"
    )
    mona = factories.UserFactory(username="mona")
    ed.managers.add(mona)
    for person in (ann, bob):
        factories.CredentialFactory(
            employee=person, certification_type=bls, issued_on=D(2025, 1, 10), expires_on=D(2027, 1, 31)
        )
    return World(
        catalogue={"CPR": cpr, "BLS": bls, "ACLS": acls, "rn": nurse},
        ann=ann,
        bob=bob,
        mona=mona,
        ed=ed,
        icu=icu,
    )


@pytest.fixture
def scanned(world, django_capture_on_commit_callbacks):
    """The world with a current compliance run, as after the nightly scan."""
    from apps.compliance.services import scan_run

    with django_capture_on_commit_callbacks(execute=True):
        scan_run()
    return world


def login(api, user):
    api.force_authenticate(user=user)
    return api
