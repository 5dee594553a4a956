"""Compliance answers carry an ETag; a client that sends it back gets 304 until the answer changes."""

import pytest

pytestmark = pytest.mark.django_db

V1 = "/api/v1"


@pytest.mark.parametrize(
    "url", ["employees/{bob}/compliance/", "compliance/employees/", "compliance/departments/", "findings/"]
)
def test_an_unchanged_answer_is_a_304(api, scanned, hr_admin, url):
    api.force_login(hr_admin)
    url = f"{V1}/{url.format(bob=scanned.bob.pk)}"

    first = api.get(url)
    again = api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200
    assert "private" in first["Cache-Control"]
    assert again.status_code == 304
    assert again.content == b""


def test_a_changed_answer_is_sent_again(api, scanned, hr_admin, django_capture_on_commit_callbacks):
    api.force_login(hr_admin)
    url = f"{V1}/employees/{scanned.bob.pk}/compliance/"
    etag = api.get(url)["ETag"]

    with django_capture_on_commit_callbacks(execute=True):
        api.delete(f"{V1}/credentials/{scanned.bob.credentials.get().pk}/")
    response = api.get(url, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response["ETag"] != etag
    assert response.json()["status"] == "missing"


def test_someone_else_with_the_same_etag_still_gets_their_own_answer(api, scanned, hr_admin):
    api.force_login(hr_admin)
    hr_etag = api.get(f"{V1}/compliance/employees/")["ETag"]
    api.force_login(scanned.margaret)

    response = api.get(f"{V1}/compliance/employees/", HTTP_IF_NONE_MATCH=hr_etag)

    assert response.status_code == 200
    assert [row["employee"]["id"] for row in response.json()["results"]] == [scanned.alice.pk]
