"""Redis down: asking for a sign-in link or a password reset still answers "check your email", and the emails
reach a real SMTP server once Redis is back, each once. A real Celery worker runs against the test's own
redis-server (tests/faults.py), which the test stops and starts again."""

import pytest
import redis
from django.test import Client
from django.urls import reverse

from apps.notifications import tasks
from apps.notifications.models import Notification
from tests.accounts.test_link_request import RESET, ask
from tests.faults import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def redis_url(cache_on_own_redis):
    """The worker's broker (celery_worker_process) and this process's cache (the request throttle): the test's
    own server."""
    return cache_on_own_redis.url


def nothing_left(app) -> bool:
    broker = redis.Redis.from_url(app.conf.broker_url)
    return broker.llen(app.conf.task_default_queue) == 0 and broker.hlen("unacked") == 0


def test_with_redis_down_the_answer_is_the_usual_one_and_the_emails_follow_once(
    dora, smtp_sink, own_redis, redis_url, celery_worker_process
):
    own_redis.stop()
    client = Client()

    link = ask(client, "dora@example.org")
    reset = ask(client, "dora@example.org", RESET)

    assert (link.status_code, link["Location"]) == (302, reverse("sign_in_link_sent"))
    assert (reset.status_code, reset["Location"]) == (302, reverse("password_reset_done"))
    assert "Check your email" in client.get(link["Location"]).content.decode()
    assert set(Notification.objects.values_list("status", flat=True)) == {Notification.Status.READY}
    assert smtp_sink.messages == []

    own_redis.start()
    tasks.send_outbox.delay()  # what beat sends every few minutes ("send-outbox")
    wait_for(lambda: len(smtp_sink.messages) == 2, timeout=60, what="both emails at the SMTP server")

    tasks.send_outbox.delay()  # a second sender run, as beat's next one: nothing is sent again
    wait_for(lambda: nothing_left(celery_worker_process), timeout=60, what="the second sender run")
    subjects = sorted(message["Subject"] for message in smtp_sink.to("dora@example.org"))
    assert subjects == ["Choose a new credtrack password", "Your credtrack sign-in link"]
    assert set(Notification.objects.values_list("status", flat=True)) == {Notification.Status.SENT}
