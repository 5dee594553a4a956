"""Writes for notifications: planning the outbox, delivering it, and HR's actions on it.

Planning (daily, after the compliance scan; digests weekly) asks rules.py what is due and inserts
one outbox row per notice with `ignore_conflicts`: each kind's natural key is unique in the
database, so a notice already planned (or sent) is never planned again.

Delivery claims ready rows a batch at a time with a conditional update (`status=ready` ->
`sending`, stamped with the batch's claim token): two senders, or two overlapping beat runs,
cannot both hold a row. Just before sending, the rules are asked again; a row no longer due
(renewed, proof uploaded, left) is cancelled instead. Each batch goes over one SMTP connection,
and each message is marked sent the moment the server accepts it. The one window left (the
server accepted it, the worker died before marking it) is described in docs/notifications.md.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import smtplib
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import get_connection
from django.db import DatabaseError, connection, transaction
from django.db.models import F

from apps.core import clock
from apps.organisation import problems
from apps.organisation.models import DataProblem, Employee

from . import content, emails, rules, selectors
from .models import Notification, PlanningRun
from .rules import Kind

logger = logging.getLogger(__name__)

Status = Notification.Status
PLAN_BATCH = 1000
NO_ADDRESS_MESSAGE = "No email address on record."
NO_ADDRESS_REPORT_LIMIT = 200
MAX_RETRY_DELAY = datetime.timedelta(hours=6)
_CONNECTION_LOST = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, smtplib.SMTPHeloError)


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
class DeliveryReport:
    sent: int = 0
    cancelled: int = 0
    retrying: int = 0
    failed: int = 0
    no_address: int = 0
    batches: int = 0
    interrupted: bool = False
    more: bool = False

    def __str__(self):
        return (
            f"{self.sent} sent, {self.cancelled} cancelled, {self.retrying} to retry, {self.failed} failed, "
            f"{self.no_address} without an address, in {self.batches} batches"
            + (" (interrupted: mail server unavailable)" if self.interrupted else "")
        )


def outbox_deliver(
    *, batch_size: int | None = None, max_seconds: float | None = None, mail_connection=None
) -> DeliveryReport:
    """Send every ready row, a batch per SMTP connection, until none is left (or `max_seconds` passed)."""
    batch_size = batch_size or settings.NOTIFICATIONS_SEND_BATCH
    started = clock.now()
    report = DeliveryReport()
    outbox_requeue_stale()
    while True:
        rows = outbox_claim(limit=batch_size)
        if not rows:
            break
        report.batches += 1
        _deliver_batch(rows, report, mail_connection)
        if report.interrupted:
            break
        if max_seconds is not None and (clock.now() - started).total_seconds() > max_seconds:
            report.more = True
            break
    if report.sent or report.failed or report.interrupted:
        logger.info("outbox delivery: %s", report)
    return report


def outbox_claim(*, limit: int) -> list[Notification]:
    """Take up to `limit` ready rows for this sender alone.

    The conditional update (only rows still `ready` become `sending`, stamped with this batch's
    token) is what makes a row go to one sender only; on PostgreSQL, SKIP LOCKED also lets
    concurrent senders take different rows instead of queueing behind each other.
    """
    token = uuid.uuid4()
    now = clock.now()
    with transaction.atomic():
        ids = list(
            Notification.objects.filter(status=Status.READY, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return []
        Notification.objects.filter(id__in=ids, status=Status.READY).update(
            status=Status.SENDING, claim=token, claimed_at=now
        )
    return list(
        Notification.objects.filter(claim=token, status=Status.SENDING)
        .select_related("employee__department", "user", "credential__certification_type")
        .order_by("id")
    )


def outbox_requeue_stale() -> int:
    """Rows left `sending` by a worker that died go back to the queue (they may go out twice: see the docs)."""
    limit = clock.now() - datetime.timedelta(minutes=settings.NOTIFICATIONS_SENDING_STALE_MINUTES)
    count = Notification.objects.filter(status=Status.SENDING, claimed_at__lt=limit).update(
        status=Status.READY,
        claim=None,
        last_error="Queued again: the worker sending it stopped (it may have been delivered already).",
    )
    if count:
        logger.warning("%s notifications were stuck in 'sending' and are queued again", count)
    return count


class _Batch:
    """What one batch of claimed rows needs to decide relevance and render: a fixed number of queries."""

    def __init__(self, rows: list[Notification], day: datetime.date):
        self.day = day
        employee_ids = {row.employee_id for row in rows if row.employee_id}
        self.people = {person.facts.employee_id: person for person in selectors.people(employee_ids)}
        self.policy = selectors.reminder_policy()
        self.managers = selectors.department_managers()
        self.types = selectors.certification_types()
        self.due = {
            notice.key
            for person in self.people.values()
            for notice in rules.notices_for(
                person.facts, day=day, policy=self.policy, managers=self.managers.by_department
            )
        }
        self._any_of = None

    @property
    def any_of(self):
        if self._any_of is None:
            self._any_of = selectors.requirement_any_of()
        return self._any_of

    def requirement(self, row: Notification) -> rules.RequirementFact | None:
        person = self.people.get(row.employee_id)
        if person is None:
            return None
        return next((r for r in person.facts.requirements if r.requirement_id == row.requirement_id), None)

    def attention(self, employee_id: int) -> list[rules.RequirementFact]:
        person = self.people.get(employee_id)
        if person is None or (person.facts.terminated_on is not None and person.facts.terminated_on < self.day):
            return []
        horizon = max(self.policy.reminder_days)
        return [r for r in person.facts.requirements if rules.needs_attention(r, self.day, horizon)]

    def still_due(self, row: Notification) -> bool:
        if row.kind in rules.RULED_KINDS:
            return row.key in self.due
        if row.kind == Kind.MANUAL_REMINDER:
            return bool(self.attention(row.employee_id))
        if row.kind == Kind.DIGEST:
            return row.user.is_active and row.about_date == rules.week_start(self.day)
        if row.kind == Kind.BACKFILL_SUMMARY:
            return row.user.is_active and row.rolled_up.exists()
        return True

    def recipient(self, row: Notification) -> str:
        if row.kind == Kind.NO_ADDRESS_REPORT:
            return settings.HR_CONTACT_EMAIL
        if row.user_id:
            return row.user.email if row.user.is_active else ""
        return row.employee.email

    def email(self, row: Notification) -> tuple[str, dict]:
        day, types = self.day, self.types
        if row.kind == Kind.REMINDER:
            credential = row.credential
            person = self.people.get(row.employee_id)
            dependents = rules.dependents_of(person.facts, credential.id) if person else []
            return "reminder", content.reminder_context(
                employee=row.employee,
                credential=credential,
                certification=credential.certification_type,
                expires_on=row.about_date,
                today=day,
                dependents=content.options_for({r.credential_type_id for r in dependents}, types),
            )
        if row.kind == Kind.PROOF_RECEIVED:
            credential = row.credential
            return "proof_received", content.proof_received_context(
                employee=row.employee, credential=credential, certification=credential.certification_type
            )
        if row.kind in (Kind.MISSING_BEFORE_DUE, Kind.MISSING_OVERDUE):
            fact = self.requirement(row)
            return str(row.kind), content.missing_context(
                employee=row.employee, options=content.options_for(fact.any_of, types), due_on=row.about_date, today=day
            )
        if row.kind == Kind.BACKFILL_SUMMARY:
            lines = row.rolled_up.select_related("employee__department", "requirement").order_by(
                "employee__department__name", "employee__last_name", "employee__first_name", "about_date"
            )
            return "backfill_summary", content.backfill_summary_context(
                manager=row.user, day=row.about_date, rows=list(lines), types=types, any_of=self.any_of
            )
        if row.kind == Kind.ESCALATION:
            fact = self.requirement(row)
            person = self.people[row.employee_id]
            affected = rules.dependents_of(person.facts, fact.renew_credential_id) if fact.renew_credential_id else []
            return "escalation", content.escalation_context(
                affected=content.options_for({r.credential_type_id for r in affected}, types),
                manager=row.user,
                employee=row.employee,
                department=row.employee.department,
                options=content.options_for(fact.any_of, types),
                certification=types.get(fact.credential_type_id),
                status=fact.status,
                since=row.about_date,
                reason=fact.reason,
                today=day,
            )
        if row.kind == Kind.DIGEST:
            digest = selectors.digest_for(user=row.user, day=day, types=types, any_of=self.any_of)
            return "digest", content.digest_context(digest=digest)
        if row.kind == Kind.MANUAL_REMINDER:
            items = content.attention_items(self.attention(row.employee_id), types, day)
            return "manual_reminder", content.manual_reminder_context(employee=row.employee, items=items)
        return "no_address_report", self._no_address_report(row.about_date)

    def _no_address_report(self, day: datetime.date) -> dict:
        held = _held_for_address(day)
        rows = held.select_related("employee__department", "user").order_by("id")[:NO_ADDRESS_REPORT_LIMIT]
        return content.no_address_report_context(day=day, rows=[_no_address_line(r) for r in rows], total=held.count())


def _held_for_address(day: datetime.date):
    return Notification.objects.filter(
        status=Status.NO_ADDRESS,
        created_at__gte=clock.start_of_day(day),
        created_at__lt=clock.start_of_day(day + datetime.timedelta(days=1)),
    )


def _no_address_line(row: Notification) -> content.NoAddressLine:
    kind = Kind(row.kind).label
    if row.user_id:
        return content.NoAddressLine(content.person_name(row.user), f"login {row.user.get_username()}", "manager", kind)
    employee = row.employee
    return content.NoAddressLine(employee.full_name, employee.employee_number, employee.department.name, kind)


def _deliver_batch(rows: list[Notification], report: DeliveryReport, mail_connection) -> None:
    batch = _Batch(rows, clock.today())
    outgoing = []
    for row in rows:
        if not batch.still_due(row):
            _finish(row, Status.CANCELLED, "No longer due when its turn came (renewed, uploaded, or changed).")
            report.cancelled += 1
            continue
        recipient = batch.recipient(row)
        if not recipient:
            _finish(row, Status.NO_ADDRESS, NO_ADDRESS_MESSAGE)
            report.no_address += 1
            continue
        try:
            name, ctx = batch.email(row)
            message = emails.build(name, recipient, ctx, message_id=emails.notification_message_id(row.id))
        except Exception as error:  # one broken row must not hold up the batch; it is retried, then failed
            logger.exception("could not render notification %s", row.id)
            _retry_later(row, error, report)
            continue
        outgoing.append((row, recipient, message))
    if not outgoing:
        return

    mail_connection = mail_connection or get_connection()
    try:
        mail_connection.open()
    except Exception as error:
        for row, _, _ in outgoing:
            _retry_later(row, error, report)
        report.interrupted = True
        return
    try:
        with _records_without_waiting_for_disk():
            _send_each(outgoing, mail_connection, report)
    finally:
        try:
            mail_connection.close()
        except Exception:  # the messages are recorded; a failed QUIT changes nothing
            logger.warning("closing the SMTP connection failed", exc_info=True)


def _send_each(outgoing: list, mail_connection, report: DeliveryReport) -> None:
    for index, (row, recipient, message) in enumerate(outgoing):
        message.connection = mail_connection
        try:
            sent = mail_connection.send_messages([message])
        except Exception as error:  # whatever the backend raises, the row records it and is retried
            _retry_later(row, error, report)
            if _connection_lost(error):
                for unsent, _, _ in outgoing[index + 1 :]:
                    _release(unsent)
                report.interrupted = True
                return
            continue
        if sent:
            _mark_sent(row, recipient, message.subject)
            report.sent += 1
        else:
            _retry_later(row, RuntimeError("the mail backend accepted nothing"), report)


def _connection_lost(error: Exception) -> bool:
    """The server or the network is gone (stop the batch, retry later), as opposed to one message refused.

    Every SMTPException is an OSError too: only the non-SMTP ones are socket failures.
    """
    if isinstance(error, smtplib.SMTPException):
        return isinstance(error, _CONNECTION_LOST)
    return isinstance(error, OSError)


def _mark_sent(row: Notification, recipient: str, subject: str) -> None:
    """Recorded the moment the server accepts the message, before the next one is sent."""
    Notification.objects.filter(id=row.id, claim=row.claim).update(
        status=Status.SENT,
        sent_at=clock.now(),
        attempts=F("attempts") + 1,
        recipient=recipient,
        subject=subject[:255],
        last_error="",
        claim=None,
    )


@contextlib.contextmanager
def _records_without_waiting_for_disk():
    """Waiting for PostgreSQL to flush its log after every message cost more than the SMTP exchange itself.

    Each record is still committed before the next message goes out, so a worker that dies loses
    nothing; only a crash of the database server could lose its last fraction of a second of
    such records (see docs/notifications.md).
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _finish(row: Notification, status: str, reason: str) -> None:
    Notification.objects.filter(id=row.id, claim=row.claim).update(status=status, last_error=reason, claim=None)


def _release(row: Notification) -> None:
    """Back to the queue untried, a little later: the server just went away."""
    Notification.objects.filter(id=row.id, claim=row.claim).update(
        status=Status.READY, claim=None, next_attempt_at=clock.now() + retry_delay(1)
    )


def retry_delay(attempts: int) -> datetime.timedelta:
    """Exponential backoff: base, 2x base, 4x base... capped at six hours."""
    delay = datetime.timedelta(seconds=settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return min(delay, MAX_RETRY_DELAY)


def _retry_later(row: Notification, error: Exception, report: DeliveryReport) -> None:
    attempts = row.attempts + 1
    message = f"{type(error).__name__}: {error}"[:2000]
    if attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        status, next_attempt_at = Status.FAILED, clock.now()
        report.failed += 1
        logger.error("notification %s failed for good after %s attempts: %s", row.id, attempts, message)
    else:
        status, next_attempt_at = Status.READY, clock.now() + retry_delay(attempts)
        report.retrying += 1
    Notification.objects.filter(id=row.id, claim=row.claim).update(
        status=status, attempts=attempts, last_error=message, next_attempt_at=next_attempt_at, claim=None
    )


def notifications_resend(*, notification_ids) -> int:
    """Queue failed notifications again, with a fresh set of attempts. Sent ones are never resent."""
    return Notification.objects.filter(id__in=list(notification_ids), status=Status.FAILED).update(
        status=Status.READY, attempts=0, next_attempt_at=clock.now()
    )


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
    if report.queued:
        from .tasks import send_outbox  # tasks import this module

        transaction.on_commit(send_outbox.delay)
    return report
