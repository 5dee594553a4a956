"""The compliance rules, over plain data: no database, so hundreds of cases run in milliseconds."""

import datetime
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.compliance.engine import (
    Catalogue,
    CertType,
    CredentialFact,
    EmployeeFacts,
    PrerequisiteRule,
    RequirementRule,
    Status,
    Verification,
    evaluate_employee,
    forecast_employee,
)

D = datetime.date
CPR, BLS, ACLS, PALS, NRP, ATLS = range(1, 7)
TYPES = {
    pk: CertType(pk, code, 90)
    for pk, code in zip(range(1, 7), ["CPR", "BLS", "ACLS", "PALS", "NRP", "ATLS"], strict=True)
}
PREREQUISITES = [PrerequisiteRule(ACLS, frozenset({BLS, CPR})), PrerequisiteRule(PALS, frozenset({BLS}))]

# Roles and units from the article's table.
NURSE, PARAMEDIC, MEDICAL_ASSISTANT, PHYSICIAN, TEACHER = range(1, 6)
ED, WARD, EMS, CLINIC, PEDIATRICS, TRAUMA, SCHOOL = range(1, 8)
REQUIREMENTS = [
    RequirementRule(1, NURSE, None, frozenset({BLS, CPR})),
    RequirementRule(2, NURSE, ED, frozenset({ACLS})),
    RequirementRule(3, PARAMEDIC, None, frozenset({BLS})),
    RequirementRule(4, PARAMEDIC, None, frozenset({ACLS})),
    RequirementRule(5, MEDICAL_ASSISTANT, None, frozenset({CPR, BLS})),
    RequirementRule(6, PHYSICIAN, None, frozenset({BLS})),
    RequirementRule(7, PHYSICIAN, None, frozenset({ACLS})),
    RequirementRule(8, PHYSICIAN, PEDIATRICS, frozenset({PALS})),
    RequirementRule(9, PHYSICIAN, TRAUMA, frozenset({ATLS})),
    RequirementRule(10, TEACHER, None, frozenset({CPR})),
    RequirementRule(11, NURSE, WARD, frozenset({NRP}), mandatory=False),
]
CATALOGUE = Catalogue(types=TYPES, requirements=REQUIREMENTS, prerequisites=PREREQUISITES)
TODAY = D(2026, 6, 15)
_ids = itertools.count(1)


def card(type_id, issued, expires, verification=Verification.VERIFIED):
    return CredentialFact(next(_ids), type_id, issued, expires, verification)


def person(role, department, *credentials, assigned=None, hired=None, terminated=None):
    assigned = assigned or D(2020, 1, 1)
    return EmployeeFacts(1, role, department, assigned, hired or assigned, terminated, tuple(credentials))


def status_of(employee, requirement_id, day=TODAY):
    result = evaluate_employee(employee, CATALOGUE, day)
    return next(r for r in result.requirements if r.requirement_id == requirement_id)


CURRENT_BLS = (BLS, D(2025, 9, 5), D(2027, 9, 30))
CURRENT_ACLS = (ACLS, D(2025, 9, 5), D(2027, 9, 30))


@pytest.mark.parametrize(
    ("credentials", "requirement_id", "expected"),
    [
        # any-of: BLS or CPR
        ([CURRENT_BLS], 1, Status.COMPLIANT),
        ([(CPR, D(2025, 1, 1), D(2027, 1, 31))], 1, Status.COMPLIANT),
        # the expiry day itself is still valid; the day after is not
        ([(BLS, D(2024, 6, 1), D(2026, 6, 15))], 1, Status.EXPIRING),
        ([(BLS, D(2024, 6, 1), D(2026, 6, 14))], 1, Status.EXPIRED),
        # renewal window: 90 days counts as expiring, 91 does not
        ([(BLS, D(2024, 9, 1), D(2026, 9, 13))], 1, Status.EXPIRING),
        ([(BLS, D(2024, 9, 1), D(2026, 9, 14))], 1, Status.COMPLIANT),
        ([], 1, Status.MISSING),
        # ACLS never satisfies a BLS/CPR requirement by itself
        ([CURRENT_ACLS], 1, Status.MISSING),
        # a rejected card counts for nothing; a pending one is pending
        ([(*CURRENT_BLS, Verification.REJECTED)], 1, Status.MISSING),
        ([(*CURRENT_BLS, Verification.PENDING)], 1, Status.PENDING_VERIFICATION),
        # pending renewal after a lapse: pending, not expired
        (
            [(BLS, D(2023, 1, 1), D(2025, 1, 31)), (BLS, D(2026, 6, 1), D(2028, 6, 30), Verification.PENDING)],
            1,
            Status.PENDING_VERIFICATION,
        ),
        # a verified current card beats a pending one
        ([CURRENT_BLS, (BLS, D(2026, 6, 1), D(2028, 6, 30), Verification.PENDING)], 1, Status.COMPLIANT),
        # latest expiry wins among any-of types
        ([(BLS, D(2024, 7, 1), D(2026, 7, 31)), (CPR, D(2025, 9, 1), D(2027, 9, 30))], 1, Status.COMPLIANT),
        # prerequisites: ACLS with current BLS counts, without it does not
        ([CURRENT_BLS, CURRENT_ACLS], 2, Status.COMPLIANT),
        ([(CPR, D(2025, 9, 5), D(2027, 9, 30)), CURRENT_ACLS], 2, Status.COMPLIANT),
        ([(BLS, D(2024, 1, 1), D(2026, 1, 31)), CURRENT_ACLS], 2, Status.PREREQUISITE_LAPSED),
        ([CURRENT_ACLS], 2, Status.PREREQUISITE_LAPSED),
        # an ED nurse must hold BLS-or-CPR anyway: their BLS expiring leaves the ACLS requirement compliant
        ([(BLS, D(2024, 7, 1), D(2026, 7, 31)), CURRENT_ACLS], 2, Status.COMPLIANT),
        ([(BLS, D(2024, 7, 1), D(2026, 7, 31)), CURRENT_ACLS], 1, Status.EXPIRING),
        # credentials issued after the day do not exist yet
        ([(BLS, D(2026, 6, 16), D(2028, 6, 30))], 1, Status.MISSING),
    ],
)
def test_it_gives_each_status(credentials, requirement_id, expected):
    nurse = person(NURSE, ED, *(card(*c) for c in credentials))
    assert status_of(nurse, requirement_id).status == expected


def test_it_says_when_and_why_a_credential_expired():
    nurse = person(NURSE, ED, card(BLS, D(2024, 3, 1), D(2026, 3, 31)))
    result = status_of(nurse, 1)
    assert result.since == D(2026, 4, 1)
    assert "BLS expired on 2026-03-31" in result.reason


def test_it_caps_acls_at_the_bls_expiry_and_says_so():
    bls, acls = card(BLS, D(2024, 10, 1), D(2026, 10, 31)), card(*CURRENT_ACLS)
    result = status_of(person(NURSE, ED, bls, acls), 2)
    assert result.status == Status.COMPLIANT
    assert result.expires_on == D(2026, 10, 31)
    assert result.reason == "ACLS current until 2027-09-30; counts while BLS is current (BLS expires 2026-10-31)."
    assert (result.credential_id, result.renew_credential_id) == (acls.id, bls.id)


def test_it_follows_prerequisite_chains():
    # PALS needs BLS; a chain where the middle link lapses breaks the top.
    types = {**TYPES, 7: CertType(7, "XPALS")}
    catalogue = Catalogue(
        types=types,
        requirements=[RequirementRule(1, PHYSICIAN, None, frozenset({7}))],
        prerequisites=[*PREREQUISITES, PrerequisiteRule(7, frozenset({PALS}))],
    )
    pals = card(PALS, D(2025, 1, 1), D(2027, 1, 31))
    top = card(7, D(2025, 2, 1), D(2027, 2, 28))
    with_bls = person(PHYSICIAN, PEDIATRICS, card(*CURRENT_BLS), pals, top)
    without_bls = person(PHYSICIAN, PEDIATRICS, pals, top)
    assert evaluate_employee(with_bls, catalogue, TODAY).requirements[0].status == Status.COMPLIANT
    assert evaluate_employee(without_bls, catalogue, TODAY).requirements[0].status == Status.PREREQUISITE_LAPSED


def test_a_prerequisite_cycle_does_not_loop():
    catalogue = Catalogue(
        types=TYPES,
        requirements=[RequirementRule(1, NURSE, None, frozenset({BLS}))],
        prerequisites=[PrerequisiteRule(BLS, frozenset({ACLS})), PrerequisiteRule(ACLS, frozenset({BLS}))],
    )
    employee = person(NURSE, ED, card(*CURRENT_BLS), card(*CURRENT_ACLS))
    assert evaluate_employee(employee, catalogue, TODAY).requirements[0].status == Status.PREREQUISITE_LAPSED


@pytest.mark.parametrize(
    ("role", "department", "expected_requirements"),
    [
        (NURSE, ED, {1, 2}),
        (NURSE, WARD, {1, 11}),
        (PARAMEDIC, EMS, {3, 4}),
        (MEDICAL_ASSISTANT, CLINIC, {5}),
        (PHYSICIAN, PEDIATRICS, {6, 7, 8}),
        (PHYSICIAN, TRAUMA, {6, 7, 9}),
        (TEACHER, SCHOOL, {10}),
    ],
)
def test_requirements_are_the_union_for_role_and_unit(role, department, expected_requirements):
    result = evaluate_employee(person(role, department), CATALOGUE, TODAY)
    assert {r.requirement_id for r in result.requirements} == expected_requirements


def test_a_medical_assistant_is_compliant_with_cpr_or_bls():
    for type_id in (CPR, BLS):
        employee = person(MEDICAL_ASSISTANT, CLINIC, card(type_id, D(2025, 9, 5), D(2027, 9, 30)))
        assert evaluate_employee(employee, CATALOGUE, TODAY).status == Status.COMPLIANT


def test_a_pediatric_physician_needs_pals_on_top():
    employee = person(PHYSICIAN, PEDIATRICS, card(*CURRENT_BLS), card(*CURRENT_ACLS))
    result = evaluate_employee(employee, CATALOGUE, TODAY)
    assert result.status == Status.MISSING
    assert status_of(employee, 8).status == Status.MISSING


def test_a_newcomer_is_not_yet_due_inside_the_due_period():
    newcomer = person(TEACHER, SCHOOL, assigned=D(2026, 6, 1))
    result = status_of(newcomer, 10)
    assert result.status == Status.NOT_YET_DUE
    assert result.due_on == D(2026, 7, 1)
    # The due day is the last day to comply, like an expiry day: overdue starts the day after.
    assert status_of(newcomer, 10, day=D(2026, 7, 1)).status == Status.NOT_YET_DUE
    overdue = status_of(newcomer, 10, day=D(2026, 7, 2))
    assert (overdue.status, overdue.since) == (Status.MISSING, D(2026, 7, 2))
    assert overdue.reason == "No CPR on record; it was due by 2026-07-01."


def test_a_transfer_today_starts_a_due_period_for_new_requirements():
    # Moved from a ward to the ED today: ACLS is new to them; BLS was required before and still is.
    transferee = person(NURSE, ED, card(*CURRENT_BLS), assigned=TODAY, hired=D(2018, 1, 1))
    assert status_of(transferee, 1).status == Status.COMPLIANT
    assert status_of(transferee, 2).status == Status.NOT_YET_DUE


def test_a_credential_that_lapses_on_the_job_gets_no_grace():
    employee = person(TEACHER, SCHOOL, card(CPR, D(2024, 5, 1), D(2026, 6, 5)), assigned=D(2026, 6, 1))
    assert status_of(employee, 10).status == Status.EXPIRED


def test_a_card_expiring_on_the_assignment_day_lapsed_on_the_job():
    # Valid on the first day of the job (still valid on its expiry day), lapsed the day after: no due period.
    employee = person(TEACHER, SCHOOL, card(CPR, D(2024, 5, 1), D(2026, 6, 1)), assigned=D(2026, 6, 1))
    lapsed = status_of(employee, 10)
    assert (lapsed.status, lapsed.since) == (Status.EXPIRED, D(2026, 6, 2))
    # One day earlier it ran out before the requirement applied: the newcomer's due period holds.
    before = person(TEACHER, SCHOOL, card(CPR, D(2024, 5, 1), D(2026, 5, 31)), assigned=D(2026, 6, 1))
    assert status_of(before, 10).status == Status.NOT_YET_DUE


def test_terminated_and_not_yet_hired_people_have_no_requirements():
    leaver = person(NURSE, ED, hired=D(2020, 1, 1), terminated=D(2026, 6, 14))
    assert evaluate_employee(leaver, CATALOGUE, TODAY) is None
    assert evaluate_employee(leaver, CATALOGUE, D(2026, 6, 14)) is not None
    assert evaluate_employee(person(NURSE, ED, assigned=D(2026, 7, 1)), CATALOGUE, TODAY) is None


def test_recommended_requirements_never_make_someone_non_compliant():
    nurse = person(NURSE, WARD, card(*CURRENT_BLS))
    result = evaluate_employee(nurse, CATALOGUE, TODAY)
    assert status_of(nurse, 11).status == Status.MISSING
    assert result.status == Status.COMPLIANT


def test_the_roll_up_is_the_worst_mandatory_status():
    nurse = person(NURSE, ED, card(BLS, D(2024, 1, 1), D(2026, 1, 31)), card(*CURRENT_ACLS))
    assert evaluate_employee(nurse, CATALOGUE, TODAY).status == Status.EXPIRED


def test_it_flags_acls_earned_while_no_prerequisite_was_current():
    bls_lapsed = card(BLS, D(2022, 1, 1), D(2024, 1, 31))
    acls = card(ACLS, D(2025, 3, 1), D(2027, 3, 31))
    renewed_bls = card(BLS, D(2025, 6, 1), D(2027, 6, 30))
    result = evaluate_employee(person(NURSE, ED, bls_lapsed, acls, renewed_bls), CATALOGUE, TODAY)
    assert status_of(person(NURSE, ED, bls_lapsed, acls, renewed_bls), 2).status == Status.COMPLIANT
    assert [(f.credential_id, f.kind) for f in result.findings] == [(acls.id, "prerequisite_not_current_at_issue")]


def test_a_bundled_bls_and_acls_course_is_fine():
    bls, acls = card(BLS, D(2025, 9, 5), D(2027, 9, 30)), card(ACLS, D(2025, 9, 5), D(2027, 9, 30))
    result = evaluate_employee(person(PARAMEDIC, EMS, bls, acls), CATALOGUE, TODAY)
    assert result.status == Status.COMPLIANT
    assert result.findings == ()


def test_leap_day_and_end_of_month_expiries():
    bls = card(BLS, D(2024, 2, 29), D(2026, 2, 28))
    assert status_of(person(NURSE, ED, bls), 1, day=D(2026, 2, 28)).status == Status.EXPIRING
    assert status_of(person(NURSE, ED, bls), 1, day=D(2026, 3, 1)).status == Status.EXPIRED


def test_a_card_that_never_expires_stays_compliant():
    assert status_of(person(TEACHER, SCHOOL, card(CPR, D(2000, 1, 1), None)), 10).status == Status.COMPLIANT


def test_the_same_facts_answer_for_a_past_day():
    nurse = person(NURSE, ED, card(BLS, D(2022, 1, 1), D(2024, 1, 31)), card(BLS, D(2024, 3, 1), D(2026, 3, 31)))
    assert status_of(nurse, 1, day=D(2024, 1, 31)).status == Status.EXPIRING
    assert status_of(nurse, 1, day=D(2024, 2, 15)).status == Status.EXPIRED
    assert status_of(nurse, 1, day=D(2024, 3, 1)).status == Status.COMPLIANT


def test_forecast_names_who_lapses_and_when():
    nurse = person(NURSE, ED, card(BLS, D(2024, 7, 1), D(2026, 7, 31)), card(*CURRENT_ACLS))
    lapses = forecast_employee(nurse, CATALOGUE, TODAY, 60)
    assert [(lapse.requirement_id, lapse.on, lapse.status) for lapse in lapses] == [
        (1, D(2026, 8, 1), Status.EXPIRED),
        (2, D(2026, 8, 1), Status.PREREQUISITE_LAPSED),
    ]
    assert forecast_employee(nurse, CATALOGUE, TODAY, 30) == []


def test_forecast_includes_newcomers_reaching_their_due_date():
    lapses = forecast_employee(person(TEACHER, SCHOOL, assigned=D(2026, 6, 1)), CATALOGUE, TODAY, 30)
    assert [(lapse.on, lapse.status) for lapse in lapses] == [(D(2026, 7, 2), Status.MISSING)]


# Property-based invariants over random credential histories.
dates = st.dates(min_value=D(2019, 1, 1), max_value=D(2029, 12, 31))


@st.composite
def credentials(draw):
    issued = draw(dates)
    expires = draw(st.one_of(st.none(), st.dates(min_value=issued, max_value=D(2031, 12, 31))))
    return CredentialFact(
        draw(st.integers(1, 10**9)),
        draw(st.sampled_from(list(TYPES))),
        issued,
        expires,
        draw(st.sampled_from(list(Verification))),
    )


@st.composite
def employees(draw):
    return EmployeeFacts(
        id=1,
        role_id=draw(st.sampled_from([NURSE, PARAMEDIC, MEDICAL_ASSISTANT, PHYSICIAN, TEACHER])),
        department_id=draw(st.sampled_from([ED, WARD, EMS, CLINIC, PEDIATRICS, TRAUMA, SCHOOL])),
        assigned_on=draw(st.dates(min_value=D(2019, 1, 1), max_value=D(2026, 1, 1))),
        credentials=tuple(draw(st.lists(credentials(), max_size=6, unique_by=lambda c: c.id))),
    )


@settings(max_examples=300, deadline=None)
@given(
    employee=employees(),
    day=st.dates(min_value=D(2026, 1, 1), max_value=D(2028, 12, 31)),
    type_id=st.sampled_from(list(TYPES)),
)
def test_adding_a_current_verified_credential_never_makes_a_status_worse(employee, day, type_id):
    before = evaluate_employee(employee, CATALOGUE, day)
    extra = CredentialFact(0, type_id, day, day + datetime.timedelta(days=400), Verification.VERIFIED)
    after = evaluate_employee(_with(employee, extra), CATALOGUE, day)
    assert after.status.severity <= before.status.severity
    for old, new in zip(before.requirements, after.requirements, strict=True):
        assert new.status.severity <= old.status.severity


@settings(max_examples=300, deadline=None)
@given(employee=employees(), day=st.dates(min_value=D(2026, 1, 1), max_value=D(2028, 12, 31)), later=credentials())
def test_credentials_issued_after_the_day_never_change_the_answer(employee, day, later):
    future = CredentialFact(later.id, later.type_id, day + datetime.timedelta(days=1), None, later.verification)
    assert evaluate_employee(_with(employee, future), CATALOGUE, day) == evaluate_employee(employee, CATALOGUE, day)


def _with(employee, credential):
    return EmployeeFacts(
        employee.id,
        employee.role_id,
        employee.department_id,
        employee.assigned_on,
        employee.hired_on,
        employee.terminated_on,
        (*employee.credentials, credential),
    )


def test_a_newcomers_pending_proof_is_not_late_inside_the_due_period():
    newcomer = person(
        TEACHER, SCHOOL, card(CPR, D(2026, 6, 2), D(2028, 6, 30), Verification.PENDING), assigned=D(2026, 6, 1)
    )
    assert status_of(newcomer, 10).status == Status.NOT_YET_DUE
    assert "HR has not verified it yet" in status_of(newcomer, 10).reason
    assert status_of(newcomer, 10, day=D(2026, 7, 2)).status == Status.PENDING_VERIFICATION
