"""End to end: beat's tasks on a real Celery worker over real Redis, delivering through a real SMTP server."""

import datetime
import email
import email.policy
import socket
import time

import pytest
import redis
from django.conf import settings

from apps.compliance import services as compliance
from apps.core import clock
from apps.notifications.models import Notification
from tests.notifications.conftest import ward_nurse


class Sink:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(monkeypatch):
    from aiosmtpd.controller import Controller

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setenv("TEST_WORKER_EMAIL_URL", f"smtp://127.0.0.1:{controller.port}")
    yield sink
    controller.stop()


@pytest.fixture
def worker(transactional_db, smtp_server, request):
    """The real worker, started once the SMTP server's address is in its environment.

    `transactional_db` is named here so the whole test commits: the worker reads the data from its own connection.
    """
    return request.getfixturevalue("celery_worker_process")


def wait_for(probe, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := probe():
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the worker")


def all_tasks_finished(app) -> bool:
    """None waits in the queue and none is unacknowledged: these tasks are acknowledged late, once they finish."""
    broker = redis.Redis.from_url(app.conf.broker_url)
    return broker.llen(app.conf.task_default_queue) == 0 and broker.hlen("unacked") == 0


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_beats_tasks_on_a_real_worker_deliver_each_email_once_through_smtp(catalogue, manager, smtp_server, worker):
    today = clock.today()
    ward_nurse(catalogue, bls_expires=today + datetime.timedelta(days=30), first_name="Nora", email="nora@example.org")
    ward_nurse(catalogue, bls_expires=today - datetime.timedelta(days=1), first_name="Lou", email="lou@example.org")
    compliance.scan_run()

    daily = settings.CELERY_BEAT_SCHEDULE["daily-notifications"]["task"]
    worker.send_task(daily).get(timeout=60)
    wait_for(lambda: Notification.objects.filter(status=Notification.Status.SENT).count() == 3)

    received = {tuple(recipients): message for recipients, message in wait_for(lambda: smtp_server.messages)}
    assert set(received) == {("nora@example.org",), ("lou@example.org",), ("margaret@example.org",)}
    nora = received[("nora@example.org",)]
    expiry = today + datetime.timedelta(days=30)
    assert nora["Subject"] == f"Your BLS expires in 30 days ({expiry:%b} {expiry.day}, {expiry.year})"
    assert nora["Auto-Submitted"] == "auto-generated"
    text = nora.get_body(("plain",)).get_content()
    html = nora.get_body(("html",)).get_content()
    assert "Hello Nora," in text and "30 days from today" in text
    assert f"{settings.SITE_URL}/me/credentials/upload/" in text
    assert f'href="{settings.SITE_URL}/me/credentials/upload/?certification=' in html  # that card preselected
    assert received[("lou@example.org",)]["Subject"] == "Your BLS expired 1 day ago: please renew it"
    assert received[("margaret@example.org",)]["Subject"].startswith("Lou ")

    # Beat runs again (a second planning, and the periodic sender): nothing is delivered twice.
    worker.send_task(daily).get(timeout=60)
    worker.send_task(settings.CELERY_BEAT_SCHEDULE["send-outbox"]["task"]).get(timeout=60)
    # Bounded, not a fixed pause: once nothing is queued or unfinished, the sender queued by the second planning ran.
    wait_for(lambda: all_tasks_finished(worker))
    assert len(smtp_server.messages) == 3
    assert set(Notification.objects.values_list("status", flat=True)) == {Notification.Status.SENT}
