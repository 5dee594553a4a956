"""The one email helper: `emails/<name>-subject.txt`, `-body.txt` and `-body.html`, always both parts.

Every email is written to be read in a plain-text client first; the HTML part says the same.

The outbox sends thousands of emails that differ only in who they are for: `Composer` renders the templates
and builds the MIME message once for all emails with the same content, and gives each recipient a copy with
their own values put in (the keys in PERSONAL: their name, their links) as bytes, checked to be the very
email a full render would have produced.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email.utils import formatdate, make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends import smtp as smtp_backend
from django.core.mail.message import sanitize_address
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape

NAMES = (
    "reminder",
    "proof_received",
    "missing_before_due",
    "missing_overdue",
    "escalation",
    "digest",
    "manual_reminder",
    "no_address_report",
    "backfill_summary",
    "sign_in_link",
    "password_reset",
    "import_finished",
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def upload_url() -> str:
    return absolute(reverse("web:upload_proof"))


def common_context() -> dict:
    return {
        "site_url": settings.SITE_URL,
        "upload_url": upload_url(),
        "me_url": absolute(reverse("web:me")),
        "hr_contact": settings.HR_CONTACT_EMAIL,
        "time_zone": settings.TIME_ZONE,
    }


def render(name: str, ctx: dict) -> Rendered:
    if name not in NAMES:
        raise ValueError(f"no email called {name!r}")
    ctx = {**common_context(), **ctx}
    # Headers cannot hold line breaks: a subject template may wrap, the subject may not.
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", ctx).split())
    text = render_to_string(f"emails/{name}-body.txt", ctx).strip() + "\n"
    html = render_to_string(f"emails/{name}-body.html", ctx)
    return Rendered(subject=subject[:255], text=text, html=html)


def build(name: str, to: str, ctx: dict, *, connection=None, message_id: str | None = None) -> EmailMultiAlternatives:
    return _message(render(name, ctx), to, message_id=message_id or make_msgid(domain=_domain()), connection=connection)


def _message(
    rendered: Rendered,
    to: str,
    *,
    message_id: str,
    connection=None,
    date: str | None = None,
    cls: type[EmailMultiAlternatives] = EmailMultiAlternatives,
) -> EmailMultiAlternatives:
    headers = {
        # RFC 3834: out-of-office responders must not answer an automatic message.
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
        "Message-ID": message_id,
    }
    if date is not None:
        headers["Date"] = date
    message = cls(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=headers,
        connection=connection,
    )
    message.attach_alternative(rendered.html, "text/html")
    return message


# Context keys whose values differ from one recipient to the next: plain strings, printed as they are
# (never tested or filtered in a template). Any other key is part of what makes two emails the same.
PERSONAL = frozenset({"recipient_name", "upload_url", "me_url"})
# Private-use characters: never in real text, untouched by HTML escaping, and not ASCII, so a prototype's
# parts are always 8-bit UTF-8, where any value can be put in as it is.
_TEXT_SLOT = "\ue000{}\ue001"
_HTML_SLOT = "\ue002{}\ue003"
_TO = "slot-to@slot.invalid"
_MESSAGE_ID = "<slot-message-id@slot.invalid>"
_DATE = "slot-date"
_MAX_LINE = 998  # RFC 5322


class Composer:
    """Emails for many recipients from one render per distinct content, for one batch of the outbox.

    The first email with a given content is rendered and built in full, as `build` does. The second renders
    the templates once more with a placeholder for each personal value, builds the MIME message once, and
    keeps it as bytes cut at the placeholders; it is used only if putting the first recipient's values in
    gives exactly the first email. From then on, an email with that content costs a few string joins.

    An email whose values cannot go in as they are (a line break, an address that is not plain ASCII, a line
    that would grow past the SMTP limit, a template that filters a personal value) is built in full.
    """

    def __init__(self):
        self._seen: dict[tuple, tuple[Rendered, dict]] = {}
        self._prototypes: dict[tuple, _Prototype | None] = {}
        self._common = common_context()

    def build(self, name: str, ctx: dict, *, to: str, message_id: str) -> EmailMultiAlternatives:
        ctx = {**self._common, **ctx}
        personal = {key: ctx[key] for key in PERSONAL if key in ctx}
        try:
            key = (name, *sorted((k, _frozen(v)) for k, v in ctx.items() if k not in PERSONAL))
            hash(key)
        except TypeError:  # content that cannot be compared is rendered each time
            return _message(render(name, ctx), to, message_id=message_id)
        if key not in self._seen:
            rendered = render(name, ctx)
            self._seen[key] = (rendered, personal)
            return _message(rendered, to, message_id=message_id)
        if key not in self._prototypes:
            self._prototypes[key] = _Prototype.make(name, ctx, *self._seen[key])
        prototype = self._prototypes[key]
        message = prototype.message(personal, to=to, message_id=message_id) if prototype else None
        return message or _message(render(name, ctx), to, message_id=message_id)


def _frozen(value):
    return tuple(value) if isinstance(value, list) else value


@dataclass(frozen=True)
class _Prototype:
    rendered: Rendered  # with placeholders
    pieces: tuple[bytes, ...]  # the message's bytes between placeholders
    slots: tuple[str, ...]  # what goes between pieces[i] and pieces[i + 1]
    boundary: str
    longest_line: int
    keys: frozenset[str]  # the personal values the templates print
    envelope_from: str

    @classmethod
    def make(cls, name: str, ctx: dict, first: Rendered, first_personal: dict) -> _Prototype | None:
        keys = sorted(first_personal)
        if not all(isinstance(first_personal[key], str) and first_personal[key] for key in keys):
            return None
        text = render(name, {**ctx, **{key: _TEXT_SLOT.format(key) for key in keys}})
        html = render(name, {**ctx, **{key: _HTML_SLOT.format(key) for key in keys}})
        if text.subject != html.subject:  # a personal value in the subject: headers encode it
            return None
        rendered = Rendered(subject=text.subject, text=text.text, html=html.html)
        if _personalised(rendered, first_personal) != first:  # a template filtered or tested a value
            return None
        prototype = _message(rendered, _TO, message_id=_MESSAGE_ID, date=_DATE).message()
        data = prototype.as_bytes(linesep="\r\n")  # type: ignore[call-arg]  # Django's SafeMIME classes take it
        names = {_TO: "to", _MESSAGE_ID: "message_id", _DATE: "date"}
        names.update({_TEXT_SLOT.format(key): f"text:{key}" for key in keys})
        names.update({_HTML_SLOT.format(key): f"html:{key}" for key in keys})
        pattern = re.compile(b"(" + b"|".join(re.escape(token.encode()) for token in names) + b")")
        parts = pattern.split(data)
        pieces, tokens = tuple(parts[0::2]), parts[1::2]
        expected = sum(rendered.text.count(t) + rendered.html.count(t) for t in names if t[0] in "\ue000\ue002")
        # Every placeholder must be found as written: once for each header, as often as rendered in the parts.
        if len(tokens) != expected + 3 or any(b"\xee\x80" in piece for piece in pieces):
            return None
        boundary = prototype.get_boundary()
        if boundary is None:  # a multipart message always has one; without it there is nothing to reuse
            return None
        return cls(
            rendered=rendered,
            pieces=pieces,
            slots=tuple(names[token.decode()] for token in tokens),
            boundary=boundary,
            longest_line=max(map(len, data.split(b"\r\n"))),
            keys=frozenset(names[token.decode()][5:] for token in tokens if token.startswith(b"\xee")),
            envelope_from=sanitize_address(settings.DEFAULT_FROM_EMAIL, settings.DEFAULT_CHARSET),
        )

    def message(self, personal: dict, *, to: str, message_id: str) -> EmailMultiAlternatives | None:
        values = {"to": to, "message_id": message_id, "date": formatdate(localtime=settings.EMAIL_USE_LOCALTIME)}
        for key in self.keys:
            value = personal.get(key)
            if not isinstance(value, str) or not value:
                return None
            values[f"text:{key}"], values[f"html:{key}"] = value, escape(value)
        if (
            not to.isascii()
            or any("\r" in value or "\n" in value or self.boundary in value for value in values.values())
            or self.longest_line + sum(map(len, values.values())) > _MAX_LINE
        ):
            return None
        data = [self.pieces[0]]
        for slot, piece in zip(self.slots, self.pieces[1:], strict=True):
            data.append(values[slot].encode())
            data.append(piece)
        rendered = _personalised(self.rendered, personal)
        message = _message(rendered, to, message_id=message_id, date=values["date"], cls=_Prepared)
        message.raw = b"".join(data)  # type: ignore[attr-defined]  # a _Prepared (cls above)
        message.envelope_from = self.envelope_from  # type: ignore[attr-defined]
        return message


def _personalised(rendered: Rendered, personal: dict) -> Rendered:
    subject, text, html = rendered.subject, rendered.text, rendered.html
    for key, value in personal.items():
        text = text.replace(_TEXT_SLOT.format(key), value)
        html = html.replace(_HTML_SLOT.format(key), escape(value))
    return Rendered(subject=subject, text=text, html=html)


class _Prepared(EmailMultiAlternatives):
    """An email whose MIME bytes are already made: the SMTP backend sends them as they are."""

    raw: bytes
    envelope_from: str

    def message(self):
        return _RawMessage(self.raw)


class _RawMessage:
    """What EmailMessage.message() returns, for bytes already made. The SMTP backend only asks for the
    bytes; anything else (the console and file backends look at headers) reads them parsed."""

    def __init__(self, raw: bytes):
        self.raw = raw

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:
        return self.raw if linesep == "\r\n" else self.raw.replace(b"\r\n", linesep.encode())

    def __getattr__(self, name):
        return getattr(email.message_from_bytes(self.raw), name)

    def __getitem__(self, name):
        return email.message_from_bytes(self.raw)[name]


# An address that the SMTP backend's parsing would give back unchanged.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")


def send_over(mail_connection, message: EmailMultiAlternatives) -> int:
    """Send one message over an open connection; 1 if the server took it.

    A composed email goes over Django's SMTP backend to smtplib as the bytes it already is: the backend would
    parse the sender's and the recipient's addresses again for each email, more CPU than all the rest of it.
    """
    smtp = getattr(mail_connection, "connection", None)
    if (
        isinstance(message, _Prepared)
        and isinstance(mail_connection, smtp_backend.EmailBackend)
        and smtp is not None
        and _PLAIN_ADDRESS.fullmatch(message.to[0])
    ):
        smtp.sendmail(message.envelope_from, message.to, message.raw)
        return 1
    return mail_connection.send_messages([message])


def send(name: str, to: str, ctx: dict, *, connection=None) -> int:
    return build(name, to, ctx, connection=connection or get_connection()).send()


def notification_message_id(notification_id: int) -> str:
    """The same Message-ID however often a notification is sent: a receiving server may drop a repeat."""
    return f"<notification-{notification_id}@{_domain()}>"


def _domain() -> str:
    return settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"
