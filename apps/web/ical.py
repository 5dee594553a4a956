"""An employee's private iCalendar feed: when each card runs out and when a missing one is due."""

import datetime
from collections.abc import Iterable

import icalendar
from django.conf import settings
from django.utils.formats import date_format

from apps.certifications.models import Credential, Requirement
from apps.compliance.engine import Status
from apps.core import clock
from apps.organisation.models import Employee

from .selectors.person import PersonCompliance

ALARM_DAYS_BEFORE = (30, 7)
ONE_DAY = datetime.timedelta(days=1)


def latest_cards(credentials: Iterable[Credential]) -> list[Credential]:
    """The card that counts for each certification type: a renewed card replaces the old one's date."""
    latest: dict[int, tuple[datetime.date, Credential]] = {}
    for credential in credentials:
        if credential.verification == Credential.Verification.REJECTED or credential.expires_on is None:
            continue
        held = latest.get(credential.certification_type_id)
        if held is None or credential.expires_on > held[0]:
            latest[credential.certification_type_id] = (credential.expires_on, credential)
    return [credential for _, credential in sorted(latest.values(), key=lambda held: held[0])]


def expiry_calendar(
    employee: Employee, credentials: Iterable[Credential], compliance: PersonCompliance | None
) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//credtrack//expiry dates//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Certification expiry dates: {employee.full_name}")
    stamp = clock.now()
    my_page = f"{settings.SITE_URL}/me/"
    upload = f"Upload the new card at {my_page}"
    credentials = list(credentials)
    by_id = {credential.pk: credential for credential in credentials}
    limits = _limited_by_prerequisite(compliance)
    for card in latest_cards(credentials):
        assert card.expires_on is not None  # latest_cards keeps only cards that expire
        code = card.certification_type.code
        guidance = card.certification_type.renewal_guidance or "Book a renewal course."
        limit = limits.get(card.pk)
        prerequisite = by_id.get(limit[1]) if limit else None
        if limit and prerequisite is not None:
            # A dependent card (ACLS) counts only while its prerequisite (BLS) is current: its day is the day it
            # stops counting, and what to renew is the prerequisite (docs/domain.md, dependent cards).
            day, needed = limit[0], prerequisite.certification_type.code
            summary = f"{code} stops counting: {needed} expires"
            description = (
                f"Your {code} card runs to {date_format(card.expires_on)}, but it counts only while your {needed} "
                f"is current, and the {needed} expires on {date_format(day)}. Renew the {needed} to keep the "
                f"{code} counting. {upload}"
            )
        else:
            day, summary = card.expires_on, f"{code} card expires"
            description = (
                f"Your {code} card (issued {date_format(card.issued_on)}) is valid through "
                f"{date_format(card.expires_on)}. {guidance} {upload}"
            )
        calendar.add_component(
            _all_day(
                uid=f"credential-{card.pk}-expiry@credtrack",
                day=day,
                summary=summary,
                description=description,
                url=card.certification_type.renewal_url or my_page,
                stamp=stamp,
                alarm=summary,
            )
        )
    for line in compliance.lines if compliance else ():
        if line.status == Status.NOT_YET_DUE and line.result.due_on:
            assert isinstance(line.requirement, Requirement)  # today's answer carries today's requirements
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


def _limited_by_prerequisite(compliance: PersonCompliance | None) -> dict[int, tuple[datetime.date, int]]:
    """Card id -> (last day it counts, the prerequisite card that sets that day), from the engine's answers."""
    limits: dict[int, tuple[datetime.date, int]] = {}
    for line in compliance.lines if compliance else ():
        result = line.result
        if not (result.credential_id and result.expires_on and result.renew_credential_id):
            continue
        if result.renew_credential_id == result.credential_id:
            continue
        held = limits.get(result.credential_id)
        if held is None or result.expires_on < held[0]:
            limits[result.credential_id] = (result.expires_on, result.renew_credential_id)
    return limits


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
