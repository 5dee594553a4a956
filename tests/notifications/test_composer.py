"""The outbox's composer: one render for many recipients, and every email exactly what a full render gives."""

import datetime
import email
import email.policy
import socket

import pytest

from apps.certifications.models import CertificationType, Credential
from apps.notifications import content, emails
from apps.organisation.models import Employee

D = datetime.date
TODAY = D(2026, 6, 1)
BLS = CertificationType(id=1, code="BLS", name="Basic Life Support", renewal_guidance="Book <a> BLS & go.")


IN_30_DAYS = D(2026, 7, 1)


def reminder(first_name: str, *, expires_on=IN_30_DAYS) -> dict:
    card = Credential(issued_on=D(2024, 7, 1), expires_on=expires_on)
    return content.reminder_context(
        employee=Employee(first_name=first_name), credential=card, certification=BLS, expires_on=expires_on, today=TODAY
    )


def parsed(message) -> dict:
    """What a mail client sees: the headers that matter and both decoded parts."""
    data = email.message_from_bytes(message.message().as_bytes(linesep="\r\n"), policy=email.policy.default)
    return {
        "headers": {name: str(data[name]) for name in ("To", "From", "Subject", "Message-ID", "Auto-Submitted")},
        "text": data.get_body(("plain",)).get_content(),
        "html": data.get_body(("html",)).get_content(),
    }


def full(name: str, ctx: dict, to: str, number: int):
    return emails.build(name, to, ctx, message_id=emails.notification_message_id(number))


PEOPLE = [
    ("Nora", "nora@example.org"),
    ("Zoë", "zoe@example.org"),
    ("O'Brien & <Co>", "obrien@example.org"),
    ("Ann", "ann@example.org"),
]


@pytest.mark.parametrize("upload_url", [None, "https://credtrack.example.org/accounts/link/?sesame=AbC&next=/me/"])
def test_each_email_is_the_one_a_full_render_gives(db, upload_url):
    composer = emails.Composer()
    for number, (name, address) in enumerate(PEOPLE, start=1):
        ctx = reminder(name) | ({"upload_url": f"{upload_url}{number}"} if upload_url else {})
        message = composer.build("reminder", ctx, to=address, message_id=emails.notification_message_id(number))
        expected = full("reminder", ctx, address, number)

        assert (message.subject, message.body, message.alternatives, message.to) == (
            expected.subject,
            expected.body,
            expected.alternatives,
            expected.to,
        )
        assert parsed(message) == parsed(expected)
        assert f"Hello {name}," in parsed(message)["text"]
        if upload_url:
            assert f"{upload_url}{number}" in parsed(message)["text"]


def test_the_templates_are_rendered_three_times_for_any_number_of_recipients_of_one_content(db, monkeypatch):
    calls = []
    real = emails.render
    monkeypatch.setattr(emails, "render", lambda name, ctx: calls.append(name) or real(name, ctx))
    composer = emails.Composer()

    messages = [
        composer.build("reminder", reminder(f"Person {n}"), to=f"p{n}@example.org", message_id=f"<{n}@x>")
        for n in range(50)
    ]

    # The first in full; then once with text placeholders and once with HTML ones.
    assert calls == ["reminder"] * 3
    assert [m.body.splitlines()[0] for m in messages] == [f"Hello Person {n}," for n in range(50)]
    assert [isinstance(m, emails._Prepared) for m in messages] == [False] + [True] * 49


def test_different_content_is_rendered_for_itself(db):
    composer = emails.Composer()
    first = composer.build("reminder", reminder("Nora"), to="a@example.org", message_id="<1@x>")
    later = composer.build(
        "reminder", reminder("Ann", expires_on=D(2026, 6, 15)), to="b@example.org", message_id="<2@x>"
    )
    again = composer.build(
        "reminder", reminder("Bob", expires_on=D(2026, 6, 15)), to="c@example.org", message_id="<3@x>"
    )

    assert "30 days" in first.subject and "14 days" in later.subject and "14 days" in again.subject
    assert parsed(again)["text"].startswith("Hello Bob,")


@pytest.mark.parametrize(
    ("name", "address"),
    [("Line\nbreak", "lb@example.org"), ("Nora", "nöra@exämple.org"), ("", "blank@example.org"), ("x" * 990, "a@b.c")],
)
def test_values_that_cannot_go_in_as_they_are_get_a_full_render(db, name, address):
    composer = emails.Composer()
    for n in range(2):
        composer.build("reminder", reminder(f"Warm up {n}"), to=f"w{n}@example.org", message_id=f"<w{n}@x>")

    message = composer.build("reminder", reminder(name), to=address, message_id="<9@x>")

    expected = full("reminder", reminder(name), address, 9)
    assert (message.body, message.alternatives) == (expected.body, expected.alternatives)
    assert not isinstance(message, emails._Prepared)
    message.message().as_bytes()  # a full build serialises as Django does


def test_a_template_that_transforms_a_personal_value_gets_a_full_render(db, monkeypatch):
    real = emails.render_to_string

    def shouting(template, ctx):
        text = real(template, ctx)
        return text.replace(ctx["recipient_name"], ctx["recipient_name"].upper()) if "body" in template else text

    monkeypatch.setattr(emails, "render_to_string", shouting)
    composer = emails.Composer()

    bodies = [
        composer.build("reminder", reminder(name), to=address, message_id=f"<{n}@x>").body
        for n, (name, address) in enumerate(PEOPLE)
    ]

    assert [body.splitlines()[0] for body in bodies] == [f"Hello {name.upper()}," for name, _ in PEOPLE]


def test_a_prepared_email_reads_like_any_other_for_the_console_and_file_backends(db):
    composer = emails.Composer()
    for n, (name, address) in enumerate(PEOPLE):
        message = composer.build("reminder", reminder(name), to=address, message_id=f"<{n}@x>")

    assert isinstance(message, emails._Prepared)
    mime = message.message()
    assert mime["To"] == "ann@example.org" and mime.get_charset() is None
    assert b"\r\n" not in mime.as_bytes() and b"Hello Ann," in mime.as_bytes()


class Sink:
    """An aiosmtpd handler that keeps each envelope."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def test_over_smtp_a_composed_email_arrives_as_the_full_render_would(db, settings):
    from aiosmtpd.controller import Controller
    from django.core.mail import get_connection

    sink = Sink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        connection = get_connection(
            "django.core.mail.backends.smtp.EmailBackend", host="127.0.0.1", port=controller.port
        )
        connection.open()
        composer = emails.Composer()
        for number, (name, address) in enumerate(PEOPLE, start=1):
            message = composer.build("reminder", reminder(name), to=address, message_id=f"<{number}@x>")
            assert emails.send_over(connection, message) == 1
        connection.close()
    finally:
        controller.stop()

    assert [envelope.rcpt_tos for envelope in sink.envelopes] == [[address] for _, address in PEOPLE]
    assert {envelope.mail_from for envelope in sink.envelopes} == {"credtrack@localhost"}
    for number, ((name, address), envelope) in enumerate(zip(PEOPLE, sink.envelopes, strict=True), start=1):
        received = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        expected = parsed(full("reminder", reminder(name), address, number))
        assert received.get_body(("plain",)).get_content() == expected["text"]
        assert received.get_body(("html",)).get_content() == expected["html"]
        assert (received["To"], received["Subject"], received["Message-ID"]) == (
            address,
            expected["headers"]["Subject"],
            f"<{number}@x>",
        )
