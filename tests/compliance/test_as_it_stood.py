"""Past days from the database: the catalogue and the employment as they stood, read from recorded history."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from apps.compliance import periods, selectors, timeline_store
from apps.compliance import services as compliance_services
from apps.compliance.engine import Status
from apps.compliance.models import RequirementStatus
from apps.organisation.models import Employee
from tests import factories

pytestmark = pytest.mark.django_db
D = datetime.date


def noon(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def statuses(employee, day):
    answers = dict(selectors.evaluate(Employee.objects.filter(pk=employee.pk), day))
    if not answers:
        return None
    (result,) = answers.values()
    return {r.requirement_id: r.status for r in result.requirements}


def test_a_requirement_added_mid_year_is_not_required_before_and_due_after_its_due_period(catalogue):
    medsurg = factories.DepartmentFactory(code="medsurg", name="Medical-Surgical Unit")
    nurse = factories.EmployeeFactory(role=catalogue.nurse, department=medsurg, hired_on=D(2020, 1, 6))
    factories.CredentialFactory(
        employee=nurse, certification_type=catalogue.bls, issued_on=D(2025, 9, 5), expires_on=D(2027, 9, 30)
    )
    added = factories.RequirementFactory(
        role=catalogue.nurse, department=medsurg, any_of=[catalogue.acls], recorded_at=noon(D(2026, 6, 1))
    )

    assert added.pk not in statuses(nurse, D(2026, 3, 1))
    assert statuses(nurse, D(2026, 6, 1))[added.pk] == Status.NOT_YET_DUE  # everyone already there has 30 days
    assert statuses(nurse, D(2026, 7, 1))[added.pk] == Status.NOT_YET_DUE  # the due day
    assert statuses(nurse, D(2026, 7, 2))[added.pk] == Status.MISSING
    assert selectors.load_catalogue(D(2026, 3, 1)).changed_on == D(2000, 1, 1)
    assert selectors.load_catalogue(D(2026, 7, 2)).changed_on == D(2026, 6, 1)
    assert selectors.load_catalogue_history().change_days() == [D(2000, 1, 1), D(2026, 6, 1)]


def test_a_prerequisite_applies_from_the_day_it_was_recorded(catalogue):
    pals = factories.CertificationTypeFactory(code="PALS", level="specialty")
    physician = factories.RoleFactory(code="md")
    factories.RequirementFactory(role=physician, any_of=[pals])
    doctor = factories.EmployeeFactory(role=physician, department=catalogue.ward)
    factories.CredentialFactory(
        employee=doctor, certification_type=pals, issued_on=D(2025, 1, 5), expires_on=D(2027, 1, 31)
    )
    factories.PrerequisiteFactory(certification_type=pals, any_of=[catalogue.bls], recorded_at=noon(D(2026, 5, 1)))

    assert set(statuses(doctor, D(2026, 4, 30)).values()) == {Status.COMPLIANT}
    assert set(statuses(doctor, D(2026, 5, 1)).values()) == {Status.PREREQUISITE_LAPSED}


def test_a_rehire_keeps_the_first_employment_in_audits(catalogue):
    with time_machine.travel(noon(D(2015, 1, 5)), tick=False):
        nurse = factories.EmployeeFactory(role=catalogue.nurse, department=catalogue.ed, hired_on=D(2015, 1, 5))
        factories.CredentialFactory(
            employee=nurse, certification_type=catalogue.bls, issued_on=D(2015, 1, 5), expires_on=D(2017, 1, 31)
        )
    with time_machine.travel(noon(D(2019, 12, 31)), tick=False):
        nurse.terminated_on = D(2019, 12, 31)
        nurse.save()
    with time_machine.travel(noon(D(2024, 3, 1)), tick=False):
        nurse.hired_on = nurse.assigned_on = D(2024, 3, 1)
        nurse.department = catalogue.ward
        nurse.terminated_on = None
        nurse.save()

    first = statuses(nurse, D(2018, 6, 1))
    assert first is not None and Status.EXPIRED in first.values()  # the first employment's lapse is still there
    assert len(first) == 2  # in the ED then: BLS-or-CPR and ACLS
    assert statuses(nurse, D(2019, 12, 31)) is not None  # their last day: still employed
    assert statuses(nurse, D(2021, 6, 1)) is None  # between the two employments
    again = statuses(nurse, D(2024, 3, 15))
    assert list(again.values()) == [Status.NOT_YET_DUE]  # a new employment: a new due period, on the ward


def test_a_new_position_date_in_the_same_unit_forgives_no_lapse_in_any_reader(catalogue):
    """HR (or a feed) records a new start date in the same unit: the lapsed ACLS stays expired and the never-held
    one stays missing, in the engine's answer, the scan's stored rows and the status periods alike."""
    acls_requirement = next(
        r.id for r in selectors.load_catalogue(D(2026, 6, 1)).requirements if r.department_id == catalogue.ed.pk
    )
    with time_machine.travel(noon(D(2020, 1, 6)), tick=False):
        lapsed = factories.EmployeeFactory(role=catalogue.nurse, department=catalogue.ed, hired_on=D(2020, 1, 6))
        never = factories.EmployeeFactory(role=catalogue.nurse, department=catalogue.ed, hired_on=D(2020, 1, 6))
        for person in (lapsed, never):
            factories.CredentialFactory(
                employee=person, certification_type=catalogue.bls, issued_on=D(2025, 9, 5), expires_on=D(2027, 9, 30)
            )
        factories.CredentialFactory(
            employee=lapsed, certification_type=catalogue.acls, issued_on=D(2024, 4, 1), expires_on=D(2026, 4, 22)
        )
    with time_machine.travel(noon(D(2026, 5, 22)), tick=False):
        for person in (lapsed, never):
            person.assigned_on = D(2026, 5, 22)
            person.save()
    with time_machine.travel(noon(D(2026, 6, 1)), tick=False):
        compliance_services.scan_run()
        timeline_store.rebuild_all()
        for person, status in ((lapsed, Status.EXPIRED), (never, Status.MISSING)):
            assert statuses(person, D(2026, 6, 1))[acls_requirement] == status
            stored = RequirementStatus.objects.get(employee=person, requirement_id=acls_requirement)
            assert stored.status == status and "on record yet" not in stored.reason
            (period,) = [
                r
                for r in periods.requirement_rows_for(person.pk, D(2026, 6, 1))
                if r.requirement_id == acls_requirement
            ]
            assert period.status == status
