"""One person whose record cannot be read is left out of the digests, which still go out; HR's digest counts
the data problems and links to their list.

The bad value is written straight into the table, past the validators and the date constraints
(tests/bad_rows.py): an end of employment of 'infinity', which PostgreSQL holds and Python cannot read.
"""

import pytest
from django.db import connection

from apps.compliance import services as compliance
from apps.notifications import tasks
from apps.organisation.models import DataProblem
from tests import factories
from tests.bad_rows import unchecked
from tests.notifications.conftest import D, html_of, on, visible_text, ward_nurse

pytestmark = pytest.mark.django_db
MONDAY = D(2026, 6, 1)


@pytest.fixture
def ward_with_unreadable_bob(catalogue, manager, postgres):
    hilda = factories.UserFactory(
        username="hilda", first_name="Hilda", email="hilda@example.org", is_staff=True, is_superuser=True
    )
    catalogue.ward.managers.add(hilda)
    nora, _ = ward_nurse(catalogue, bls_expires=D(2026, 5, 20), first_name="Nora", last_name="Nurse")
    bob, _ = ward_nurse(catalogue, bls_expires=D(2026, 5, 20), first_name="Bob", last_name="Baker")
    with on(MONDAY, hour=2):
        compliance.scan_run()
    with unchecked():
        with connection.cursor() as cursor:  # after the scan: another tool wrote it since
            cursor.execute("UPDATE organisation_employee SET terminated_on = 'infinity' WHERE id = %s", [bob.pk])
        yield nora, bob


def test_the_digests_go_out_without_the_person_and_hr_sees_the_problem(ward_with_unreadable_bob, mailoutbox):
    nora, bob = ward_with_unreadable_bob

    with on(MONDAY, hour=7):
        tasks.plan_digests.delay()

    by_recipient = {message.to[0]: message for message in mailoutbox}
    assert set(by_recipient) == {"margaret@example.org", "hilda@example.org"}
    for message in by_recipient.values():
        assert "Nora Nurse" in message.body and "Bob Baker" not in message.body
    problem = DataProblem.objects.get()
    assert (problem.employee_id, problem.source) == (bob.pk, DataProblem.Source.DIGEST)
    assert "terminated_on is 'infinity'" in problem.reason

    hr_text, hr_html = by_recipient["hilda@example.org"].body, visible_text(html_of(by_recipient["hilda@example.org"]))
    assert "Data problems: 1 person skipped" in hr_text
    assert "https://credtrack.example.org/admin/organisation/dataproblem/" in hr_text
    assert "Data problems (1)" in hr_html
    assert "Data problems" not in by_recipient["margaret@example.org"].body  # HR's list, not a manager's


def test_hr_digest_says_when_there_are_none(catalogue, manager, mailoutbox):
    hilda = factories.UserFactory(username="hilda", email="hilda@example.org", is_staff=True, is_superuser=True)
    catalogue.ward.managers.add(hilda)
    ward_nurse(catalogue, bls_expires=D(2026, 5, 20))
    with on(MONDAY, hour=2):
        compliance.scan_run()

    with on(MONDAY, hour=7):
        tasks.plan_digests.delay()

    (hr,) = [message for message in mailoutbox if message.to == ["hilda@example.org"]]
    assert "Data problems: 0 people skipped" in hr.body
