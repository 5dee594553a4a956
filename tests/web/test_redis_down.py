"""With Redis stopped, the dashboard (whose charts are cached) still answers; the charts are drawn afresh."""

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.redis]


def test_the_dashboard_answers_with_redis_stopped(client, hospital, cache_on_own_redis):
    client.force_login(hospital.manager)
    cache_on_own_redis.stop()

    response = client.get(reverse("web:dashboard"))

    assert response.status_code == 200
    assert b'class="chart-image"' in response.content
