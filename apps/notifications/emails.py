"""The one email helper: `emails/<name>-subject.txt`, `-body.txt` and `-body.html`, always both parts.

Every email is written to be read in a plain-text client first; the HTML part says the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse

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
    rendered = render(name, ctx)
    headers = {
        # RFC 3834: out-of-office responders must not answer an automatic message.
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
        "Message-ID": message_id or make_msgid(domain=_domain()),
    }
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=headers,
        connection=connection,
    )
    message.attach_alternative(rendered.html, "text/html")
    return message


def send(name: str, to: str, ctx: dict, *, connection=None) -> int:
    return build(name, to, ctx, connection=connection or get_connection()).send()


def notification_message_id(notification_id: int) -> str:
    """The same Message-ID however often a notification is sent: a receiving server may drop a repeat."""
    return f"<notification-{notification_id}@{_domain()}>"


def _domain() -> str:
    return settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"
