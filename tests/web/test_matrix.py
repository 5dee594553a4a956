"""The unit x certification matrix: a rate per department and certification, each cell leading to its people."""

import pytest
from django.urls import reverse

from apps.web.matrix import Band, band

pytestmark = pytest.mark.django_db


def cell_url(department, certification) -> str:
    return reverse("web:matrix_cell") + f"?department={department.pk}&certification={certification.pk}"


def test_each_cell_says_its_rate_and_counts_and_links_to_its_people(client, hospital):
    client.force_login(hospital.hr)

    page = client.get(reverse("web:matrix")).content.decode()

    # ED: Alice current on both; Edgar's BLS expired, so his ACLS stopped counting too. ICU: Ivy never held BLS.
    assert '50.0%<span class="cell-count">1 of 2</span>' in page  # ED, BLS and ED, ACLS
    assert '66.7%<span class="cell-count">2 of 3</span>' in page  # ICU, BLS
    assert cell_url(hospital.ed, hospital.acls).replace("&", "&amp;") in page
    assert 'class="band-poor"' in page
    assert "no one in Intensive Care Unit needs it" in page  # no ACLS requirement in the ICU


def test_a_manager_s_matrix_has_only_their_departments(client, hospital):
    client.force_login(hospital.manager)

    page = client.get(reverse("web:matrix")).content.decode()

    assert "Emergency Department" in page
    assert "Intensive Care Unit" not in page


def test_a_cell_lists_the_people_behind_it_unmet_first(client, hospital):
    client.force_login(hospital.manager)

    page = client.get(cell_url(hospital.ed, hospital.bls)).content.decode()

    assert "BLS in Emergency Department" in page
    assert page.index("Edgar Evans") < page.index("Alice Adams")
    assert "Brown" not in page and "Irwin" not in page


def test_a_cell_exports_as_csv(client, hospital):
    client.force_login(hospital.manager)

    response = client.get(cell_url(hospital.ed, hospital.bls) + "&format=csv")

    body = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    assert "Evans" in body and "Adams" in body and "Irwin" not in body


def test_a_cell_outside_the_managers_departments_is_not_found(client, hospital):
    client.force_login(hospital.manager)

    assert client.get(cell_url(hospital.icu, hospital.bls)).status_code == 404
    assert client.get(reverse("web:matrix_cell")).status_code == 404


@pytest.mark.parametrize(
    ("rate", "expected"), [(None, Band.NONE), (1.0, Band.GOOD), (0.95, Band.GOOD), (0.8, Band.FAIR), (0.79, Band.POOR)]
)
def test_bands_follow_the_rate(rate, expected):
    assert band(rate) == expected
