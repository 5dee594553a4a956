"""CSV exports: streamed, filtered like the page, and safe to open in a spreadsheet."""

import csv
import io

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from apps.web.exports import neutralise

pytestmark = pytest.mark.django_db


def rows(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Alice", "Alice"),
        (None, ""),
        ("O'Brien", "O'Brien"),
    ],
)
def test_formulas_are_neutralised(value, safe):
    assert neutralise(value) == safe


def test_a_name_that_is_a_formula_is_exported_as_text(client, hospital):
    hospital.edgar.last_name = '=cmd|" /C calc"!A0'
    hospital.edgar.save()
    client.force_login(hospital.hr)

    exported = rows(client.get(reverse("web:employee_list"), {"format": "csv"}))

    assert [row[1] for row in exported if row[0] == hospital.edgar.employee_number] == ['\'=cmd|" /C calc"!A0']


def test_the_export_follows_the_filters(client, hospital):
    client.force_login(hospital.hr)

    exported = rows(client.get(reverse("web:attention"), {"format": "csv", "department": hospital.icu.pk}))

    header, *data = exported
    assert header[:3] == ["Employee number", "Name", "Department"]
    assert [(row[1], row[5]) for row in data] == [("Ivy Irwin", "Missing (overdue)")]
    assert "No BLS on record" in data[0][6]


def test_the_renewals_export_has_the_dates(client, hospital):
    client.force_login(hospital.manager)

    header, *data = rows(client.get(reverse("web:renewals"), {"format": "csv", "within": 60}))

    assert {row[4] for row in data} == {"BLS", "ACLS"}
    assert {row[9] for row in data} == {str(hospital.alices_card.expires_on)}


def test_the_forecast_export_lists_the_lapses(client, hospital):
    client.force_login(hospital.manager)

    header, *data = rows(client.get(reverse("web:forecast"), {"format": "csv", "days": 60}))

    assert {(row[1], row[4]) for row in data} == {("Alice Adams", "BLS"), ("Alice Adams", "ACLS")}
