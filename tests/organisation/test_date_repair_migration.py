"""Upgrading a database that already holds implausible dates: the constraints go on, nothing is lost.

The migration executor takes the test database back to before the date constraints, the test writes the
rows an old install could hold (year 0001, 1925, 9999, a card valid for seventy years), and migrates forward:
it succeeds, every row is inside the constraints, and HR finds each change under "Data problems", in the
record's history and in a card's notes. On PostgreSQL and, through a second run of this module, on SQLite.
"""

import datetime
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.certifications.models import Credential
from apps.compliance import services
from apps.core import date_repair
from apps.organisation.models import DataProblem, Employee
from tests import factories
from tests.admin_checks import admin_url

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
D = datetime.date
BEFORE_CONSTRAINTS = [("organisation", "0002_alter_employee_options"), ("certifications", "0001_initial")]


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.fixture
def latest():
    """The latest migrations, which the test database is brought back to whatever the test did."""
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    yield leaves
    migrate(leaves)


def set_dates(table: str, pk: int, **dates: str) -> None:
    """Raw SQL, as the old install wrote them: some of these years no Python date can hold."""
    assignments = ", ".join(f"{name} = %s" for name in dates)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {assignments} WHERE id = %s", [*dates.values(), pk])


def test_an_upgrade_repairs_implausible_dates_and_tells_hr(latest, client):
    bls = factories.CertificationTypeFactory(code="BLS")
    alice, bob, carol, erin = (factories.EmployeeFactory(last_name=name) for name in ("Adams", "Baker", "Cole", "Eddy"))
    first, second = (
        factories.CredentialFactory(employee=alice, certification_type=bls, issued_on=D(2024, month, 1))
        for month in (1, 2)
    )
    seventy_years = factories.CredentialFactory(employee=carol, certification_type=bls, issued_on=D(2020, 1, 10))
    fine = factories.CredentialFactory(employee=erin, certification_type=bls, issued_on=D(2024, 3, 1))
    migrate(BEFORE_CONSTRAINTS)  # the people and cards stay; what came after them in the schema goes
    for table in ("organisation_employee", "organisation_historicalemployee"):  # as the API saved them
        set_dates(table, alice.pk, hired_on="0001-01-01", assigned_on="0001-01-01")
    set_dates(
        "organisation_employee", bob.pk, hired_on="1925-03-01", assigned_on="1925-03-01", terminated_on="9999-12-31"
    )
    set_dates("certifications_credential", first.pk, issued_on="0001-01-01", expires_on="9999-12-31")
    set_dates("certifications_credential", second.pk, issued_on="0002-06-01", expires_on="0004-06-30")
    set_dates("certifications_credential", seventy_years.pk, expires_on="2090-01-31")
    if connection.vendor == "postgresql":  # years only PostgreSQL can store
        for table in ("organisation_employee", "organisation_historicalemployee"):
            set_dates(table, erin.pk, hired_on="0044-03-15 BC", assigned_on="20000-01-01")
        set_dates("certifications_credential", fine.pk, expires_on="infinity")

    migrate(latest)

    for person in (alice, bob, carol, erin):
        person.refresh_from_db()
    assert (alice.hired_on, alice.assigned_on) == (D(1950, 1, 1), D(1950, 1, 1))
    assert (bob.hired_on, bob.assigned_on, bob.terminated_on) == (D(1950, 1, 1), D(1950, 1, 1), D(2099, 12, 31))
    cards = {card.pk: card for card in Credential.objects.all()}
    assert (cards[first.pk].issued_on, cards[first.pk].expires_on) == (D(1950, 1, 1), D(1960, 2, 9))
    # Both of Alice's cards met at the lower bound: the second moved a day in, and never outlives its issue day.
    assert (cards[second.pk].issued_on, cards[second.pk].expires_on) == (D(1950, 1, 2), D(1950, 1, 2))
    assert cards[seventy_years.pk].expires_on == D(2020, 1, 10) + datetime.timedelta(days=3691)
    if connection.vendor == "postgresql":
        assert cards[fine.pk].expires_on == D(2024, 3, 1) + datetime.timedelta(days=3691)
    else:
        assert cards[fine.pk].expires_on == fine.expires_on and cards[fine.pk].notes == ""
    assert "issued_on 0001-01-01 set to 1950-01-01, expires_on 9999-12-31 set to 1960-02-09" in cards[first.pk].notes

    # The history says what each record held before.
    repair = alice.history.order_by("-history_id").first()
    assert repair.history_change_reason == f"{date_repair.MARK} hired_on was 0001-01-01, assigned_on was 0001-01-01"
    assert repair.history_user is None

    # HR's list: one entry per person, each naming what changed; nobody else is listed.
    reasons = dict(DataProblem.objects.filter(source="repair").values_list("employee__last_name", "reason"))
    expected = {"Adams", "Baker", "Cole"} | ({"Eddy"} if connection.vendor == "postgresql" else set())
    assert set(reasons) == expected
    assert f"Employee {alice.pk}: hired_on was 0001-01-01, assigned_on was 0001-01-01" in reasons["Adams"]
    assert f"Card {first.pk}: issued_on was 0001-01-01, expires_on was 9999-12-31" in reasons["Adams"]
    assert f"Card {second.pk}: issued_on was 0002-06-01, expires_on was 0004-06-30" in reasons["Adams"]
    assert "terminated_on was 9999-12-31" in reasons["Baker"]
    assert f"Card {seventy_years.pk}: expires_on was 2090-01-31" in reasons["Cole"]
    if connection.vendor == "postgresql":
        assert (erin.hired_on, erin.assigned_on) == (D(1950, 1, 1), D(2099, 12, 31))
        assert "hired_on was 0044-03-15 BC, assigned_on was 20000-01-01" in reasons["Eddy"]
        assert f"Card {fine.pk}: expires_on was infinity" in reasons["Eddy"]

    # The repaired records (and their history from before) are ones the nightly scan can evaluate.
    assert services.scan_run().state == "complete"
    assert not DataProblem.objects.exclude(source="repair").exists()

    hr = factories.UserFactory(username="hilda", is_staff=True, is_superuser=True)
    client.force_login(hr)
    page = client.get(admin_url("organisation", "dataproblem")).content.decode()
    assert "Date repaired at upgrade" in page and "hired_on was 0001-01-01" in page
    assert all(Employee.objects.filter(pk=p.pk).exists() for p in (alice, bob, carol, erin))


@pytest.mark.skipif(os.environ.get("CREDTRACK_REPAIR_ON_SQLITE") == "1", reason="this is the SQLite run itself")
def test_the_same_upgrade_on_sqlite(tmp_path):
    """SQLite adds a constraint by rebuilding the table, which fails differently: run the test above there."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env["CREDTRACK_REPAIR_ON_SQLITE"] = "1"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:cacheprovider", "-k", "implausible_dates"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
