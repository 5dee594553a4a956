import pytest
from django.core.cache import cache

from apps.accounts.provisioning import account_sync
from tests import factories


@pytest.fixture(autouse=True)
def fresh_cache():
    # Request counters for "email me a link" live in the cache.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def dora(db):
    """A nurse whose login was made by provisioning: no password, reached only by links and SSO."""
    employee = factories.EmployeeFactory(employee_number="4001", first_name="Dora", email="dora@example.org")
    account_sync(employee=employee)
    return employee
