"""The one plausible-date rule (apps/core/plausible.py), as plain functions."""

import datetime

import pytest

from apps.core import plausible

D = datetime.date
TODAY = D(2026, 3, 16)


@pytest.mark.parametrize("day", [D(1950, 1, 1), D(1987, 6, 30), TODAY, D(2028, 3, 16)])
def test_it_accepts_events_from_1950_to_two_years_ahead(day):
    assert plausible.event_problem(day, today=TODAY) is None


@pytest.mark.parametrize(
    ("day", "says"),
    [
        (D(1, 1, 1), "before 1950-01-01"),
        (D(1925, 3, 1), "before 1950-01-01"),
        (D(1949, 12, 31), "before 1950-01-01"),
        (D(2028, 3, 17), "more than 2 years ahead"),
        (D(9999, 12, 31), "more than 2 years ahead"),
    ],
)
def test_it_refuses_implausible_events(day, says):
    assert says in plausible.event_problem(day, today=TODAY)


def test_two_years_ahead_of_a_leap_day_is_the_end_of_february():
    assert plausible.latest_event(D(2028, 2, 29)) == D(2030, 2, 28)


def test_an_expiry_may_reach_the_end_of_the_month_ten_years_after_issue():
    issued = D(2020, 1, 5)

    assert plausible.expiry_problem(D(2030, 1, 31), issued_on=issued) is None
    assert "more than 10 years after" in plausible.expiry_problem(D(2030, 2, 1), issued_on=issued)
    assert "before the issue date" in plausible.expiry_problem(D(2020, 1, 4), issued_on=issued)


def test_the_database_bounds_hold_every_date_the_rule_accepts_for_decades():
    latest_issue = plausible.latest_event(D(2070, 1, 1))
    longest = plausible.latest_expiry(latest_issue) - latest_issue

    assert latest_issue <= plausible.DB_LATEST
    assert longest.days <= plausible.DB_MAX_VALIDITY_DAYS
