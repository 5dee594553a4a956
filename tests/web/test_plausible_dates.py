"""A day outside the supported range is a form error on the page, never a 500."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("day", ["0001-01-01", "1949-12-31"])
def test_the_dashboard_refuses_a_day_before_1950(client, hospital, day):
    client.force_login(hospital.manager)

    response = client.get(reverse("web:dashboard"), {"as_of": day})

    assert response.status_code == 200
    assert "from 1950-01-01 on" in response.context["form"].errors["as_of"][0]


def test_the_audit_report_refuses_a_day_before_1950(client, hospital):
    client.force_login(hospital.manager)

    response = client.get(reverse("web:audit_report"), {"department": hospital.ed.pk, "as_of": "0001-01-01"})

    assert response.status_code == 200
    assert response.context["form"].errors["as_of"]
