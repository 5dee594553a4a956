"""Figures that reconcile: on a seeded demo, the same question gives the same number on the dashboard, the
attention page, the API and the stored results, and each figure counts what its label says."""

import datetime
from collections import Counter

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.urls import reverse
from rest_framework.test import APIClient

from apps.compliance import services as compliance_services
from apps.compliance.engine import Status
from apps.compliance.models import EmployeeStatus, RequirementStatus
from apps.demo import workforce as demo
from apps.web.selectors import ATTENTION_STATUSES

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    with time_machine.travel(datetime.datetime(2026, 3, 10, 17, 0, tzinfo=datetime.UTC), tick=False):
        report = demo.demo_workforce_create(employees=300, seed=11)
        compliance_services.scan_run()
        yield report


def test_the_same_question_gives_the_same_number_everywhere(client, seeded):
    hr = get_user_model().objects.get(username=demo.HR_USERNAME)
    client.force_login(hr)
    api = APIClient()
    api.force_authenticate(hr)

    dashboard = client.get(reverse("web:dashboard")).context["overview"]
    stored_people = Counter(dict(EmployeeStatus.objects.values_list("status").annotate(n=Count("id")).order_by()))
    rollup = Counter()
    for row in api.get("/api/v1/compliance/departments/", {"page_size": 500}).json()["results"]:
        rollup.update({status: n for status, n in row["counts"].items() if n})

    # People by status: dashboard, API roll-up and the stored results agree.
    assert dict(dashboard.everyone.counts) == dict(stored_people) == dict(rollup)
    assert dashboard.everyone.total == seeded.employees - seeded.situations["terminated"]
    assert dashboard.everyone.not_compliant == sum(n for s, n in stored_people.items() if not Status(s).is_compliant)

    # Requirements needing attention: rows, the same on the dashboard and the attention page.
    attention_rows = RequirementStatus.objects.filter(mandatory=True, status__in=ATTENTION_STATUSES).count()
    assert dashboard.attention_total == attention_rows
    assert client.get(reverse("web:attention")).context["page"].paginator.count == attention_rows
