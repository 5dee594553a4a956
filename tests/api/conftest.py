"""The hospital of tests/world.py for the API tests, on a frozen 16 March 2026.

alice works in the ED (managed by margaret), bob in the ICU; both hold a BLS card until 31 January 2027, and
neither holds ACLS, which the ED needs. hilda (HR admin) sees everything; charlie has a login and nothing else.
"""

import datetime
from dataclasses import dataclass

import pytest
import time_machine
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.organisation.models import Employee
from tests import world as cast
from tests.world import Hospital, build_hospital

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
class World(Hospital):
    alice: Employee
    bob: Employee
    margaret: object


@pytest.fixture
def world(db, frozen_today):
    hospital = build_hospital()
    alice, bob = cast.alice(hospital), cast.bob(hospital)
    for person in (alice, bob):
        cast.card(person, hospital.bls, D(2025, 1, 10), D(2027, 1, 31))
    return World(**vars(hospital), alice=alice, bob=bob, margaret=cast.margaret(hospital))


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
