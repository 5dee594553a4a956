"""The trend's history for days no scan ran on, filled in from the status periods."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command

from apps.compliance import history, timeline_store
from apps.compliance.models import Snapshot
from apps.compliance.read import overview as selectors
from apps.core import clock
from tests import factories

pytestmark = pytest.mark.django_db


def test_weekly_days_are_a_week_apart_and_end_yesterday():
    today = datetime.date(2026, 11, 29)

    days = history.weekly_days(until=today, weeks=3)

    assert days == [datetime.date(2026, 11, 14), datetime.date(2026, 11, 21), datetime.date(2026, 11, 28)]


def test_past_weeks_are_counted_as_they_stood_and_a_scanned_day_keeps_its_snapshot():
    today = clock.today()
    bls = factories.CertificationTypeFactory(code="BLS")
    nurse = factories.RoleFactory()
    ward = factories.DepartmentFactory()
    factories.RequirementFactory(role=nurse, any_of=[bls])
    hired = today - datetime.timedelta(days=400)
    ann = factories.EmployeeFactory(role=nurse, department=ward, hired_on=hired)
    ben = factories.EmployeeFactory(role=nurse, department=ward, hired_on=hired)
    factories.CredentialFactory(
        employee=ann, certification_type=bls, issued_on=hired, expires_on=today + datetime.timedelta(days=300)
    )
    # Ben's card ran out three weeks ago: compliant before, not after.
    factories.CredentialFactory(
        employee=ben, certification_type=bls, issued_on=hired, expires_on=today - datetime.timedelta(days=21)
    )
    timeline_store.rebuild_all()
    days = history.weekly_days(until=today, weeks=6)
    kept = Snapshot.objects.create(
        day=days[-1], dimension=Snapshot.Dimension.ORGANISATION, key=0, total=99, counts={"compliant": 99}
    )

    filled = history.snapshots_backfill(days=days)

    assert filled == 5
    trend = selectors.trend(department_ids=[ward.pk], until=today, weeks=6)
    assert [point.compliant for point in trend] == [2, 2, 2, 1, 1]
    assert Snapshot.objects.get(pk=kept.pk).total == 99
    assert history.snapshots_backfill(days=days) == 0  # a second run changes nothing


def test_seed_demo_leaves_a_year_of_trend():
    with time_machine.travel(datetime.datetime(2026, 3, 10, 17, 0, tzinfo=datetime.UTC), tick=False):
        out = io.StringIO()
        call_command("seed_demo", "--employees", "60", "--skip-scan", stdout=out)
        trend = selectors.trend(department_ids=None, until=clock.today())

    assert "Trend history: 52 weekly snapshots" in out.getvalue()
    assert len(trend) == 52
    assert all(point.total for point in trend)
    rates = {round(point.rate, 3) for point in trend}
    assert len(rates) > 1  # a line that moves, not a copy of today
    assert all(0 < point.compliant <= point.total for point in trend)
