"""HR's "Data problems" list: who a batch job skipped and why; read-only, flat queries, HR only."""

import pytest

from apps.organisation import problems
from apps.organisation.models import DataProblem
from tests import factories
from tests.admin_checks import admin_url, assert_sent_to_admin_login, changelist_queries_at_10_and_500

pytestmark = pytest.mark.django_db
URL = admin_url("organisation", "dataproblem")


def test_hr_sees_who_was_skipped_and_why(hr):
    bob = factories.EmployeeFactory(last_name="Baker")
    problems.problems_record(source=DataProblem.Source.PLANNING, problems={bob.pk: "DataError: out of range"})

    response = hr.get(URL)

    assert response.status_code == 200
    assert b"Baker" in response.content
    assert b"DataError: out of range" in response.content
    assert b"Reminder planning" in response.content


def test_nobody_edits_or_adds_problems_and_hr_dismisses_one_once_checked(hr):
    bob = factories.EmployeeFactory()
    problems.problems_record(source=DataProblem.Source.SCAN, problems={bob.pk: "x"})
    entry = DataProblem.objects.get()

    assert hr.get(admin_url("organisation", "dataproblem", "add")).status_code == 403
    assert hr.post(admin_url("organisation", "dataproblem", "change", entry.pk), {"reason": "y"}).status_code == 403
    hr.post(admin_url("organisation", "dataproblem", "delete", entry.pk), {"post": "yes"})
    assert not DataProblem.objects.exists()


@pytest.mark.slow  # a big population
def test_the_list_costs_the_same_queries_at_any_size(hr):
    def build(count, offset):
        people = factories.EmployeeFactory.create_batch(count)
        problems.problems_record(source=DataProblem.Source.SCAN, problems={p.pk: "reason" for p in people})

    at_10, at_500 = changelist_queries_at_10_and_500(hr, URL, build)

    assert at_10 == at_500


def test_charlie_is_sent_to_the_admin_login(client, charlie):
    assert_sent_to_admin_login(client, URL, charlie)


def test_recording_again_refreshes_the_reason_and_clearing_forgets_it():
    bob = factories.EmployeeFactory()
    source = DataProblem.Source.DIGEST

    problems.problems_record(source=source, problems={bob.pk: "first"})
    problems.problems_record(source=source, problems={bob.pk: "second"})
    assert list(DataProblem.objects.values_list("reason", flat=True)) == ["second"]

    problems.problems_clear(source=source, employee_ids=[bob.pk])
    assert not DataProblem.objects.exists()
