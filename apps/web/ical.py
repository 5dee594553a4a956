"""An employee's private iCalendar feed: when each card runs out and when a missing one is due."""

import datetime
from collections.abc import Iterable

import icalendar
from django.conf import settings

from apps.certifications.models import Credential
from apps.compliance.engine import Status
from apps.core import clock
from apps.organisation.models import Employee

from .selectors import PersonCompliance

ALARM_DAYS_BEFORE = (30, 7)
ONE_DAY = datetime.timedelta(days=1)


def latest_cards(credentials: Iterable[Credential]) -> list[Credential]:
    """The card that counts for each certification type: a renewed card replaces the old one's date."""
    latest: dict[int, Credential] = {}
    for credential in credentials:
        if credential.verification == Credential.Verification.REJECTED or credential.expires_on is None:
            continue
        held = latest.get(credential.certification_type_id)
        if held is None or credential.expires_on > held.expires_on:
            latest[credential.certification_type_id] = credential
    return sorted(latest.values(), key=lambda credential: credential.expires_on)


def expiry_calendar(
    employee: Employee, credentials: Iterable[Credential], compliance: PersonCompliance | None
) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//credtrack//expiry dates//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Certification expiry dates: {employee.full_name}")
    stamp = clock.now()
    my_page = f"{settings.SITE_URL}/me/"
    for card in latest_cards(credentials):
        code = card.certification_type.code
        guidance = card.certification_type.renewal_guidance or "Book a renewal course and upload the new card."
        calendar.add_component(
            _all_day(
                uid=f"credential-{card.pk}-expiry@credtrack",
                day=card.expires_on,
                summary=f"{code} card expires",
                description=f"Your {code} card (issued {card.issued_on}) is valid through {card.expires_on}. "
                f"{guidance} Upload it at {my_page}",
                url=card.certification_type.renewal_url or my_page,
                stamp=stamp,
                alarm=f"{code} card expires",
            )
        )
    for line in compliance.lines if compliance else ():
        if line.status == Status.NOT_YET_DUE and line.result.due_on:
            wanted = " or ".join(sorted(t.code for t in line.requirement.any_of.all()))
            calendar.add_component(
                _all_day(
                    uid=f"requirement-{line.requirement.pk}-employee-{employee.pk}-due@credtrack",
                    day=line.result.due_on,
                    summary=f"{wanted} due",
                    description=f"You need a current {wanted} card by this day. Upload it at {my_page}",
                    url=my_page,
                    stamp=stamp,
                    alarm=f"{wanted} due",
                )
            )
    return calendar.to_ical()


def _all_day(*, uid, day, summary, description, url, stamp, alarm) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", day)
    event.add("dtend", day + ONE_DAY)
    event.add("summary", summary)
    event.add("description", description)
    event.add("url", url)
    event.add("transp", "TRANSPARENT")
    for days in ALARM_DAYS_BEFORE:
        reminder = icalendar.Alarm()
        reminder.add("action", "DISPLAY")
        reminder.add("description", f"{alarm} in {days} days")
        reminder.add("trigger", datetime.timedelta(days=-days))
        event.add_component(reminder)
    return event
