"""How pages say things: one date format, thousands separators, grammar, card states, error pages, branding."""

import datetime

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from apps.certifications.models import Credential
from apps.core import clock
from apps.web.cards import CardState, card_rows
from apps.web.guidance import indefinite_article
from tests import factories

pytestmark = pytest.mark.django_db

DAY = datetime.date(2021, 1, 16)


def render(source: str, **context) -> str:
    return Template("{% load web_tags %}" + source).render(Context(context))


def test_dates_follow_the_organisations_locale_everywhere():
    assert render("{{ day|date }} {{ day }}", day=DAY) == "Jan 16, 2021 Jan 16, 2021"
    with translation.override("en-gb"):
        assert render("{{ day|date }}", day=DAY) == "16 Jan 2021"


def test_the_engines_iso_dates_are_written_in_the_locales_format():
    text = "BLS expired on 2021-01-16; lapsed since 2021-01-17. Card 2021-13-45 is not a date."
    assert render("{{ text|local_dates }}", text=text) == (
        "BLS expired on Jan 16, 2021; lapsed since Jan 17, 2021. Card 2021-13-45 is not a date."
    )


def test_counts_have_thousands_separators():
    assert render("{{ n|number }} people, {{ rate|percent }}", n=3748, rate=0.91234) == "3,748 people, 91.2%"
    assert render("{{ rate|percent }}", rate=2 / 3) == "66.7%"


@pytest.mark.parametrize(
    ("words", "article"),
    [("ACLS", "an"), ("BLS", "a"), ("BLS or CPR", "a"), ("NRP", "an"), ("PALS", "a"), ("ATLS", "an"), ("hour", "a")],
)
def test_the_article_follows_how_the_code_is_said(words, article):
    assert indefinite_article(words) == article


def test_my_page_offers_an_acls_course_not_a_acls_course(client, hospital):
    hospital.acls.renewal_url = "https://example.org/acls"
    hospital.acls.renewal_guidance = "Renew with a two-day course."
    hospital.acls.save()
    hospital.edgar.user = factories.UserFactory(username="edgar")
    hospital.edgar.save()
    client.force_login(hospital.edgar.user)

    page = client.get(reverse("web:me")).content.decode()

    assert "Book an ACLS course" in page
    assert "Book a ACLS" not in page


def card(employee, kind, issued, expires, verification=Credential.Verification.VERIFIED):
    return factories.CredentialFactory(
        employee=employee, certification_type=kind, issued_on=issued, expires_on=expires, verification=verification
    )


def test_old_cards_are_marked_superseded_or_expired(hospital):
    today = clock.today()
    old = card(hospital.bob, hospital.acls, today - datetime.timedelta(900), today - datetime.timedelta(170))
    renewed = card(hospital.bob, hospital.acls, today - datetime.timedelta(200), today + datetime.timedelta(500))
    lapsed = card(hospital.ivy, hospital.bls, today - datetime.timedelta(800), today - datetime.timedelta(70))
    waiting = card(
        hospital.ivy,
        hospital.bls,
        today - datetime.timedelta(2),
        today + datetime.timedelta(700),
        verification=Credential.Verification.PENDING,
    )

    states = {row.credential: row for row in card_rows([old, renewed, lapsed, waiting], today)}

    assert states[old].state == CardState.SUPERSEDED and states[old].superseded_by == renewed
    assert states[renewed].state == CardState.CURRENT
    # A renewal HR has not verified does not replace the old card yet.
    assert states[lapsed].state == CardState.EXPIRED
    assert states[waiting].state == CardState.CURRENT


def test_my_cards_table_says_which_card_is_superseded(client, hospital):
    today = clock.today()
    card(hospital.alice, hospital.bls, today - datetime.timedelta(1000), today - datetime.timedelta(270))
    client.force_login(hospital.alice.user)

    page = client.get(reverse("web:me")).content.decode()

    assert "Superseded" in page
    assert f"by the card issued {hospital.alices_card.issued_on:%b %-d, %Y}" in page


def test_hr_and_managers_opening_my_credentials_are_told_they_have_no_staff_record(client, hospital):
    client.force_login(hospital.hr)

    response = client.get(reverse("web:me"))

    assert response.status_code == 404
    page = response.content.decode()
    assert "You have no staff record" in page
    assert reverse("web:dashboard") in page
    assert "Traceback" not in page


def test_a_login_with_no_record_and_no_department_gets_the_page_without_dashboard_links(client, charlie):
    client.force_login(charlie)

    response = client.get(reverse("web:upload_proof"))

    assert response.status_code == 404
    assert "You have no staff record" in response.content.decode()
    assert reverse("web:dashboard") not in response.content.decode()


@override_settings(DEBUG=False)
def test_not_found_has_the_sites_own_style(client, hospital):
    client.force_login(hospital.manager)

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "web/web.css" in response.content.decode() and "Not found" in response.content.decode()


def test_the_403_and_500_pages_render_on_their_own():
    from django.template.loader import render_to_string

    assert "Something went wrong on our side" in render_to_string("500.html")
    assert "You cannot do this here" in render_to_string("403.html")
    assert "This form has expired" in render_to_string("403_csrf.html")


def test_a_rejected_form_post_without_csrf_gets_the_styled_page(hospital):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(hospital.alice.user)

    response = client.post(reverse("web:calendar_link_create"))

    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


def test_the_audit_report_form_starts_on_today(client, hospital):
    client.force_login(hospital.manager)

    page = client.get(reverse("web:audit_report")).content.decode()

    assert f'value="{clock.today().isoformat()}"' in page


def test_the_forecast_names_both_ends_of_its_window(client, hospital):
    client.force_login(hospital.manager)

    page = client.get(reverse("web:forecast"), {"days": 30}).content.decode()

    end = clock.today() + datetime.timedelta(30)
    assert f"from {clock.today():%b %-d, %Y} to {end:%b %-d, %Y} if nobody renews" in page
    assert "and then" not in page


def test_the_admin_is_branded_and_names_its_models_properly(client, hospital):
    client.force_login(hospital.hr)

    page = client.get(reverse("admin:index")).content.decode()

    assert "credtrack administration" in page
    assert "Django administration" not in page
    assert "Employee statuses" in page and "Requirement statuses" in page
    assert "statuss" not in page
    assert "web/favicon.svg" in page


def test_there_is_a_favicon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"].endswith("web/favicon.svg")
    assert client.get(response["Location"]).status_code == 200
