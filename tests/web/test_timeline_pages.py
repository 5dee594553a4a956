"""Dashboard and forecast from the stored status periods: the same figures the engine gives, any day, any scope."""

import pytest
from django.urls import reverse

from apps.compliance import timeline_store
from apps.compliance.engine import Status
from apps.compliance.read import Filters
from apps.compliance.read import forecast as forecasting
from apps.compliance.read import overview as overviews
from apps.core import clock
from apps.organisation import scoping
from tests import factories

from .conftest import days

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(hospital):
    tom = factories.EmployeeFactory(
        first_name="Tom", department=hospital.ed, role=hospital.nurse, hired_on=clock.today() - days(900)
    )
    tom.department, tom.assigned_on = hospital.icu, clock.today() - days(5)
    tom.save()  # moved from the ED to the ICU five days ago
    timeline_store.rebuild_all()
    return hospital


def figures(overview):
    return (
        overview.everyone.counts,
        [(t.label, dict(t.counts)) for t in overview.by_department],
        [(t.label, dict(t.counts)) for t in overview.by_role],
        [(t.label, dict(t.counts)) for t in overview.by_certification],
        overview.attention_total,
        [(row.employee.pk, row.status, row.reason) for row in overview.attention],
        overview.renewals_within,
        overview.renewals_by_week,
    )


@pytest.mark.parametrize("ago", [0, 1, 11, 20, 200, 1200])
@pytest.mark.parametrize("who", ["hr", "manager"])
@pytest.mark.parametrize(
    "filters",
    [Filters(), Filters(status=Status.EXPIRED), Filters(role_id=-1)],
    ids=["all", "expired", "no-role"],
)
def test_the_overview_from_periods_is_the_engines(built, ago, who, filters):
    user = getattr(built, who)
    scope = scoping.scope_for(user)
    employees, department_ids = scoping.overseen_employees_on_any_day(scope)
    catalogue = overviews.catalogue_for(scoping.visible_departments(scope))
    day = clock.today() - days(ago)

    from_periods = overviews.overview_from_periods(
        department_ids=department_ids, filters=filters, catalogue=catalogue, day=day, today=clock.today()
    )
    from_engine = overviews.overview_on(
        employees=employees, department_ids=department_ids, filters=filters, catalogue=catalogue, day=day
    )
    assert figures(from_periods) == figures(from_engine)


@pytest.mark.parametrize("ago, department", [(11, "ed"), (0, "icu")])
def test_a_days_attention_rows_name_where_the_person_stood_that_day(built, ago, department):
    scope = scoping.scope_for(built.hr)
    employees, _ = scoping.overseen_employees_on_any_day(scope)
    catalogue = overviews.catalogue_for(scoping.visible_departments(scope))
    day = clock.today() - days(ago)
    answers = [
        overviews.overview_from_periods(
            department_ids=None, filters=Filters(), catalogue=catalogue, day=day, today=clock.today()
        ),
        overviews.overview_on(
            employees=employees, department_ids=None, filters=Filters(), catalogue=catalogue, day=day
        ),
    ]
    for answer in answers:
        toms = {row.employee.department.name for row in answer.attention if row.employee.first_name == "Tom"}
        assert toms == {getattr(built, department).name}


def test_the_certification_filter_agrees_with_the_engine(built):
    scope = scoping.scope_for(built.hr)
    catalogue = overviews.catalogue_for(scoping.visible_departments(scope))
    filters = Filters(certification_id=built.acls.pk)
    day = clock.today() - days(3)
    employees, _ = scoping.overseen_employees_on_any_day(scope)
    assert figures(
        overviews.overview_from_periods(
            department_ids=None, filters=filters, catalogue=catalogue, day=day, today=clock.today()
        )
    ) == figures(
        overviews.overview_on(employees=employees, department_ids=None, filters=filters, catalogue=catalogue, day=day)
    )


def test_the_forecast_from_periods_is_the_engines(built):
    today = clock.today()
    for horizon in (30, 60, 90, 400):
        from_periods = forecasting.forecast_from_periods(
            department_ids=None, filters=Filters(), day=today, horizon_days=horizon
        )
        from_engine = forecasting.forecast_list(
            employees=scoping.overseen_employees(scoping.scope_for(built.hr)),
            filters=Filters(),
            day=today,
            horizon_days=horizon,
        )
        assert [(x.employee_id, x.requirement_id, x.on, x.status) for x in from_periods] == [
            (x.employee_id, x.requirement_id, x.on, x.status) for x in from_engine
        ]


def test_the_dashboard_reads_the_periods_in_a_fixed_number_of_queries(client, built, django_assert_max_num_queries):
    client.force_login(built.hr)
    url = reverse("web:dashboard")
    with django_assert_max_num_queries(40) as captured:
        assert client.get(url, {"as_of": (clock.today() - days(20)).isoformat()}).status_code == 200
    for n in range(30):
        factories.EmployeeFactory(department=built.ed, role=built.nurse, hired_on=clock.today() - days(100 + n))
    timeline_store.rebuild_all()
    with django_assert_max_num_queries(len(captured)):
        response = client.get(url, {"as_of": (clock.today() - days(20)).isoformat()})
    assert response.context["overview"].everyone.total == 36  # the five, Tom, and thirty more


def test_a_manager_sees_only_their_departments_on_any_day(client, built):
    client.force_login(built.manager)
    then = client.get(reverse("web:dashboard"), {"as_of": (clock.today() - days(20)).isoformat()})
    now = client.get(reverse("web:dashboard"))
    assert [t.label for t in then.context["overview"].by_department] == ["Emergency Department"]
    assert then.context["overview"].everyone.total == 3  # Tom was in the ED then
    assert now.context["overview"].everyone.total == 2 and now.context["overview"].stored


def test_the_forecast_page_reads_the_periods_for_the_manager_only(client, built):
    client.force_login(built.manager)
    response = client.get(reverse("web:forecast"), {"days": 90})
    assert {row.employee.pk for row in response.context["page"].object_list} == {built.alice.pk}


def test_charlie_gets_no_dashboard(client, built, charlie):
    client.force_login(charlie)
    assert client.get(reverse("web:dashboard")).status_code == 404
