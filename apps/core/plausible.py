"""The one plausible-date rule, shared by models, constraints, API, import, admin and query parameters.

A mistyped year (0001, 1925, 9999) is refused where it comes in, so it can never reach code that
does arithmetic with it (days between two dates stored in a small integer, a date plus N days).

- Events (hire, assignment, termination, a card's issue): from EARLIEST to FUTURE_YEARS after today.
- A card's expiry: not before its issue, and at most MAX_VALIDITY_YEARS after it (to the end of that
  month, as cards expire at month end). ATLS, the longest-lived card, lasts four years.
- A day asked about (`as_of`): the same window as events; a forecast may reach FUTURE_YEARS beyond it.

The database holds fixed bounds (DB_EARLIEST..DB_LATEST, see the CheckConstraints): "today" cannot be
part of a constraint, so the moving upper bound lives in the validators.
"""

import calendar
import datetime

EARLIEST = datetime.date(1950, 1, 1)
FUTURE_YEARS = 2
MAX_VALIDITY_YEARS = 10
# Fixed bounds for database constraints: any date the rule accepts for decades to come lies inside them.
DB_EARLIEST = EARLIEST
DB_LATEST = datetime.date(2099, 12, 31)
DB_MAX_VALIDITY_DAYS = MAX_VALIDITY_YEARS * 366 + 31


def _years_later(day: datetime.date, years: int) -> datetime.date:
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def latest_event(today: datetime.date) -> datetime.date:
    return _years_later(today, FUTURE_YEARS)


def latest_expiry(issued_on: datetime.date) -> datetime.date:
    later = _years_later(issued_on, MAX_VALIDITY_YEARS)
    return later.replace(day=calendar.monthrange(later.year, later.month)[1])


def event_problem(day: datetime.date, *, today: datetime.date) -> str | None:
    """Why `day` is not a plausible hire, assignment, termination or issue date; None when it is."""
    if day < EARLIEST:
        return f"{day.isoformat()} is before {EARLIEST.isoformat()}: check the year."
    latest = latest_event(today)
    if day > latest:
        return f"{day.isoformat()} is more than {FUTURE_YEARS} years ahead (after {latest}): check the year."
    return None


def expiry_problem(expires_on: datetime.date, *, issued_on: datetime.date) -> str | None:
    """Why `expires_on` is not a plausible expiry for a card issued on `issued_on`; None when it is."""
    if expires_on < issued_on:
        return "The expiry date cannot be before the issue date."
    if expires_on > latest_expiry(issued_on):
        return (
            f"{expires_on.isoformat()} is more than {MAX_VALIDITY_YEARS} years after the issue date "
            f"{issued_on.isoformat()}: check the year."
        )
    return None


def query_day_problem(day: datetime.date, *, today: datetime.date) -> str | None:
    """Why `day` cannot be asked about (as_of); None when it can."""
    return event_problem(day, today=today)
