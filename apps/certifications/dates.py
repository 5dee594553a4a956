"""Calendar arithmetic for card expiry dates (plain Python, no Django)."""

import calendar
import datetime


def add_months(day: datetime.date, months: int) -> datetime.date:
    """`day` plus `months`, clamped to the last day of the target month (2024-02-29 + 12 -> 2025-02-28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def end_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def default_expiry(issued_on: datetime.date, validity_months: int, *, at_month_end: bool) -> datetime.date:
    """The expiry a card usually carries: N months after issue, at the end of that month by convention."""
    expiry = add_months(issued_on, validity_months)
    return end_of_month(expiry) if at_month_end else expiry
