"""Django validators over the plain plausible-date rule (apps/core/plausible.py)."""

import datetime

from django.core.exceptions import ValidationError

from . import clock, plausible


def validate_plausible_event(value: datetime.date) -> None:
    """A hire, assignment, termination or issue date with a plausible year."""
    problem = plausible.event_problem(value, today=clock.today())
    if problem:
        raise ValidationError(problem, code="implausible_date")
