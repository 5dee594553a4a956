"""Signing in and out, resetting a password, being throttled, and landing where one belongs."""

import re

import pytest
from django.core import mail
from django.urls import reverse

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")


def test_each_person_lands_where_they_belong(client, hospital, charlie):
    for user, destination in [
        (hospital.hr, reverse("web:dashboard")),
        (hospital.manager, reverse("web:dashboard")),
        (hospital.alice.user, reverse("web:me")),
    ]:
        client.force_login(user)
        assert client.get("/")["Location"] == destination


def test_someone_with_no_role_gets_a_polite_page(client, charlie):
    client.force_login(charlie)

    response = client.get("/")

    assert response.status_code == 200
    assert "not linked to an employee record" in response.content.decode()


def test_the_sign_in_page_signs_in_and_sends_staff_home(client, hospital):
    response = client.get(LOGIN)
    assert 'for="id_username"' in response.content.decode()

    response = client.post(LOGIN, {"username": "alice", "password": "password"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("web:me")
    assert "Signed in as alice." in response.content.decode()


def test_a_wrong_password_says_so_on_the_form(client, hospital):
    response = client.post(LOGIN, {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert "enter a correct username and password" in response.content.decode()


def test_the_sixth_wrong_password_locks_the_account_out(client, hospital, settings):
    assert settings.SIGN_IN_FAILURE_LIMIT == 5
    first_four = [client.post(LOGIN, {"username": "alice", "password": "wrong"}).status_code for _ in range(4)]
    client.post(LOGIN, {"username": "alice", "password": "wrong"})

    sixth = client.post(LOGIN, {"username": "alice", "password": "wrong"})
    even_the_right_one = client.post(LOGIN, {"username": "alice", "password": "password"})

    assert first_four == [200, 200, 200, 200]
    for response in (sixth, even_the_right_one):
        assert response.status_code == 429
        assert "Sign-in is paused" in response.content.decode()
        assert "Try again in 1 hour" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_signing_out_needs_a_post_and_says_goodbye(client, hospital):
    client.force_login(hospital.alice.user)

    response = client.post(reverse("logout"), follow=True)

    assert response.redirect_chain[-1][0] == LOGIN
    assert "_auth_user_id" not in client.session
    assert "You are signed out." in response.content.decode()
    assert client.get(reverse("logout")).status_code == 405


def test_a_password_reset_mails_a_working_link(client, hospital, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": hospital.alice.user.email}, follow=True)

    assert "Check your email" in response.content.decode()
    (message,) = mail.outbox
    assert message.subject == "Choose a new credtrack password"
    link = re.search(r"https?://\S+", message.body).group(0)
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-long-new-passphrase-42", "new_password2": "a-long-new-passphrase-42"},
        follow=True,
    )
    assert "Your password is changed" in done.content.decode()
    hospital.alice.user.refresh_from_db()
    assert hospital.alice.user.check_password("a-long-new-passphrase-42")


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, hospital, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": "nobody@example.org"}, follow=True)

    assert "Check your email" in response.content.decode()
    assert mail.outbox == []
