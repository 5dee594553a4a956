"""Planning the outbox: what is due today goes in as rows; HR's "send reminder now", and the sign-in
links and password resets asked for at the sign-in page, too.

Planning (daily, after the compliance scan; digests weekly) asks rules.py what is due and inserts
one outbox row per notice with `ignore_conflicts`: each kind's natural key is unique in the
database, so a notice already planned (or sent) is never planned again. Sending is delivery.py's.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, transaction

from apps.core import clock
from apps.organisation import problems
from apps.organisation.models import DataProblem, Employee

from . import rules, selectors
from .models import Notification, PlanningRun
from .rules import Kind

logger = logging.getLogger(__name__)

Status = Notification.Status
PLAN_BATCH = 1000
NO_ADDRESS_MESSAGE = "No email address on record."


@dataclass
class PlanReport:
    people: int = 0
    notices: int = 0
    created: int = 0
    no_address: int = 0

    def __str__(self):
        return (
            f"{self.people} people, {self.notices} notices due, {self.created} new in the outbox, "
            f"{self.no_address} without an address"
        )


def notifications_plan(*, day: datetime.date | None = None, backfill_employee_ids=None) -> PlanReport:
    """Queue every reminder, acknowledgement and escalation due on `day` (default today). Safe to repeat.

    Every lapse seen for the first time is escalated once, however long ago it began. Only an explicit
    backfill rolls escalations about lapses that began before `day` into one summary per manager: the
    first full planning run of an installation (no PlanningRun recorded yet), or `backfill_employee_ids`
    (the people of an import marked as backfill, planned on their own). The rolled-up rows stay in the
    outbox, so those lapses count as seen and are never escalated one by one later.
    """
    day = day or clock.today()
    started = clock.now()
    full = backfill_employee_ids is None
    backfill = not full or not PlanningRun.objects.exists()
    policy = selectors.reminder_policy()
    managers = selectors.department_managers()
    report = PlanReport()
    batch: list[Notification] = []
    summaries: dict[int, int] = {}
    skipped: dict[int, str] = {}
    for person in selectors.people(backfill_employee_ids):
        report.people += 1
        try:
            notices = rules.notices_for(person.facts, day=day, policy=policy, managers=managers.by_department)
            for notice in notices:
                _check_storable(notice)
        except Exception as error:  # one person's data never stops everyone's reminders
            skipped[person.facts.employee_id] = problems.describe(error)
            continue
        for notice in notices:
            report.notices += 1
            recipient = managers.emails.get(notice.user_id, "") if notice.user_id else person.email
            row = _row(notice, recipient)
            if backfill and rules.is_backfill(notice, day):
                row.status, row.last_error = Status.ROLLED_UP, ""
                assert notice.user_id is not None  # what a backfill rolls up are escalations, which go to a manager
                row.summary_id = _summary_id(summaries, notice.user_id, day, recipient)
            batch.append(row)
        if len(batch) >= PLAN_BATCH:
            _insert_isolating(batch, skipped)
            batch = []
    _insert_isolating(batch, skipped)
    planned = Employee.objects.all() if full else Employee.objects.filter(id__in=list(backfill_employee_ids))
    problems.problems_clear(source=DataProblem.Source.PLANNING, employee_ids=planned.exclude(id__in=list(skipped)))
    problems.problems_record(source=DataProblem.Source.PLANNING, problems=skipped)
    _revive_rows_with_new_addresses()
    created = Notification.objects.filter(created_at__gte=started)
    report.created = created.count()
    report.no_address = _report_missing_addresses(created.filter(status=Status.NO_ADDRESS), day)
    if full:
        PlanningRun.objects.create(
            day=day, backfill=backfill, people=report.people, notices=report.notices, created=report.created
        )
    logger.info("notifications planned for %s%s: %s", day, " (backfill)" if backfill else "", report)
    return report


def _summary_id(summaries: dict[int, int], user_id: int, day: datetime.date, recipient: str) -> int:
    """The manager's backfill summary of `day`, made on first need (a handful of managers: one query each)."""
    if user_id not in summaries:
        summary, _ = Notification.objects.get_or_create(
            kind=Kind.BACKFILL_SUMMARY,
            user_id=user_id,
            about_date=day,
            defaults={
                "recipient": recipient,
                "status": Status.READY if recipient else Status.NO_ADDRESS,
                "last_error": "" if recipient else NO_ADDRESS_MESSAGE,
            },
        )
        summaries[user_id] = summary.id
    return summaries[user_id]


def _row(notice: rules.Notice, recipient: str) -> Notification:
    return Notification(
        kind=notice.kind,
        employee_id=notice.employee_id,
        user_id=notice.user_id,
        credential_id=notice.credential_id,
        requirement_id=notice.requirement_id,
        about_date=notice.about_date,
        days_before=notice.days_before,
        recipient=recipient,
        status=Status.READY if recipient else Status.NO_ADDRESS,
        last_error="" if recipient else NO_ADDRESS_MESSAGE,
    )


def _insert(rows: list[Notification]) -> None:
    if rows:
        Notification.objects.bulk_create(rows, batch_size=PLAN_BATCH, ignore_conflicts=True)


# The outbox's days_before is a SmallIntegerField: a step outside it (from a date decades off) cannot be stored.
_DAYS_BEFORE_RANGE = range(-32768, 32768)


def _check_storable(notice: rules.Notice) -> None:
    if notice.days_before not in _DAYS_BEFORE_RANGE:
        raise ValueError(
            f"A {notice.kind.label.lower()} about {notice.about_date} would be {abs(notice.days_before)} days "
            "off: check the hire, assignment and card dates on record."
        )


def _insert_isolating(rows: list[Notification], skipped: dict[int, str]) -> None:
    """Insert the batch; if the database refuses it, row by row, so only the people whose rows fail are skipped."""
    try:
        with transaction.atomic():
            _insert(rows)
        return
    except DatabaseError:
        pass
    for row in rows:
        try:
            with transaction.atomic():
                _insert([row])
        except DatabaseError as error:
            if row.employee_id is None:
                raise  # a manager's notice about nobody in particular: not a person's data problem
            skipped[row.employee_id] = problems.describe(error)


def _revive_rows_with_new_addresses() -> None:
    """Rows held back for want of an address go out once HR has added one (if still due then)."""
    now = clock.now()
    revive = {"status": Status.READY, "next_attempt_at": now, "last_error": ""}
    held = Notification.objects.filter(status=Status.NO_ADDRESS)
    held.filter(user__isnull=True, employee__email__gt="").update(**revive)
    held.filter(user__isnull=False, user__email__gt="").update(**revive)


def _report_missing_addresses(new_without_address, day: datetime.date) -> int:
    """Log today's notices nobody could receive and queue one email listing them for HR."""
    count = new_without_address.count()
    if count:
        who = [
            f"manager {username} ({kind})" if username else f"{number} ({kind})"
            for kind, number, username in new_without_address.order_by("id").values_list(
                "kind", "employee__employee_number", "user__username"
            )[:20]
        ]
        logger.warning("%s notifications have no email address to go to: %s", count, ", ".join(who))
        _insert(
            [
                Notification(
                    kind=Kind.NO_ADDRESS_REPORT,
                    about_date=day,
                    recipient=settings.HR_CONTACT_EMAIL,
                    status=Status.READY if settings.HR_CONTACT_EMAIL else Status.NO_ADDRESS,
                )
            ]
        )
    return count


def digests_plan(*, day: datetime.date | None = None) -> int:
    """Queue this week's digest for every manager (once a week, however often it runs). Returns how many."""
    day = day or clock.today()
    week = rules.week_start(day)
    summaries = selectors.department_summaries(day)
    rows = []
    for manager in selectors.digest_managers():
        news = any(summaries[d].has_news for d in manager.department_ids if d in summaries)
        row = Notification(kind=Kind.DIGEST, user_id=manager.user_id, about_date=week, recipient=manager.email)
        if manager.skip_empty and not news:
            row.status, row.last_error = Status.CANCELLED, "Nothing to report; this manager skips empty digests."
        elif not manager.email:
            row.status, row.last_error = Status.NO_ADDRESS, NO_ADDRESS_MESSAGE
        rows.append(row)
    _insert(rows)
    logger.info("weekly digests planned for the week of %s: %s managers", week, len(rows))
    return len(rows)


@dataclass
class ManualReport:
    queued: list[int] = field(default_factory=list)
    already_today: list[int] = field(default_factory=list)
    nothing_due: list[int] = field(default_factory=list)
    no_address: list[int] = field(default_factory=list)


def manual_reminders_queue(*, employee_ids) -> ManualReport:
    """HR's "send reminder now": one email per person listing what needs their attention, at most once a day."""
    day = clock.today()
    ids = sorted(set(employee_ids))
    report = ManualReport()
    policy = selectors.reminder_policy()
    horizon = max(policy.reminder_days)
    people = {person.facts.employee_id: person for person in selectors.people(ids)}
    already = set(
        Notification.objects.filter(kind=Kind.MANUAL_REMINDER, about_date=day, employee_id__in=ids).values_list(
            "employee_id", flat=True
        )
    )
    rows = []
    for employee_id in ids:
        person = people.get(employee_id)
        if employee_id in already:
            report.already_today.append(employee_id)
        elif person is None or not any(rules.needs_attention(r, day, horizon) for r in person.facts.requirements):
            report.nothing_due.append(employee_id)
        else:
            rows.append(_row(rules.Notice(Kind.MANUAL_REMINDER, employee_id, about_date=day), person.email))
            (report.queued if person.email else report.no_address).append(employee_id)
    _insert(rows)
    return report


def asked_email_queue(*, kind: Kind, address: str) -> Notification:
    """A sign-in link or password reset asked for at the sign-in page: one row, for any address.

    Nobody is looked up here (the sender finds the logins): known and unknown addresses cost the
    request the same single insert, so its answer cannot tell them apart.
    """
    if kind not in rules.ASKED_KINDS:
        raise ValueError(f"{kind} is not asked for by address")
    return Notification.objects.create(kind=kind, recipient=address)


def import_finished_queue(*, user, reference: str, payload: dict) -> None:
    """Tell the HR user who started a background import how it ended, once (its key is user and reference).

    `payload` is the email's context, written by the imports app, which this one cannot read from.
    """
    row = Notification(kind=Kind.IMPORT_FINISHED, user=user, reference=reference, payload=payload, recipient=user.email)
    if not user.email:
        row.status, row.last_error = Status.NO_ADDRESS, NO_ADDRESS_MESSAGE
    _insert([row])
