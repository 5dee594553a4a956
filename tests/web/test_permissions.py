"""Who may open what: every URL of the web app (and the proof files it links to) for every kind of person.

anonymous -> sign-in page; charlie (no role) and staff -> 404 on anything not theirs; the Emergency
Department's manager -> the ED only (the ICU's people are 404 and absent from lists, exports and charts);
HR -> everything. The secret calendar link is the one URL that needs no login: the secret is the key.
"""

import datetime
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import URLPattern, reverse

from apps.certifications.models import Credential
from apps.core import clock
from apps.web import services
from apps.web.urls import urlpatterns
from tests import factories

pytestmark = pytest.mark.django_db

ANONYMOUS, CHARLIE, STAFF, MANAGER, HR = "anonymous", "charlie", "staff", "manager", "hr"
PEOPLE = (ANONYMOUS, CHARLIE, STAFF, MANAGER, HR)
OVERSIGHT = {MANAGER: 200, HR: 200}
HAS_A_RECORD = {STAFF: 200, MANAGER: 200}


@dataclass(frozen=True)
class Case:
    name: str  # URL name, for the every-URL-is-covered check
    url: callable  # hospital -> path
    allowed: dict  # who gets what; every other signed-in person gets 404
    method: str = "get"
    data: dict | None = None
    public: bool = False  # no login needed: anonymous is treated like everyone else


def today() -> str:
    return clock.today().isoformat()


def csv(name):
    return lambda h: reverse(name) + "?format=csv"


CASES = {
    "home": Case("web:home", lambda h: reverse("web:home"), {CHARLIE: 200, STAFF: 302, MANAGER: 302, HR: 302}),
    "dashboard": Case("web:dashboard", lambda h: reverse("web:dashboard"), OVERSIGHT),
    "dashboard-as-of": Case(
        "web:dashboard",
        lambda h: reverse("web:dashboard") + "?as_of=" + (clock.today().replace(day=1)).isoformat(),
        OVERSIGHT,
    ),
    "people": Case("web:employee_list", lambda h: reverse("web:employee_list"), OVERSIGHT),
    "matrix": Case("web:matrix", lambda h: reverse("web:matrix"), OVERSIGHT),
    "matrix-own-cell": Case(
        "web:matrix_cell",
        lambda h: f"{reverse('web:matrix_cell')}?department={h.ed.pk}&certification={h.bls.pk}",
        OVERSIGHT,
    ),
    "matrix-other-cell": Case(
        "web:matrix_cell",
        lambda h: f"{reverse('web:matrix_cell')}?department={h.icu.pk}&certification={h.bls.pk}",
        {HR: 200},
    ),
    "people-csv": Case("web:employee_list", csv("web:employee_list"), OVERSIGHT),
    "attention": Case("web:attention", lambda h: reverse("web:attention"), OVERSIGHT),
    "attention-csv": Case("web:attention", csv("web:attention"), OVERSIGHT),
    "expiring": Case("web:renewals", lambda h: reverse("web:renewals"), OVERSIGHT),
    "expiring-csv": Case("web:renewals", csv("web:renewals"), OVERSIGHT),
    "forecast": Case("web:forecast", lambda h: reverse("web:forecast"), OVERSIGHT),
    "forecast-csv": Case("web:forecast", csv("web:forecast"), OVERSIGHT),
    "audit-form": Case("web:audit_report", lambda h: reverse("web:audit_report"), OVERSIGHT),
    "audit-own-department": Case(
        "web:audit_report", lambda h: f"{reverse('web:audit_report')}?department={h.ed.pk}&as_of={today()}", OVERSIGHT
    ),
    "audit-other-department": Case(
        "web:audit_report", lambda h: f"{reverse('web:audit_report')}?department={h.icu.pk}&as_of={today()}", {HR: 200}
    ),
    "employee-in-own-department": Case(
        "web:employee_detail", lambda h: reverse("web:employee_detail", args=[h.alice.pk]), {STAFF: 200, **OVERSIGHT}
    ),
    "employee-in-other-department": Case(
        "web:employee_detail", lambda h: reverse("web:employee_detail", args=[h.bob.pk]), {HR: 200}
    ),
    "managers-own-record": Case(
        "web:employee_detail", lambda h: reverse("web:employee_detail", args=[h.margaret.pk]), OVERSIGHT
    ),
    "no-such-employee": Case("web:employee_detail", lambda h: reverse("web:employee_detail", args=[999999]), {}),
    "file-in-own-department": Case(
        "web:person_file", lambda h: reverse("web:person_file", args=[h.alice.pk]), {STAFF: 200, **OVERSIGHT}
    ),
    "file-in-other-department": Case(
        "web:person_file", lambda h: reverse("web:person_file", args=[h.bob.pk]), {HR: 200}
    ),
    "file-pdf-in-own-department": Case(
        "web:person_file_pdf", lambda h: reverse("web:person_file_pdf", args=[h.alice.pk]), {STAFF: 200, **OVERSIGHT}
    ),
    "file-pdf-in-other-department": Case(
        "web:person_file_pdf", lambda h: reverse("web:person_file_pdf", args=[h.bob.pk]), {HR: 200}
    ),
    "my-credentials": Case("web:me", lambda h: reverse("web:me"), HAS_A_RECORD),
    "upload": Case("web:upload_proof", lambda h: reverse("web:upload_proof"), HAS_A_RECORD),
    "calendar-new": Case(
        "web:calendar_link_create", lambda h: reverse("web:calendar_link_create"), {STAFF: 302, MANAGER: 302}, "post"
    ),
    "calendar-revoke": Case(
        "web:calendar_link_revoke", lambda h: reverse("web:calendar_link_revoke"), {STAFF: 302, MANAGER: 302}, "post"
    ),
    "calendar-feed": Case(
        "web:calendar_feed",
        lambda h: reverse("web:calendar_feed", args=[services.calendar_feed_create(employee=h.bob)]),
        dict.fromkeys(PEOPLE, 200),
        public=True,
    ),
    "calendar-feed-revoked": Case("web:calendar_feed", lambda h: revoked_feed(h.bob), {}, public=True),
    "calendar-feed-unknown": Case(
        "web:calendar_feed", lambda h: reverse("web:calendar_feed", args=["not-a-real-secret"]), {}, public=True
    ),
    "verification-queue": Case("web:verification_queue", lambda h: reverse("web:verification_queue"), {HR: 200}),
    "verify": Case(
        "web:verification_verify",
        lambda h: reverse("web:verification_verify", args=[pending_card(h).pk]),
        {HR: 302},
        "post",
    ),
    "reject": Case(
        "web:verification_reject",
        lambda h: reverse("web:verification_reject", args=[pending_card(h).pk]),
        {HR: 302},
        "post",
        {"reason": "Blurred photo"},
    ),
    "own-proof": Case(
        "credential_proof", lambda h: reverse("credential_proof", args=[h.alices_card.pk]), {STAFF: 200, HR: 200}
    ),
    "another-persons-proof": Case(
        "credential_proof", lambda h: reverse("credential_proof", args=[h.bobs_card.pk]), {HR: 200}
    ),
}


def revoked_feed(employee) -> str:
    secret = services.calendar_feed_create(employee=employee)
    services.calendar_feed_revoke(employee=employee)
    return reverse("web:calendar_feed", args=[secret])


def pending_card(h) -> Credential:
    return Credential.objects.create(
        employee=h.bob,
        certification_type=h.acls,
        issued_on=clock.today() - datetime.timedelta(days=3),
        expires_on=clock.today() + datetime.timedelta(days=700),
        verification=Credential.Verification.PENDING,
    )


def sign_in(client, hospital, person):
    if person == ANONYMOUS:
        return
    users = {STAFF: hospital.alice.user, MANAGER: hospital.manager, HR: hospital.hr}
    client.force_login(users[person] if person in users else factories.UserFactory(username="charlie"))


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("case_id", CASES)
def test_the_permission_matrix(client, hospital, case_id, person):
    case = CASES[case_id]
    url = case.url(hospital)
    sign_in(client, hospital, person)

    response = getattr(client, case.method)(url, case.data or {})

    if person == ANONYMOUS and not case.public:
        assert response.status_code == 302
        assert response["Location"].startswith(resolve_url(settings.LOGIN_URL) + "?next=")
    else:
        assert response.status_code == case.allowed.get(person, 404), f"{person} on {case_id}: {url}"


def test_the_matrix_covers_every_url_of_the_app():
    names = {f"web:{pattern.name}" for pattern in urlpatterns if isinstance(pattern, URLPattern)}

    assert names <= {case.name for case in CASES.values()}


def test_a_404_page_is_a_proper_page_that_says_nothing_more(client, db):
    client.force_login(factories.UserFactory(username="nobody"))
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Not found" in response.content
