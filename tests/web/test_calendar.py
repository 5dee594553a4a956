"""The private calendar feed of a person's expiry dates, behind a revocable secret link."""

import datetime

import icalendar
import pytest
from django.urls import reverse

from apps.certifications.models import Credential
from apps.core import clock
from apps.web.models import CalendarFeedToken, hash_feed_secret
from apps.web.views.self_service import NEW_FEED_LINK

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_alice(client, hospital):
    client.force_login(hospital.alice.user)
    return client


def make_link(client) -> str:
    response = client.post(reverse("web:calendar_link_create"), follow=True)
    return response.context["new_feed_link"]


def events(client, link: str) -> dict[str, icalendar.Event]:
    response = client.get(link)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    return {str(event["summary"]): event for event in calendar.walk("VEVENT")}


def test_the_link_is_shown_once_and_stored_only_as_a_hash(as_alice, hospital):
    link = make_link(as_alice)

    secret = link.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(secret) >= 43  # 32 random bytes
    token = CalendarFeedToken.objects.get(employee=hospital.alice)
    assert token.secret_hash == hash_feed_secret(secret)
    assert secret not in token.secret_hash
    again = as_alice.get(reverse("web:me"))
    assert again.context["new_feed_link"] is None
    assert secret not in again.content.decode()
    assert NEW_FEED_LINK not in as_alice.session


def test_the_feed_lists_each_cards_expiry_with_reminders(as_alice, client, hospital):
    link = make_link(as_alice)
    client.logout()

    found = events(client, link)

    assert set(found) == {"BLS card expires", "ACLS stops counting: BLS expires"}
    bls = found["BLS card expires"]
    assert bls.decoded("dtstart") == hospital.alices_card.expires_on
    assert [alarm.decoded("trigger") for alarm in bls.walk("VALARM")] == [
        datetime.timedelta(days=-30),
        datetime.timedelta(days=-7),
    ]


def test_a_dependent_card_shows_the_day_it_stops_counting_with_its_prerequisite(as_alice, hospital):
    """Alice's ACLS runs for 400 more days but counts only while her BLS, expiring in 40, is current."""
    acls = hospital.alice.credentials.get(certification_type=hospital.acls)

    found = events(as_alice, make_link(as_alice))

    event = found["ACLS stops counting: BLS expires"]
    bls_expiry = hospital.alices_card.expires_on
    assert event.decoded("dtstart") == bls_expiry < acls.expires_on
    description = str(event["description"])
    assert f"Your ACLS card runs to {acls.expires_on:%b %-d, %Y}" in description
    assert f"the BLS expires on {bls_expiry:%b %-d, %Y}. Renew the BLS to keep the ACLS counting." in description


def test_a_renewed_prerequisite_gives_the_dependent_card_its_own_date_again(as_alice, hospital):
    acls = hospital.alice.credentials.get(certification_type=hospital.acls)
    Credential.objects.create(
        employee=hospital.alice,
        certification_type=hospital.bls,
        issued_on=clock.today(),
        expires_on=acls.expires_on + datetime.timedelta(days=300),
        verification=Credential.Verification.VERIFIED,
    )

    found = events(as_alice, make_link(as_alice))

    assert found["ACLS card expires"].decoded("dtstart") == acls.expires_on


def test_each_event_says_where_to_upload_once(as_alice):
    for event in events(as_alice, make_link(as_alice)).values():
        description = str(event["description"]).lower()
        assert description.count("upload") == 1, description


def test_a_renewed_card_replaces_the_old_date(as_alice, hospital):
    renewed = Credential.objects.create(
        employee=hospital.alice,
        certification_type=hospital.bls,
        issued_on=clock.today(),
        expires_on=clock.today() + datetime.timedelta(days=730),
        verification=Credential.Verification.PENDING,
    )

    found = events(as_alice, make_link(as_alice))

    assert found["BLS card expires"].decoded("dtstart") == renewed.expires_on


def test_a_newcomers_due_date_is_in_the_feed(client, hospital):
    hospital.ivy.assigned_on = hospital.ivy.hired_on = clock.today() - datetime.timedelta(days=3)
    hospital.ivy.user = hospital.alice.user
    hospital.alice.user = None
    hospital.alice.save()
    hospital.ivy.save()
    client.force_login(hospital.ivy.user)

    found = events(client, make_link(client))

    assert found["BLS due"].decoded("dtstart") == clock.today() + datetime.timedelta(days=27)


def test_revoking_the_link_stops_it_at_once(as_alice):
    link = make_link(as_alice)

    response = as_alice.post(reverse("web:calendar_link_revoke"), follow=True)

    assert "no longer works" in response.content.decode()
    assert as_alice.get(link).status_code == 404


def test_a_new_link_replaces_the_old_one(as_alice, hospital):
    old = make_link(as_alice)
    new = make_link(as_alice)

    assert as_alice.get(old).status_code == 404
    assert as_alice.get(new).status_code == 200
    assert CalendarFeedToken.objects.filter(employee=hospital.alice, revoked_at__isnull=True).count() == 1


def test_revoking_without_a_link_says_so(as_alice):
    response = as_alice.post(reverse("web:calendar_link_revoke"), follow=True)

    assert "You had no calendar link to revoke" in response.content.decode()


def test_an_unknown_link_is_a_404(client):
    assert client.get(reverse("web:calendar_feed", args=["x" * 43])).status_code == 404


def test_the_links_only_answer_posts(as_alice):
    assert as_alice.get(reverse("web:calendar_link_create")).status_code == 405
    assert as_alice.get(reverse("web:calendar_link_revoke")).status_code == 405
