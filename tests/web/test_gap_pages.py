"""The surveyor's gap question on the dashboard and in the audit report."""

import pytest
from django.urls import reverse

from apps.compliance import timeline_store
from apps.core import clock

from .conftest import days

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(hospital):
    timeline_store.rebuild_all()
    return hospital


def gap_days(gaps):
    return sorted((row.employee.first_name, row.requirement.codes[0], row.days) for row in gaps.rows)


def test_hr_sees_every_gap_of_the_last_90_days(client, built):
    client.force_login(built.hr)
    gaps = client.get(reverse("web:dashboard")).context["gaps"]
    # Edgar's BLS lapsed ten days ago (his ACLS with it); Ivy never held a BLS.
    assert gap_days(gaps) == [("Edgar", "ACLS", 10), ("Edgar", "BLS", 10), ("Ivy", "BLS", 90)]
    assert gaps.total == 3 and (gaps.start, gaps.end) == (clock.today() - days(89), clock.today())


def test_a_manager_sees_the_gaps_in_their_departments_only(client, built):
    client.force_login(built.manager)
    response = client.get(reverse("web:dashboard"))
    assert {row.employee.first_name for row in response.context["gaps"].rows} == {"Edgar"}
    assert "Ivy" not in response.content.decode()


def test_the_audit_report_lists_gaps_in_a_survey_window(client, built):
    client.force_login(built.hr)
    params = {
        "department": built.icu.pk,
        "as_of": (clock.today() - days(1)).isoformat(),
        "window_start": (clock.today() - days(30)).isoformat(),
    }
    report = client.get(reverse("web:audit_report"), params).context["report"]
    assert gap_days(report.gaps) == [("Ivy", "BLS", 30)]
    without = client.get(reverse("web:audit_report"), {**params, "window_start": ""}).context["report"]
    assert without.gaps is None


def test_a_window_that_starts_after_the_day_is_refused(client, built):
    client.force_login(built.hr)
    params = {
        "department": built.icu.pk,
        "as_of": (clock.today() - days(30)).isoformat(),
        "window_start": (clock.today() - days(1)).isoformat(),
    }
    assert client.get(reverse("web:audit_report"), params).context["form"].errors["window_start"]


def test_without_periods_the_pages_say_nothing_of_gaps(client, hospital):
    client.force_login(hospital.hr)
    assert client.get(reverse("web:dashboard")).context["gaps"] is None
    params = {"department": hospital.icu.pk, "as_of": clock.today().isoformat(), "window_start": "2025-01-01"}
    assert "cannot be answered yet" in client.get(reverse("web:audit_report"), params).content.decode()
