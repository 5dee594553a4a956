"""One person's bad data never stops the scan: they are skipped, logged and listed for HR.

The engine copes with every date Python can hold (tests/notifications/test_isolation.py breaks planning
with a real out-of-range row); here the engine is made to fail for one person, as a future bug would.
"""

import datetime

import pytest

from apps.certifications.models import Credential
from apps.compliance import engine, services
from apps.compliance.engine import Status
from apps.organisation.models import DataProblem
from tests.compliance.conftest import ed_nurse, stored_status

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def alice_and_broken_bob(catalogue, monkeypatch):
    alice = ed_nurse(catalogue)
    bob = ed_nurse(catalogue)
    evaluate = engine.evaluate_employee

    def fails_for_bob(facts, *args):
        if facts.id == bob.pk and Credential.objects.filter(employee=bob, issuer="broken").exists():
            raise OverflowError("date value out of range")
        return evaluate(facts, *args)

    monkeypatch.setattr(engine, "evaluate_employee", fails_for_bob)
    Credential.objects.filter(employee=bob).update(issuer="broken")
    return alice, bob


def test_the_scan_skips_a_person_it_cannot_evaluate(alice_and_broken_bob, caplog):
    alice, bob = alice_and_broken_bob

    run = services.scan_run()

    assert run.state == "complete"
    assert stored_status(alice) == Status.COMPLIANT
    assert run.employee_count == 1
    problem = DataProblem.objects.get()
    assert (problem.employee, problem.source) == (bob, DataProblem.Source.SCAN)
    assert "OverflowError" in problem.reason
    assert f"skipped employee {bob.pk}" in caplog.text


def test_the_problem_goes_once_the_record_is_fixed(alice_and_broken_bob):
    alice, bob = alice_and_broken_bob
    services.scan_run()

    Credential.objects.filter(employee=bob).update(issuer="fixed")
    services.recompute_employees(employee_ids=[bob.pk])

    assert not DataProblem.objects.exists()
    assert stored_status(bob) == Status.COMPLIANT


def test_a_second_scan_refreshes_the_problem_instead_of_adding_one(alice_and_broken_bob):
    services.scan_run()
    services.scan_run()

    assert DataProblem.objects.count() == 1
