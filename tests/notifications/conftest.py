import contextlib
import datetime
import re
from html import unescape

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django.utils.html import strip_tags

from apps.compliance import services as compliance
from apps.notifications import tasks
from apps.notifications.models import Notification, PlanningRun
from tests import factories
from tests import world as cast
from tests.world import card

D = datetime.date
MESSAGE_ID = re.compile(r"<notification-(\d+)@")


@contextlib.contextmanager
def on(day: datetime.date, hour: int = 12):
    """Freeze the clock at `hour` o'clock on `day`, in the organisation's time zone."""
    moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))
    with time_machine.travel(moment, tick=False):
        yield


def run_day(day: datetime.date) -> list:
    """What beat does on a day: the nightly scan, then the reminder task (which sends). Returns that day's emails."""
    before = len(mail.outbox)
    with on(day):
        compliance.scan_run()
        tasks.plan_notifications.delay()
    return mail.outbox[before:]


def notification_of(message) -> Notification:
    return Notification.objects.get(id=int(MESSAGE_ID.match(message.extra_headers["Message-ID"]).group(1)))


def visible_text(html: str) -> str:
    """What a reader of the HTML part sees: no tags, entities decoded, whitespace collapsed."""
    return " ".join(unescape(strip_tags(html)).split())


def html_of(message) -> str:
    (html, mimetype) = message.alternatives[0]
    assert mimetype == "text/html"
    return html


@pytest.fixture
def catalogue(hospital):
    """The hospital of tests/world.py, as an installation that has planned before: lapses are escalated one by
    one. Tests of the very first run (a backfill) delete its PlanningRun."""
    PlanningRun.objects.create(day=D(2000, 1, 3), backfill=True)
    return hospital


@pytest.fixture
def manager(catalogue):
    """Margaret manages the ward here (and gets its escalations and digests)."""
    return cast.margaret(catalogue, catalogue.ward)


def ward_nurse(catalogue, *, bls_expires: datetime.date, **kwargs):
    """A ward nurse (needs BLS or CPR) holding one BLS card."""
    kwargs.setdefault("hired_on", D(2020, 1, 6))
    nurse = factories.EmployeeFactory(role=catalogue.nurse, department=catalogue.ward, **kwargs)
    return nurse, card(nurse, catalogue.bls, bls_expires.replace(year=bls_expires.year - 2), bls_expires)
