"""Checks every admin test module makes: flat query counts on changelists, and who is refused."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse


def admin_url(app_label: str, model: str, view: str = "changelist", *args) -> str:
    return reverse(f"admin:{app_label}_{model}_{view}", args=args)


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def changelist_queries_at_10_and_500(client, url: str, build) -> tuple[int, int]:
    """`build(count, offset)` adds rows; returns the query counts of the changelist at 10 and at 500 rows."""
    build(10, 0)
    client.get(url)  # warm per-process caches (content types, sessions) out of the measurement
    with_10 = count_queries(client, url)
    build(490, 10)
    return with_10, count_queries(client, url)


def assert_sent_to_admin_login(client, url: str, user=None) -> None:
    if user is not None:
        client.force_login(user)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={url}"
