"""A real SMTP server for tests (aiosmtpd on a free loopback port) that keeps what it accepts."""

import email
import email.policy
import socket

import pytest


class Sink:
    """An aiosmtpd handler that keeps every message it accepts; it can first refuse some with a 451 (try later)."""

    def __init__(self):
        self.messages = []
        self.refuse = 0
        self.port = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [message for message in self.messages if message["To"] == address]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_sink(settings, monkeypatch):
    """The server, used by this process's mail backend and by any worker a test starts afterwards."""
    from aiosmtpd.controller import Controller

    sink = Sink()
    sink.port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    monkeypatch.setenv("TEST_WORKER_EMAIL_URL", f"smtp://127.0.0.1:{sink.port}")
    yield sink
    controller.stop()
