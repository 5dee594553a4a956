"""The one place that says what day it is, in the organisation's time zone.

Everything that asks "today" calls `today()`, so tests can freeze time once
(time-machine) and every rule agrees on the date.
"""

import datetime

from django.utils import timezone


def now() -> datetime.datetime:
    return timezone.now()


def today() -> datetime.date:
    return timezone.localdate(now())


def start_of_day(day: datetime.date) -> datetime.datetime:
    """The aware instant a day begins in the organisation's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
