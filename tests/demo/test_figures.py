"""Figures that reconcile: on a seeded demo, every figure the seed summary prints is the one the dashboard, its
lists and the API give for the same question, and each says what it counts (people, requirement rows, cards)."""

import datetime
import io
import re
from collections import Counter, defaultdict

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count
from django.urls import reverse
from rest_framework.test import APIClient

from apps.compliance import periods
from apps.compliance import services as compliance_services
from apps.compliance.engine import ATTENTION_STATUSES, COMPLIANT_STATUSES, Status
from apps.compliance.models import RequirementStatus
from apps.demo import workforce as demo

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 3, 10)
LINE = re.compile(r"^(?P<indent> +)(?P<label>\S.*?) {2,}(?P<n>[\d,]+)(?: +[\d.]+%)?$")


def summary_figures(output: str) -> dict[tuple[str, ...], int]:
    """The summary's figure lines after its "Today's figures" heading, keyed by label (a sub-line under its
    heading line: ("People by overall status ...", "Expired"))."""
    figures: dict[tuple[str, ...], int] = {}
    heading = ""
    for line in output.split("Today's figures", 1)[1].splitlines():
        match = LINE.match(line)
        if match is None:  # a heading with no figure of its own, or a note
            heading = line.strip()
            continue
        n = int(match["n"].replace(",", ""))
        if len(match["indent"]) == 2:
            heading = match["label"]
            figures[(heading,)] = n
        else:
            figures[(heading, match["label"])] = n
    return figures


@pytest.fixture
def seeded():
    out = io.StringIO()
    with time_machine.travel(datetime.datetime(2026, 3, 10, 17, 0, tzinfo=datetime.UTC), tick=False):
        call_command("seed_demo", "--employees", "300", "--seed", "11", "--skip-scan", stdout=out)
        compliance_services.scan_run()
        yield summary_figures(out.getvalue())


def all_pages(api, url, params):
    rows, page = [], 1
    while True:
        body = api.get(url, {**params, "page": page, "page_size": 500}).json()
        rows += body["results"]
        if not body.get("next"):
            return rows
        page += 1


def test_the_seed_summary_dashboard_lists_and_api_give_the_same_numbers(client, seeded):
    summary = seeded
    hr = get_user_model().objects.get(username=demo.HR_USERNAME)
    client.force_login(hr)
    api = APIClient()
    api.force_authenticate(hr)
    people_heading = next(key[0] for key in summary if key[0].startswith("People by overall status"))
    rows_heading = next(key[0] for key in summary if key[0].startswith("Requirements needing attention"))

    with time_machine.travel(datetime.datetime(2026, 3, 10, 17, 0, tzinfo=datetime.UTC), tick=False):
        assert periods.covers(TODAY)  # the dashboard reads the periods, the API the scan's stored results
        dashboard = client.get(reverse("web:dashboard")).context["overview"]
        departments = api.get("/api/v1/compliance/departments/").json()
        roles = api.get("/api/v1/compliance/roles/").json()
        assert departments["source"] == roles["source"] == "stored"

        # People, each once, by their overall status: summary, dashboard, API roll-ups and the API's people list.
        api_people = Counter()
        for row in departments["results"]:
            api_people.update(row["counts"])
        role_people = Counter()
        for row in roles["results"]:
            role_people.update(row["counts"])
        for status in Status:
            listed = api.get("/api/v1/compliance/employees/", {"status": status.value, "page_size": 1}).json()
            assert (
                summary[(people_heading, status.label)]
                == dashboard.everyone.count(status)
                == api_people[status.value]
                == role_people[status.value]
                == listed["count"]
            ), status
        employed = summary[("People employed today",)]
        assert employed == dashboard.everyone.total == sum(row["total"] for row in departments["results"])
        assert employed == api.get("/api/v1/compliance/employees/", {"page_size": 1}).json()["count"]
        compliant = sum(row["compliant"] for row in departments["results"])
        assert summary[("People compliant",)] == dashboard.everyone.compliant == compliant
        assert summary[("People not compliant",)] == dashboard.everyone.not_compliant == employed - compliant
        not_compliant = api.get("/api/v1/compliance/employees/", {"compliant": "false", "page_size": 1}).json()
        assert not_compliant["count"] == dashboard.everyone.not_compliant
        # Per department and per role too.
        assert {t.key: dict(+Counter(t.counts)) for t in dashboard.by_department if t.total} == {
            row["department"]["id"]: {s: n for s, n in row["counts"].items() if n}
            for row in departments["results"]
            if row["total"]
        }
        assert {t.key: dict(+Counter(t.counts)) for t in dashboard.by_role} == {
            row["role"]["id"]: {s: n for s, n in row["counts"].items() if n} for row in roles["results"]
        }

        # The trend's point for today (the weekly snapshots seed_demo and the scan store) counts the same people.
        (point,) = [point for point in dashboard.trend if point.day == TODAY]
        assert (point.total, point.compliant) == (employed, compliant)
        # Requirement rows per certification (a "BLS or CPR" row under both): the periods and the scan agree.
        stored_by_type = Counter()
        for row in (
            RequirementStatus.objects.filter(mandatory=True)
            .values("requirement__any_of", "status")
            .annotate(n=Count("id"))
            .order_by()
        ):
            stored_by_type[(row["requirement__any_of"], row["status"])] += row["n"]
        assert {(t.key, status): n for t in dashboard.by_certification for status, n in t.counts.items() if n} == dict(
            +stored_by_type
        )

        # Requirement rows needing attention (one per person and requirement), in total and per status,
        # prerequisite lapsed included: summary, dashboard, the attention list and the API's findings.
        assert summary[(rows_heading,)] == dashboard.attention_total
        assert client.get(reverse("web:attention")).context["page"].paginator.count == dashboard.attention_total
        for status in ATTENTION_STATUSES:
            listed = client.get(reverse("web:attention"), {"status": status.value}).context["page"].paginator.count
            findings = api.get("/api/v1/findings/", {"mandatory": "true", "status": status.value, "page_size": 1})
            assert summary[(rows_heading, status.label)] == listed == findings.json()["count"], status
        assert summary[(rows_heading,)] == sum(summary[(rows_heading, s.label)] for s in ATTENTION_STATUSES)
        # The demo's "advanced card current, its BLS lapsed" people: rows prerequisite lapsed, people expired.
        assert summary[(rows_heading, Status.PREREQUISITE_LAPSED.label)] > 0

        # People with a card to renew within 30, 60 and 90 days: summary, dashboard, API findings.
        for days, people in dashboard.renewals_within.items():
            findings = all_pages(
                api, "/api/v1/findings/", {"mandatory": "true", "compliant": "true", "expiring_within": days}
            )
            assert summary[(f"People with a card to renew within {days} days",)] == people
            assert people == len({row["employee"]["id"] for row in findings}), days

        # Cards to renew (one per card, however many requirements it keeps met): summary, the dashboard's
        # weekly chart, and the stored results' cards to renew.
        cards = summary[("Cards to renew within 90 days (one per card)",)]
        assert cards == sum(n for _, n in dashboard.renewals_by_week)
        stored_cards = (
            RequirementStatus.objects.filter(
                mandatory=True,
                status__in=[s.value for s in COMPLIANT_STATUSES],
                expires_on__gte=TODAY,
                expires_on__lte=TODAY + datetime.timedelta(days=90),
            )
            .values("renew_credential_id")
            .distinct()
            .count()
        )
        assert cards == stored_cards
        # And fewer cards than rows: an ED nurse's one BLS keeps two requirements met.
        rows_per_card: dict[int, int] = defaultdict(int)
        for card in (
            RequirementStatus.objects.filter(mandatory=True, status__in=[s.value for s in COMPLIANT_STATUSES])
            .filter(expires_on__gte=TODAY, expires_on__lte=TODAY + datetime.timedelta(days=90))
            .values("renew_credential_id")
            .annotate(n=Count("id"))
        ):
            rows_per_card[card["renew_credential_id"]] = card["n"]
        assert max(rows_per_card.values()) > 1
