"""Failed sign-ins lock the username attacked; one address is stopped only past a far higher ceiling, and the
address is the client's as the documented TLS proxy passes it on."""

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
NAT = "203.0.113.7"


def sign_in(client, username, password="wrong", address=NAT, **headers):
    body = urlencode({"username": username, "password": password})
    return client.post(LOGIN, body, content_type="application/x-www-form-urlencoded", REMOTE_ADDR=address, **headers)


@pytest.fixture
def ann_and_ben(db):
    return factories.UserFactory(username="ann"), factories.UserFactory(username="ben")


def test_five_wrong_passwords_for_ann_do_not_lock_ben_at_the_same_address(client, ann_and_ben):
    for _ in range(5):
        sign_in(client, "ann")

    ann_locked = sign_in(client, "ann", "password")
    ben = sign_in(client, "ben", "password")

    assert ann_locked.status_code == 429
    assert "Try again in 1 hour" in ann_locked.content.decode()
    assert ben.status_code == 302
    assert client.session["_auth_user_id"] == str(ann_and_ben[1].pk)


def test_ann_is_locked_from_every_address(client, ann_and_ben):
    for _ in range(5):
        sign_in(client, "ann")

    assert sign_in(client, "ann", "password", address="198.51.100.1").status_code == 429


def test_an_address_is_stopped_past_the_ceiling_whatever_usernames_it_tries(client, ann_and_ben, settings):
    settings.SIGN_IN_ADDRESS_CEILING = 12
    for attempt in range(12):
        assert sign_in(client, f"guess{attempt % 4}").status_code == 200  # four names, three tries each

    stopped = sign_in(client, "ben", "password")
    elsewhere = sign_in(client, "ben", "password", address="198.51.100.1")

    assert stopped.status_code == 429
    assert "failed sign-ins from your network" in stopped.content.decode()
    assert elsewhere.status_code == 302


def test_behind_the_proxy_each_client_is_told_apart_by_x_forwarded_for(client, ann_and_ben, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.SIGN_IN_ADDRESS_CEILING = 6
    proxy = "10.0.0.2"
    for attempt in range(6):
        sign_in(client, f"guess{attempt}", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.50")

    attacker = sign_in(client, "ben", "password", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.50")
    colleague = sign_in(client, "ben", "password", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.51")

    forged = sign_in(client, "ben", "password", address=proxy, HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.50")

    assert attacker.status_code == 429
    assert colleague.status_code == 302
    assert forged.status_code == 429  # an address the client wrote itself, left of the proxy's, is ignored
