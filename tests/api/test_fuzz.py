"""Schemathesis against the live API on a live server, as an HR admin's integration token: no server
error, and every response (status, content type, body) as the schema says.

The schema is generated at collection time by the same generator that serves /api/schema/ (one
test per operation); a separate test checks the live server serves exactly that schema.
"""

import json

import pytest
import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.api.services import api_token_issue
from apps.compliance.services import scan_run
from tests import factories
from tests.world import build_hospital, card, nurse

from .conftest import D

pytestmark = pytest.mark.slow  # a live server and hundreds of generated requests

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 25
OPENAPI = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))

schema = schemathesis.openapi.from_dict(OPENAPI)


@pytest.fixture
def hr_token(live_server, transactional_db, settings):
    """A small hospital with a current compliance run, and the token of an HR integration."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "100000/minute", "user": "100000/minute", "anon": "100000/minute"},
    }
    hr = factories.UserFactory(username="hr-integration", is_superuser=True)
    hospital = build_hospital()
    for n in range(3):
        nurse_in_ed = nurse(hospital, "Nurse", f"Number {n}", department=hospital.ed)
        card(nurse_in_ed, hospital.bls, D(2025, 1, 10), D(2027, 1, 10))
    scan_run()
    _, secret = api_token_issue(name="Fuzzing", user=hr, created_by=hr)
    return secret


def test_the_live_server_serves_the_schema_being_fuzzed(live_server, hr_token):
    response = requests.get(
        f"{live_server.url}/api/schema/?format=json", headers={"Authorization": f"Bearer {hr_token}"}, timeout=30
    )

    assert response.json() == OPENAPI


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_honours_its_schema(case, live_server, hr_token):
    case.call_and_validate(
        base_url=live_server.url, headers={"Authorization": f"Bearer {hr_token}"}, checks=CHECKS, timeout=30
    )
