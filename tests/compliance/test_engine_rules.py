"""Issue 15's rules, case by case: dependent cards, due periods that only new requirements get,
employment periods and the catalogue as it stood on a day. Plain data only."""

import datetime
import itertools

import pytest

from apps.compliance.engine import (
    Assignment,
    Catalogue,
    CatalogueHistory,
    CertType,
    CredentialFact,
    EmployeeFacts,
    Employment,
    PrerequisiteRule,
    RequirementRule,
    Status,
    evaluate_employee,
)

D = datetime.date
DAY = datetime.timedelta(days=1)
CPR, BLS, ACLS = 1, 2, 3
TYPES = {CPR: CertType(CPR, "CPR"), BLS: CertType(BLS, "BLS"), ACLS: CertType(ACLS, "ACLS")}
NURSE, RESEARCHER = 1, 2
ED, ICU, WARD, LAB = 1, 2, 3, 4
BASIC, ED_ACLS, ICU_ACLS, RESEARCH_ACLS = 1, 2, 3, 4
RULES = [
    RequirementRule(BASIC, NURSE, None, frozenset({BLS, CPR})),
    RequirementRule(ED_ACLS, NURSE, ED, frozenset({ACLS})),
    RequirementRule(ICU_ACLS, NURSE, ICU, frozenset({ACLS})),
    # A role that needs ACLS alone: its BLS is nobody's requirement but the ACLS's.
    RequirementRule(RESEARCH_ACLS, RESEARCHER, None, frozenset({ACLS})),
]
CATALOGUE = Catalogue(TYPES, RULES, [PrerequisiteRule(ACLS, frozenset({BLS, CPR}))])
TODAY = D(2026, 11, 25)
_ids = itertools.count(100)


LONG_AGO = D(2015, 1, 1)


def card(type_id, expires, issued=LONG_AGO):
    return CredentialFact(next(_ids), type_id, issued, expires)


def staff(role, unit, *cards, assignments=(), employments=(), hired=LONG_AGO, terminated=None):
    last = max(assignments, key=lambda a: a.started_on) if assignments else Assignment(hired, role, unit)
    return EmployeeFacts(
        1, last.role_id, last.department_id, last.started_on, hired, terminated, tuple(cards), assignments, employments
    )


def result(employee, requirement_id, day=TODAY, catalogue=CATALOGUE):
    return next(
        r for r in evaluate_employee(employee, catalogue, day).requirements if r.requirement_id == requirement_id
    )


IN_60 = TODAY + 60 * DAY
IN_400 = TODAY + 400 * DAY


# Dependent cards: (role, unit, BLS expiry, ACLS expiry, day) -> the ACLS row and which card to renew.
@pytest.mark.parametrize(
    ("role", "unit", "bls_expires", "acls_expires", "day", "status", "renew", "reason"),
    [
        # The prerequisite is itself required: the ACLS row stays compliant and says until when.
        (
            NURSE,
            ED,
            IN_60,
            IN_400,
            TODAY,
            Status.COMPLIANT,
            BLS,
            f"ACLS current until {IN_400}; counts while BLS is current (BLS expires {IN_60}).",
        ),
        # ... still compliant on the BLS expiry day itself ...
        (NURSE, ED, IN_60, IN_400, IN_60, Status.COMPLIANT, BLS, None),
        # ... and prerequisite lapsed the day after.
        (NURSE, ED, IN_60, IN_400, IN_60 + DAY, Status.PREREQUISITE_LAPSED, BLS, None),
        # Its own card inside its renewal window: expiring, and the ACLS is the card to renew.
        (NURSE, ED, TODAY + 80 * DAY, TODAY + 30 * DAY, TODAY, Status.EXPIRING, ACLS, None),
        # The prerequisite is not required of them: the ACLS row is expiring because of it, and names it.
        (
            RESEARCHER,
            LAB,
            IN_60,
            IN_400,
            TODAY,
            Status.EXPIRING,
            BLS,
            f"ACLS counts only while BLS is current, and the BLS expires on {IN_60}, in 60 days: "
            f"renew the BLS to keep the ACLS counting (ACLS current until {IN_400}).",
        ),
        (RESEARCHER, LAB, TODAY + 200 * DAY, IN_400, TODAY, Status.COMPLIANT, BLS, None),
        (RESEARCHER, LAB, IN_60, IN_400, IN_60 + DAY, Status.PREREQUISITE_LAPSED, BLS, None),
    ],
)
def test_attention_goes_to_the_card_that_needs_renewing(
    role, unit, bls_expires, acls_expires, day, status, renew, reason
):
    bls, acls = card(BLS, bls_expires), card(ACLS, acls_expires)
    requirement = ED_ACLS if role == NURSE else RESEARCH_ACLS
    row = result(staff(role, unit, bls, acls), requirement, day)
    assert row.status == status
    assert row.credential_id == acls.id
    assert row.renew_credential_id == {BLS: bls.id, ACLS: acls.id}[renew]
    if reason:
        assert row.reason == reason
    if status == Status.PREREQUISITE_LAPSED:
        assert row.since == bls_expires + DAY


def test_an_ed_nurse_with_an_expiring_bls_has_one_card_to_renew():
    bls, acls = card(BLS, IN_60), card(ACLS, IN_400)
    rows = evaluate_employee(staff(NURSE, ED, bls, acls), CATALOGUE, TODAY).requirements
    assert [(r.requirement_id, r.status) for r in rows] == [(BASIC, Status.EXPIRING), (ED_ACLS, Status.COMPLIANT)]
    assert {r.renew_credential_id for r in rows} == {bls.id}


# Dates that move: (history of assignments, cards) -> status of a requirement today.
ACLS_LAPSED_40_DAYS_AGO = (ACLS, TODAY - 41 * DAY)
BLS_LAPSED_40_DAYS_AGO = (BLS, TODAY - 41 * DAY)
CURRENT_BLS = (BLS, IN_400)
TEN_DAYS_AGO = TODAY - 10 * DAY


@pytest.mark.parametrize(
    ("assignments", "cards", "requirement_id", "status"),
    [
        # A new position date in the same unit forgives nothing: lapsed stays expired ...
        (
            [Assignment(D(2020, 1, 1), NURSE, ED), Assignment(TEN_DAYS_AGO, NURSE, ED)],
            [CURRENT_BLS, ACLS_LAPSED_40_DAYS_AGO],
            ED_ACLS,
            Status.EXPIRED,
        ),
        # ... and never held stays missing.
        (
            [Assignment(D(2020, 1, 1), NURSE, ED), Assignment(TEN_DAYS_AGO, NURSE, ED)],
            [CURRENT_BLS],
            ED_ACLS,
            Status.MISSING,
        ),
        # A transfer that adds ACLS gives a due period for the ACLS ...
        (
            [Assignment(D(2020, 1, 1), NURSE, WARD), Assignment(TEN_DAYS_AGO, NURSE, ED)],
            [CURRENT_BLS],
            ED_ACLS,
            Status.NOT_YET_DUE,
        ),
        # ... even when an old ACLS lapsed before it applied to them ...
        (
            [Assignment(D(2020, 1, 1), NURSE, WARD), Assignment(TEN_DAYS_AGO, NURSE, ED)],
            [CURRENT_BLS, ACLS_LAPSED_40_DAYS_AGO],
            ED_ACLS,
            Status.NOT_YET_DUE,
        ),
        # ... but not for the BLS required on both sides: its lapse stays expired.
        (
            [Assignment(D(2020, 1, 1), NURSE, WARD), Assignment(TEN_DAYS_AGO, NURSE, ED)],
            [BLS_LAPSED_40_DAYS_AGO],
            BASIC,
            Status.EXPIRED,
        ),
        # A transfer between two units that both require ACLS adds nothing.
        (
            [Assignment(D(2020, 1, 1), NURSE, ICU), Assignment(TEN_DAYS_AGO, NURSE, ED)],
            [CURRENT_BLS, ACLS_LAPSED_40_DAYS_AGO],
            ED_ACLS,
            Status.EXPIRED,
        ),
        # Out and back again: the run that carries the requirement starts on the return.
        (
            [
                Assignment(D(2020, 1, 1), NURSE, ED),
                Assignment(D(2025, 1, 1), NURSE, WARD),
                Assignment(TEN_DAYS_AGO, NURSE, ED),
            ],
            [CURRENT_BLS, ACLS_LAPSED_40_DAYS_AGO],
            ED_ACLS,
            Status.NOT_YET_DUE,
        ),
        # A card that lapses after the requirement applied gets no grace, inside the due period or not.
        (
            [Assignment(D(2020, 1, 1), NURSE, WARD), Assignment(TEN_DAYS_AGO, NURSE, ED)],
            [CURRENT_BLS, (ACLS, TODAY - 2 * DAY)],
            ED_ACLS,
            Status.EXPIRED,
        ),
    ],
)
def test_only_a_requirement_new_to_the_person_gets_a_due_period(assignments, cards, requirement_id, status):
    employee = staff(NURSE, ED, *(card(*c) for c in cards), assignments=tuple(assignments))
    assert result(employee, requirement_id).status == status


def test_grace_with_an_old_lapse_on_record_says_so():
    employee = staff(
        NURSE,
        ED,
        card(*CURRENT_BLS),
        card(*ACLS_LAPSED_40_DAYS_AGO),
        assignments=(Assignment(D(2020, 1, 1), NURSE, WARD), Assignment(TEN_DAYS_AGO, NURSE, ED)),
    )
    row = result(employee, ED_ACLS)
    assert row.due_on == TEN_DAYS_AGO + 30 * DAY
    assert row.reason == (
        f"ACLS expired on {TODAY - 41 * DAY}, before this requirement applied to them; "
        f"a current ACLS is due by {TEN_DAYS_AGO + 30 * DAY}."
    )


@pytest.mark.parametrize(
    ("day", "status"),
    [
        (D(2026, 10, 26), Status.NOT_YET_DUE),  # hired that day
        (D(2026, 11, 25), Status.NOT_YET_DUE),  # the due day: the last day to comply
        (D(2026, 11, 26), Status.MISSING),  # overdue from the day after
    ],
)
def test_the_due_day_is_the_last_day_to_comply(day, status):
    newcomer = staff(NURSE, WARD, hired=D(2026, 10, 26))
    row = result(newcomer, BASIC, day)
    assert (row.status, row.due_on) == (status, D(2026, 11, 25))
    if status == Status.MISSING:
        assert row.since == D(2026, 11, 26)


FIRST = Employment(D(2015, 1, 1), D(2019, 12, 31))
SECOND = Employment(D(2024, 1, 1))


@pytest.mark.parametrize(
    ("day", "status"),
    [
        (D(2014, 12, 31), None),  # not yet hired
        (D(2018, 6, 1), Status.EXPIRED),  # inside the first employment: its lapse is still there
        (D(2019, 12, 31), Status.EXPIRED),  # their last day: still employed
        (D(2020, 1, 1), None),  # between the two
        (D(2024, 1, 15), Status.NOT_YET_DUE),  # rehired: a new employment gives a new due period
        (D(2024, 2, 1), Status.EXPIRED),  # due by 2024-01-31; the old card is on record, lapsed
    ],
)
def test_a_past_day_is_answered_within_the_employment_in_force_then(day, status):
    rehired = staff(
        NURSE,
        WARD,
        card(BLS, D(2017, 12, 31), issued=D(2015, 12, 1)),
        assignments=(Assignment(D(2015, 1, 1), NURSE, ED), Assignment(D(2024, 1, 1), NURSE, WARD)),
        employments=(FIRST, SECOND),
        hired=D(2024, 1, 1),
    )
    answer = evaluate_employee(rehired, CATALOGUE, day)
    if status is None:
        assert answer is None
        return
    basic = next(r for r in answer.requirements if r.requirement_id == BASIC)
    assert basic.status == status
    if day == D(2024, 2, 1):  # late in this employment from the day after its due day, not since 2018
        assert (basic.since, basic.reason) == (day, "BLS expired on 2017-12-31; a current one was due by 2024-01-31.")
    # In the first employment they were in the ED; in the second on a ward.
    assert (ED_ACLS in {r.requirement_id for r in answer.requirements}) == (day < D(2020, 1, 1))


def test_the_termination_day_is_the_last_day_employed():
    leaver = staff(NURSE, WARD, card(*CURRENT_BLS), terminated=TODAY)
    assert evaluate_employee(leaver, CATALOGUE, TODAY).status == Status.COMPLIANT
    assert evaluate_employee(leaver, CATALOGUE, TODAY + DAY) is None


def test_employment_and_assignment_changes_are_change_days():
    rehired = staff(
        NURSE,
        WARD,
        assignments=(Assignment(D(2015, 1, 1), NURSE, ED), Assignment(D(2024, 1, 1), NURSE, WARD)),
        employments=(FIRST, SECOND),
        hired=D(2024, 1, 1),
    )
    assert rehired.change_days() == {D(2015, 1, 1), D(2020, 1, 1), D(2024, 1, 1)}


# The catalogue as it stood: ACLS for ward nurses added on 2026-06-01, with 30 days to comply.
WARD_ACLS = RequirementRule(5, NURSE, WARD, frozenset({ACLS}), in_force_from=D(2026, 6, 1))
HISTORY = CatalogueHistory(
    [
        (D(2020, 1, 1), Catalogue(TYPES, RULES, CATALOGUE.prerequisites, changed_on=D(2020, 1, 1))),
        (D(2026, 6, 1), Catalogue(TYPES, [*RULES, WARD_ACLS], CATALOGUE.prerequisites, changed_on=D(2026, 6, 1))),
    ]
)


@pytest.mark.parametrize(
    ("day", "status"),
    [
        (D(2026, 3, 1), None),  # not in force yet: not required
        (D(2026, 5, 31), None),
        (D(2026, 6, 1), Status.NOT_YET_DUE),  # in force: due from the day it came in
        (D(2026, 7, 1), Status.NOT_YET_DUE),  # the due day
        (D(2026, 7, 2), Status.MISSING),
    ],
)
def test_a_requirement_added_mid_year_applies_from_its_day(day, status):
    ward_nurse = staff(NURSE, WARD, card(*CURRENT_BLS), hired=D(2018, 1, 1))
    catalogue = HISTORY.on(day)
    rows = {r.requirement_id: r.status for r in evaluate_employee(ward_nurse, catalogue, day).requirements}
    assert rows.get(WARD_ACLS.id) == status
    assert catalogue.changed_on == (D(2026, 6, 1) if day >= D(2026, 6, 1) else D(2020, 1, 1))


def test_catalogue_history_answers_days_before_its_first_version_and_lists_its_changes():
    assert HISTORY.on(D(2001, 1, 1)).changed_on == D(2020, 1, 1)
    assert HISTORY.change_days() == [D(2026, 6, 1)]
