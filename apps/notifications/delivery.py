"""Delivering the outbox, and HR's resending of what failed.

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
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection, transaction
from django.urls import reverse

from apps.accounts import services as access
from apps.accounts.links import action_url, link_logins, link_view, upload_path
from apps.compliance import read
from apps.core import clock

from . import content, emails, rules, selectors
from .models import Notification
from .planning import NO_ADDRESS_MESSAGE
from .rules import Kind

# The emails that ask staff to act: each carries their personal sign-in link (docs/access.md).
STAFF_KINDS = frozenset(
    {Kind.REMINDER, Kind.MISSING_BEFORE_DUE, Kind.MISSING_OVERDUE, Kind.PROOF_RECEIVED, Kind.MANUAL_REMINDER}
)
logger = logging.getLogger(__name__)

Status = Notification.Status
NO_ADDRESS_REPORT_LIMIT = 200
NO_LOGIN_MESSAGE = {
    Kind.SIGN_IN_LINK: "No staff login has this address (HR and managers never get a link): nothing sent.",
    Kind.PASSWORD_RESET: "No active login has this address: nothing sent.",
}
MAX_RETRY_DELAY = datetime.timedelta(hours=6)
_CONNECTION_LOST = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, smtplib.SMTPHeloError)


@dataclass
class DeliveryReport:
    sent: int = 0
    cancelled: int = 0
    retrying: int = 0
    failed: int = 0
    no_address: int = 0
    no_login: int = 0
    batches: int = 0
    interrupted: bool = False
    more: bool = False

    def __str__(self):
        return (
            f"{self.sent} sent, {self.cancelled} cancelled, {self.retrying} to retry, {self.failed} failed, "
            f"{self.no_address} without an address, "
            + (f"{self.no_login} asked for an address of no login, " if self.no_login else "")
            + f"in {self.batches} batches"
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
        # Staff emails carry a personal sign-in link: the logins a link may be made for, one query per batch.
        self.links = link_logins(employee_ids)
        self._paths: dict[tuple, str] = {}
        # Links and resets asked for at the sign-in page: the logins each address reaches, one query per kind.
        self.asked = {
            Kind.SIGN_IN_LINK: access.sign_in_link_logins(r.recipient for r in rows if r.kind == Kind.SIGN_IN_LINK),
            Kind.PASSWORD_RESET: access.password_reset_logins(
                r.recipient for r in rows if r.kind == Kind.PASSWORD_RESET
            ),
        }

    def logins_asked_for(self, row: Notification) -> list:
        return self.asked[Kind(row.kind)].get(row.recipient, [])

    @property
    def any_of(self):
        if self._any_of is None:
            self._any_of = read.requirement_any_of()
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
        if row.kind in rules.ASKED_KINDS:
            return self.logins_asked_for(row)[0].email  # as the login stores it, not as it was typed
        if row.kind == Kind.NO_ADDRESS_REPORT:
            return settings.HR_CONTACT_EMAIL
        if row.user_id:
            return row.user.email if row.user.is_active else ""
        return row.employee.email

    def email(self, row: Notification) -> tuple[str, dict]:
        name, ctx = self._email(row)
        if row.kind in STAFF_KINDS:
            # Per recipient, added when sending: everything else in the email is the same for everyone at this step.
            user = self.links.get(row.employee_id)
            view = self._path("sign_in")
            ctx["upload_url"] = action_url(user, self._path("upload", ctx.pop("preselect", None)), view=view)
            ctx["me_url"] = action_url(user, self._path("me"), view=view)
        return name, ctx

    def _path(self, page: str, preselect: int | None = None) -> str:
        """The pages the links open, reversed once per batch: reversing cost more than the rest of a link."""
        key = (page, preselect)
        if key not in self._paths:
            pages = {"upload": lambda: upload_path(preselect), "me": lambda: reverse("web:me"), "sign_in": link_view}
            self._paths[key] = pages[page]()
        return self._paths[key]

    def _email(self, row: Notification) -> tuple[str, dict]:
        day, types = self.day, self.types
        if row.kind == Kind.SIGN_IN_LINK:
            return "sign_in_link", access.sign_in_link_context(self.logins_asked_for(row))
        if row.kind == Kind.PASSWORD_RESET:
            return "password_reset", access.password_reset_context(self.logins_asked_for(row))
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
            ) | {"preselect": credential.certification_type_id}
        if row.kind == Kind.PROOF_RECEIVED:
            credential = row.credential
            return "proof_received", content.proof_received_context(
                employee=row.employee, credential=credential, certification=credential.certification_type
            )
        if row.kind in (Kind.MISSING_BEFORE_DUE, Kind.MISSING_OVERDUE):
            fact = self.requirement(row)
            options = content.options_for(fact.any_of, types)
            return str(row.kind), content.missing_context(
                employee=row.employee, options=options, due_on=row.about_date, today=day
            ) | {"preselect": options[0].pk if len(options) == 1 else None}
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
        if row.kind == Kind.IMPORT_FINISHED:
            return "import_finished", {**row.payload, "recipient_name": content.person_name(row.user)}
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
    composer = emails.Composer()
    outgoing = []
    for row in rows:
        if not batch.still_due(row):
            _finish(row, Status.CANCELLED, "No longer due when its turn came (renewed, uploaded, or changed).")
            report.cancelled += 1
            continue
        if row.kind in rules.ASKED_KINDS and not batch.logins_asked_for(row):
            _finish(row, Status.NO_LOGIN, NO_LOGIN_MESSAGE[row.kind])
            report.no_login += 1
            continue
        recipient = batch.recipient(row)
        if not recipient:
            _finish(row, Status.NO_ADDRESS, NO_ADDRESS_MESSAGE)
            report.no_address += 1
            continue
        try:
            name, ctx = batch.email(row)
            message = composer.build(name, ctx, to=recipient, message_id=emails.notification_message_id(row.id))
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
            sent = emails.send_over(mail_connection, message)
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


_MARK_SENT_SQL = (
    "UPDATE {table} SET status = %s, sent_at = %s, attempts = attempts + 1, recipient = %s, subject = %s, "
    "last_error = '', claim = NULL WHERE id = %s AND claim = %s"
)


def _connection_lost(error: Exception) -> bool:
    """The server or the network is gone (stop the batch, retry later), as opposed to one message refused.

    Every SMTPException is an OSError too: only the non-SMTP ones are socket failures.
    """
    if isinstance(error, smtplib.SMTPException):
        return isinstance(error, _CONNECTION_LOST)
    return isinstance(error, OSError)


def _mark_sent(row: Notification, recipient: str, subject: str) -> None:
    """Recorded the moment the server accepts the message, before the next one is sent.

    In plain SQL: building the ORM's UPDATE took several times the CPU of the SMTP exchange it records.
    """
    fields = {name: Notification._meta.get_field(name) for name in ("status", "sent_at", "subject", "claim")}
    values = [
        fields["status"].get_db_prep_value(Status.SENT, connection),
        fields["sent_at"].get_db_prep_value(clock.now(), connection),
        recipient,
        subject[: fields["subject"].max_length],
        row.id,
        fields["claim"].get_db_prep_value(row.claim, connection),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_MARK_SENT_SQL.format(table=connection.ops.quote_name(Notification._meta.db_table)), values)


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
