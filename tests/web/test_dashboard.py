import datetime

import pytest
from django.urls import reverse

from apps.compliance.engine import Status
from apps.compliance.models import Snapshot
from apps.core import clock
from tests import factories

pytestmark = pytest.mark.django_db


def days(n):
    return datetime.timedelta(days=n)


def overview(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("web:dashboard"), params)
    assert response.status_code == 200
    return response.context["overview"]


def test_it_counts_the_managers_departments_from_stored_results(client, hospital):
    seen = overview(client, hospital.manager)

    assert seen.stored
    assert seen.everyone.total == 2  # Alice and Edgar; not Margaret's own record in the ICU
    assert seen.everyone.compliant == 1
    assert seen.everyone.rate == 0.5
    assert seen.everyone.count(Status.EXPIRING) == 1
    assert seen.everyone.count(Status.EXPIRED) == 1
    assert [t.label for t in seen.by_department] == ["Emergency Department"]
    assert [t.label for t in seen.by_role] == ["Registered nurse"]


def test_it_counts_the_whole_organisation_for_hr(client, hospital):
    seen = overview(client, hospital.hr)

    assert seen.everyone.total == 5
    assert seen.everyone.compliant == 3
    assert {t.label: t.total for t in seen.by_department} == {"Emergency Department": 2, "Intensive Care Unit": 3}


def test_it_lists_who_needs_attention_with_the_reason(client, hospital):
    seen = overview(client, hospital.manager)

    assert seen.attention_total == 2
    assert {(row.employee, row.status) for row in seen.attention} == {
        (hospital.edgar, Status.EXPIRED),
        (hospital.edgar, Status.PREREQUISITE_LAPSED),
    }
    expired = next(row for row in seen.attention if row.status == Status.EXPIRED)
    assert expired.reason.startswith("BLS expired on")


def test_it_says_who_renews_within_30_60_and_90_days(client, hospital):
    seen = overview(client, hospital.manager)

    # Alice's BLS runs out in 40 days; her ACLS counts while it is current, so one card to renew, not two rows.
    assert seen.renewals_within == {30: 0, 60: 1, 90: 1}
    assert sum(n for _, n in seen.renewals_by_week) == 1
    week = next(start for start, n in seen.renewals_by_week if n)
    assert week <= clock.today() + days(40) < week + days(7)


def test_it_breaks_compliance_down_by_certification(client, hospital):
    seen = overview(client, hospital.hr)

    by_code = {t.label: (t.compliant, t.total) for t in seen.by_certification}
    # BLS: Alice, Bob, Margaret current; Edgar expired; Ivy missing. ACLS (ED only): Alice yes, Edgar no.
    assert by_code == {"BLS": (3, 5), "ACLS": (1, 2)}


def test_the_filters_narrow_everything(client, hospital):
    seen = overview(client, hospital.hr, department=hospital.icu.pk, status=Status.MISSING.value)

    assert seen.everyone.total == 1
    assert [row.employee for row in seen.attention] == [hospital.ivy]


def test_the_certification_filter_keeps_those_it_applies_to(client, hospital):
    seen = overview(client, hospital.hr, certification=hospital.acls.pk)

    assert seen.everyone.total == 2  # only the ED's nurses need ACLS
    assert [t.label for t in seen.by_certification] == ["ACLS"]


def test_a_past_day_shows_things_as_they_stood(client, hospital):
    before_edgar_lapsed = clock.today() - days(11)

    seen = overview(client, hospital.manager, as_of=before_edgar_lapsed.isoformat())

    assert not seen.stored
    assert seen.day == before_edgar_lapsed
    assert seen.everyone.total == 2
    assert seen.everyone.rate == 1.0
    assert seen.attention_total == 0


def test_a_past_day_finds_people_in_the_department_they_were_in_then(client, hospital):
    tom = factories.EmployeeFactory(
        first_name="Tom", department=hospital.ed, role=hospital.nurse, hired_on=clock.today() - days(900)
    )
    tom.department, tom.assigned_on = hospital.icu, clock.today() - days(5)
    tom.save()

    then = overview(client, hospital.manager, as_of=(clock.today() - days(20)).isoformat())
    now = overview(client, hospital.manager, as_of=(clock.today() - days(1)).isoformat())

    assert then.everyone.total == 3
    assert now.everyone.total == 2


def test_a_day_ahead_is_refused(client, hospital):
    client.force_login(hospital.manager)

    response = client.get(reverse("web:dashboard"), {"as_of": (clock.today() + days(1)).isoformat()})

    assert response.context["form"].errors["as_of"]
    assert response.context["overview"].stored


def test_the_trend_reads_the_snapshots_of_the_managers_departments_only(client, hospital):
    Snapshot.objects.all().delete()
    for weeks_ago in (3, 2, 1):
        day = clock.today() - datetime.timedelta(weeks=weeks_ago)
        Snapshot.objects.create(
            day=day, dimension="department", key=hospital.ed.pk, total=4, counts={"compliant": 3, "expired": 1}
        )
        Snapshot.objects.create(day=day, dimension="department", key=hospital.icu.pk, total=10, counts={"missing": 10})
        Snapshot.objects.create(
            day=day, dimension="organisation", key=0, total=14, counts={"compliant": 3, "missing": 11}
        )

    manager_trend = overview(client, hospital.manager).trend
    hr_trend = overview(client, hospital.hr).trend

    assert [point.rate for point in manager_trend] == [0.75, 0.75, 0.75]
    assert [point.total for point in hr_trend] == [14, 14, 14]


def test_the_trend_keeps_one_point_a_week(client, hospital):
    Snapshot.objects.all().delete()
    monday = clock.today() - days(clock.today().weekday() + 7)
    for offset, compliant in ((0, 1), (2, 2), (4, 3)):
        Snapshot.objects.create(
            day=monday + days(offset), dimension="organisation", key=0, total=4, counts={"compliant": compliant}
        )

    trend = overview(client, hospital.hr).trend

    assert [(point.day, point.compliant) for point in trend] == [(monday + days(4), 3)]


def test_each_chart_has_its_numbers_in_a_table(client, hospital):
    client.force_login(hospital.hr)

    html = client.get(reverse("web:dashboard")).content.decode()

    pictures = chart_images(html)
    assert len(pictures) == 6 and all(svg.startswith("<svg") for svg in pictures)
    assert html.count('<details class="chart-data">') == 6
    # pygal's scripts are stripped: nothing loads from elsewhere.
    assert "<script" not in html and not any("<script" in svg for svg in pictures)
    assert html.count('class="chart-image" alt=""') == 6  # decorative: the table is what a screen reader reads


def chart_images(html: str) -> list[str]:
    """The SVG of each chart, drawn as an image from a data: URL (the CSP blocks the SVG's own style inline)."""
    import base64
    import re

    return [base64.b64decode(data).decode() for data in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)]


def test_chart_labels_are_escaped(client, hospital):
    hospital.ed.name = "<script>alert(1)</script>"
    hospital.ed.save()
    client.force_login(hospital.hr)

    html = client.get(reverse("web:dashboard")).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in svg for svg in chart_images(html))
    assert not any("<script>alert(1)" in svg for svg in chart_images(html))


def test_hr_gets_a_link_to_the_admin_and_the_verification_queue(client, hospital):
    client.force_login(hospital.hr)

    html = client.get(reverse("web:dashboard")).content.decode()

    assert reverse("admin:index") in html
    assert reverse("web:verification_queue") in html


def test_before_the_first_scan_the_dashboard_says_so(client, hospital):
    from apps.compliance.models import ComplianceRun

    ComplianceRun.objects.all().delete()
    client.force_login(hospital.manager)

    response = client.get(reverse("web:dashboard"))

    assert "No compliance check has run yet" in response.content.decode()
    assert response.context["overview"].everyone.total == 0


def test_a_past_day_follows_the_department_filter(client, hospital):
    seen = overview(client, hospital.hr, department=hospital.icu.pk, as_of=(clock.today() - days(30)).isoformat())

    assert not seen.stored
    assert seen.everyone.total == 3
    assert [t.label for t in seen.by_department] == ["Intensive Care Unit"]


def test_each_distinct_chart_is_drawn_once(client, hospital, monkeypatch):
    from django.core.cache import cache

    from apps.web import charts

    cache.clear()
    drawn, draw = [], charts._svg
    monkeypatch.setattr(charts, "_svg", lambda chart: drawn.append(chart) or draw(chart))
    client.force_login(hospital.hr)

    client.get(reverse("web:dashboard"))
    after_first = len(drawn)
    client.get(reverse("web:dashboard"))

    assert after_first == 6
    assert len(drawn) == 6
