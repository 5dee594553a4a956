"""One person's bad data never stops the scan: they are skipped, logged and listed for HR.

The engine copes with every date Python can hold. Real bad data that still breaks a batch is a date the
database holds but Python cannot: 'infinity', written straight into the table past the validators and the
date constraints (tests/bad_rows.py). Without the isolation the whole scan fails on it. The engine failing
for one person, as a future bug would, is injected below.
"""

import datetime

import pytest

from apps.certifications.models import Credential
from apps.compliance import engine, services
from apps.compliance.engine import Status
from apps.organisation.models import DataProblem
from tests.bad_rows import unchecked, unreadable_expiry
from tests.compliance.conftest import ed_nurse, stored_status

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def alice_and_unreadable_bob(catalogue, postgres):
    alice, bob, carol = ed_nurse(catalogue), ed_nurse(catalogue), ed_nurse(catalogue)
    with unchecked():
        unreadable_expiry(Credential.objects.filter(employee=bob).first())
        yield alice, bob, carol


def test_the_scan_skips_a_person_whose_stored_row_cannot_be_read(alice_and_unreadable_bob, caplog):
    alice, bob, carol = alice_and_unreadable_bob

    run = services.scan_run()

    assert run.state == "complete"
    assert (stored_status(alice), stored_status(carol)) == (Status.COMPLIANT, Status.COMPLIANT)
    assert run.employee_count == 2
    problem = DataProblem.objects.get()
    assert (problem.employee, problem.source) == (bob, DataProblem.Source.SCAN)
    assert "infinity" in problem.reason and "cannot read" in problem.reason
    assert f"skipped employee {bob.pk}" in caplog.text


def test_a_recompute_skips_them_too(alice_and_unreadable_bob):
    alice, bob, carol = alice_and_unreadable_bob
    services.scan_run()
    DataProblem.objects.all().delete()

    services.recompute_employees(employee_ids=[alice.pk, bob.pk, carol.pk])

    assert stored_status(carol) == Status.COMPLIANT
    assert DataProblem.objects.get().employee == bob


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
