"""The personal sign-in link: signs plain staff in, opens the page for the action at a clean URL, and stops
working when it expires, when the password or address changes, when the login is switched off, and for
anyone with more power than plain staff."""

import datetime
from urllib.parse import urlsplit

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from sesame.utils import get_query_string

from apps.accounts.links import sign_in_url
from apps.accounts.provisioning import account_sync
from apps.organisation.models import Employee
from apps.organisation.scoping import HR_PERMISSION
from tests import factories

pytestmark = pytest.mark.django_db
User = get_user_model()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_the_link_signs_staff_in_and_redirects_at_once_to_the_clean_page(client, dora):
    upload = reverse("web:upload_proof") + "?certification=7"

    response = client.get(path_of(sign_in_url(dora.user, upload)))

    assert response.status_code == 302
    assert response["Location"] == upload
    assert "sesame" not in response["Location"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    assert int(client.session["_auth_user_id"]) == dora.user.pk
    assert client.get(upload).status_code == 200


def test_the_link_expires_after_the_configured_days(client, dora, settings):
    assert datetime.timedelta(days=14) == settings.SESAME_MAX_AGE
    link = path_of(sign_in_url(dora.user, reverse("web:me")))

    with time_machine.travel(datetime.timedelta(days=13, hours=23)):
        assert client.get(link).status_code == 302
    client.logout()
    with time_machine.travel(datetime.timedelta(days=14, minutes=1)):
        expired = client.get(link)

    assert expired.status_code == 403
    assert "no longer works" in expired.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_never_signs_in_hr_a_manager_or_a_superuser(client, dora):
    link = path_of(sign_in_url(dora.user, reverse("web:me")))
    user = dora.user

    for promote, demote in [
        (lambda: setattr(user, "is_superuser", True), lambda: setattr(user, "is_superuser", False)),
        (lambda: setattr(user, "is_staff", True), lambda: setattr(user, "is_staff", False)),
    ]:
        promote()
        user.save()
        assert client.get(link).status_code == 403
        demote()
        user.save()

    department = factories.DepartmentFactory(code="icu")
    department.managers.add(user)
    assert client.get(link).status_code == 403
    department.managers.remove(user)

    app_label, codename = HR_PERMISSION.split(".")
    hr = Group.objects.create(name="HR")
    hr.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    user.groups.add(hr)
    assert client.get(link).status_code == 403
    user.groups.remove(hr)

    assert client.get(link).status_code == 302


def test_a_login_that_belongs_to_no_employee_cannot_use_a_link(client, charlie):
    assert client.get(path_of(sign_in_url(charlie, reverse("web:me")))).status_code == 403


def test_it_dies_on_a_password_change(client, dora):
    link = path_of(sign_in_url(dora.user, reverse("web:me")))
    dora.user.set_password("a-brand-new-passphrase-9")
    dora.user.save()

    assert client.get(link).status_code == 403


def test_it_dies_when_the_address_changes(client, dora):
    link = path_of(sign_in_url(dora.user, reverse("web:me")))
    Employee.objects.filter(pk=dora.pk).update(email="dora.new@example.org")
    account_sync(employee=dora)

    assert client.get(link).status_code == 403


def test_it_dies_on_deactivation(client, dora):
    link = path_of(sign_in_url(dora.user, reverse("web:me")))
    Employee.objects.filter(pk=dora.pk).update(terminated_on=datetime.date(2020, 1, 31))
    account_sync(employee=dora)

    assert client.get(link).status_code == 403


def test_only_a_link_made_for_this_purpose_is_accepted(client, dora):
    unscoped = get_query_string(dora.user)  # a valid django-sesame token, but not a sign-in link's

    assert client.get(reverse("sign_in_link") + unscoped).status_code == 403
    assert client.get(reverse("web:me") + unscoped).status_code == 302  # to the login page: no other view takes it
    assert "_auth_user_id" not in client.session


def test_it_never_redirects_off_the_site(client, dora):
    response = client.get(path_of(sign_in_url(dora.user, "https://evil.example.com/")))

    assert response["Location"] == reverse("web:me")


def test_a_session_a_link_opened_ends_when_the_person_becomes_a_manager(client, dora):
    client.get(path_of(sign_in_url(dora.user, reverse("web:me"))))
    factories.DepartmentFactory(code="ed").managers.add(dora.user)

    response = client.get(reverse("web:me"))

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
