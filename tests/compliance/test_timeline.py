"""Status periods (apps/compliance/timeline.py) against the engine they are computed with. No database.

The property tests are the contract: for random people, with transfers, terminations, pending and rejected
proof and a catalogue that changes, a look-up in the periods on any day before the horizon gives exactly
what `evaluate_employee` gives that day, and extending the horizon gives exactly what a rebuild would.
"""

import datetime
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.compliance import timeline
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
    Verification,
    evaluate_employee,
)

D = datetime.date
ONE_DAY = datetime.timedelta(days=1)
CPR, BLS, ACLS, PALS = 1, 2, 3, 4
NURSE, MEDIC, PHYSICIAN = 1, 2, 3
ED, WARD = 1, 2
TYPES = {1: CertType(1, "CPR", 90), 2: CertType(2, "BLS", 90), 3: CertType(3, "ACLS", 60), 4: CertType(4, "PALS", 90)}
PREREQUISITES = [PrerequisiteRule(ACLS, frozenset({BLS, CPR})), PrerequisiteRule(PALS, frozenset({BLS}))]
REQUIREMENTS = [
    RequirementRule(1, NURSE, None, frozenset({BLS, CPR})),
    RequirementRule(2, NURSE, ED, frozenset({ACLS})),
    RequirementRule(3, MEDIC, None, frozenset({BLS}), due_within_days=45),
    RequirementRule(4, MEDIC, WARD, frozenset({PALS}), mandatory=False),
    # ACLS alone: its BLS is nobody's requirement, so the BLS's renewal window is the ACLS row's.
    RequirementRule(6, PHYSICIAN, None, frozenset({ACLS})),
]
CATALOGUE = Catalogue(types=TYPES, requirements=REQUIREMENTS, prerequisites=PREREQUISITES)
# From 2026-06-01 ward nurses need PALS too: a catalogue change day that moves statuses.
LATER = Catalogue(
    types=TYPES,
    requirements=[
        *REQUIREMENTS,
        RequirementRule(5, NURSE, WARD, frozenset({PALS}), due_within_days=20, in_force_from=D(2026, 6, 1)),
    ],
    prerequisites=PREREQUISITES,
)
CONSTANT = CatalogueHistory(((D.min, CATALOGUE),))
CHANGING = CatalogueHistory(((D.min, CATALOGUE), (D(2026, 6, 1), LATER)))
HORIZON = D(2028, 6, 1)
_ids = itertools.count(1)


def card(type_id, issued, expires, verification=Verification.VERIFIED):
    return CredentialFact(next(_ids), type_id, issued, expires, verification)


HIRED = D(2024, 1, 15)


def history(*credentials, hired=HIRED, assignments=((HIRED, NURSE, ED),), terminated=None, employments=None):
    """A person with their whole record: the current one is the last assignment of the last employment."""
    employments = employments or ((hired, terminated),)
    started_on, role_id, department_id = assignments[-1]
    return EmployeeFacts(
        id=7,
        role_id=role_id,
        department_id=department_id,
        assigned_on=started_on,
        hired_on=employments[-1][0],
        terminated_on=employments[-1][1],
        credentials=tuple(credentials),
        assignments=tuple(Assignment(*a) for a in assignments),
        employments=tuple(Employment(*e) for e in employments),
    )


def in_force(rows, day, valid_from_at):
    return [row for row in rows if row[valid_from_at] <= day < row[valid_from_at + 1]]


def assert_matches_engine(person, catalogues, periods, day):
    """The periods in force on `day` say what the engine says on `day`, reason included."""
    expected = evaluate_employee(person, catalogues.on(day), day)
    employee_rows = in_force(periods.employee, day, 1)
    requirement_rows = in_force(periods.requirements, day, 2)
    if expected is None:
        assert employee_rows == [] and requirement_rows == [], day
        return
    assert len(employee_rows) == 1, day
    assignment = person.assignments_on(day)[-1]
    _, _, _, status, role_id, department_id, next_expiry = employee_rows[0]
    assert (status, role_id, department_id, next_expiry) == (
        expected.status.value,
        assignment.role_id,
        assignment.department_id,
        expected.next_expiry,
    ), day
    stored = {row[1]: row for row in requirement_rows}
    assert sorted(stored) == sorted(r.requirement_id for r in expected.requirements), day
    for r in expected.requirements:
        _, _, valid_from, _, status, mandatory, _, _, reason, credential_id, expires_on, due_on, since, renew = stored[
            r.requirement_id
        ]
        assert (status, mandatory, credential_id, expires_on, due_on, since, renew) == (
            r.status.value,
            r.mandatory,
            r.credential_id,
            r.expires_on,
            r.due_on,
            r.since,
            r.renew_credential_id,
        ), day
        assert timeline.reason_on(reason, valid_from, expires_on, day) == r.reason, day


def test_a_renewed_bls_gives_compliant_expiring_and_compliant_again():
    first = card(BLS, D(2024, 1, 10), D(2026, 1, 31))
    renewal = card(BLS, D(2026, 1, 20), D(2028, 1, 31))
    person = history(first, renewal, assignments=((D(2024, 1, 15), NURSE, WARD),))
    periods = timeline.build(person, CONSTANT, D(2028, 1, 1))

    statuses = [(row[2], row[3], row[4]) for row in periods.requirements]
    assert statuses == [
        (D(2024, 1, 15), D(2025, 11, 2), "compliant"),
        (D(2025, 11, 2), D(2026, 1, 20), "expiring"),
        (D(2026, 1, 20), D(2027, 11, 2), "compliant"),
        (D(2027, 11, 2), timeline.OPEN_END, "expiring"),
    ]
    # The change on 2028-02-01 (the renewal lapses) lies past the horizon: computed when the horizon gets there.
    assert periods.next_change_on == D(2028, 2, 1)


def test_a_lapse_is_a_period_that_ends_with_the_renewal():
    periods = timeline.build(
        history(card(BLS, D(2024, 1, 10), D(2025, 3, 31)), card(BLS, D(2025, 5, 12), D(2027, 5, 31))),
        CONSTANT,
        HORIZON,
    )
    bls = [row for row in periods.requirements if row[1] == 1]
    expired = [row for row in bls if row[4] == Status.EXPIRED]
    assert [(row[2], row[3], row[12]) for row in expired] == [
        (D(2025, 4, 1), D(2025, 5, 12), D(2025, 4, 1)),
        (D(2027, 6, 1), timeline.OPEN_END, D(2027, 6, 1)),
    ]


def test_the_expiring_reason_counts_down_from_the_stored_one():
    periods = timeline.build(history(card(CPR, D(2024, 1, 1), D(2026, 3, 31))), CONSTANT, D(2026, 3, 1))
    expiring = next(row for row in periods.requirements if row[4] == Status.EXPIRING)
    assert expiring[8] == "CPR expires on 2026-03-31, in 90 days."
    assert timeline.reason_on(expiring[8], expiring[2], expiring[10], D(2026, 3, 30)) == (
        "CPR expires on 2026-03-31, in 1 day."
    )


def test_a_transfer_starts_new_periods_in_the_new_unit():
    person = history(
        card(BLS, D(2024, 1, 1), D(2027, 1, 31)),
        assignments=((D(2024, 1, 15), NURSE, WARD), (D(2025, 6, 1), NURSE, ED)),
    )
    periods = timeline.build(person, CONSTANT, HORIZON)
    acls = [(row[4], row[7]) for row in periods.requirements if row[1] == 2]
    assert acls == [("not_yet_due", ED), ("missing", ED)]
    assert min(row[2] for row in periods.requirements if row[1] == 2) == D(2025, 6, 1)
    assert {row[5] for row in periods.employee if row[1] < D(2025, 6, 1)} == {WARD}


def test_nobody_has_periods_outside_their_employment():
    person = history(card(BLS, D(2023, 1, 1), D(2027, 1, 31)), terminated=D(2025, 2, 14))
    periods = timeline.build(person, CONSTANT, HORIZON)
    assert max(row[2] for row in periods.employee) == D(2025, 2, 15)
    assert min(row[1] for row in periods.employee) == D(2024, 1, 15)
    assert periods.next_change_on is None


def test_a_rehire_is_a_new_employment_and_the_first_stays_on_record():
    person = history(
        card(BLS, D(2023, 1, 1), D(2027, 1, 31)),
        assignments=((HIRED, NURSE, WARD), (D(2025, 9, 1), NURSE, ED)),
        employments=((HIRED, D(2025, 2, 14)), (D(2025, 9, 1), None)),
    )
    periods = timeline.build(person, CONSTANT, HORIZON)
    spans = [(row[1], row[2], row[5]) for row in periods.employee]
    assert spans[0] == (HIRED, D(2025, 2, 15), WARD)
    assert spans[1][0] == D(2025, 9, 1) and {span[2] for span in spans[1:]} == {ED}


def test_a_catalogue_change_applies_from_its_day():
    person = history(card(BLS, D(2024, 1, 1), D(2027, 1, 31)), assignments=((D(2024, 1, 15), NURSE, WARD),))
    periods = timeline.build(person, CHANGING, HORIZON)
    pals = [row for row in periods.requirements if row[1] == 5]
    assert pals and min(row[2] for row in pals) == D(2026, 6, 1)
    assert all(row[4] != Status.COMPLIANT for row in pals)


def test_equal_days_are_one_period_and_no_period_is_empty():
    person = history(card(CPR, D(2020, 1, 1), None), assignments=((D(2024, 1, 15), NURSE, WARD),))
    periods = timeline.build(person, CONSTANT, HORIZON)
    assert [(row[1], row[2], row[3]) for row in periods.employee] == [(D(2024, 1, 15), timeline.OPEN_END, "compliant")]


def test_days_that_change_nothing_are_skipped_and_those_that_do_are_not():
    """Cards that play a part (the one meeting it, the prerequisite capping it, a renewal) move the answer on
    their days; a superseded card, a shorter card or a pending one do not, and nothing is missed either way."""
    cards = (
        card(BLS, D(2024, 1, 10), D(2025, 6, 30)),  # caps the ACLS until renewed
        card(ACLS, D(2024, 1, 10), D(2026, 1, 31)),
        card(CPR, D(2024, 2, 1), D(2025, 3, 31)),  # a shorter prerequisite option: its days change nothing
        card(BLS, D(2025, 5, 1), D(2025, 12, 31)),  # the renewal: moves the ACLS's effective expiry
        card(ACLS, D(2025, 12, 1), D(2027, 12, 31), Verification.PENDING),  # pending: the verified ACLS still meets
        card(ACLS, D(2025, 3, 1), D(2025, 9, 30)),  # a shorter verified ACLS: never the best
    )
    physician = ((HIRED, PHYSICIAN, ED),)  # no BLS requirement: the BLS's window makes the ACLS expiring
    for person in (history(*cards), history(*cards[:3]), history(*cards, assignments=physician)):
        periods = timeline.build(person, CONSTANT, HORIZON)
        for day in sorted({d + k * ONE_DAY for d in every_date_on_record(person, CONSTANT) for k in (-1, 0, 1)}):
            if day < HORIZON:
                assert_matches_engine(person, CONSTANT, periods, day)
    lapsing = timeline.build(history(*cards[:3]), CONSTANT, HORIZON)
    acls = [(row[4], row[10]) for row in lapsing.requirements if row[1] == 2]
    assert acls[-2:] == [("prerequisite_lapsed", D(2026, 1, 31)), ("expired", D(2026, 1, 31))]


# Random people over six years: every way a status can move.
days = st.dates(min_value=D(2022, 1, 1), max_value=D(2028, 12, 31))


@st.composite
def credentials(draw, verifications=tuple(Verification)):
    issued = draw(st.dates(min_value=D(2021, 6, 1), max_value=D(2028, 6, 1)))
    expires = draw(st.one_of(st.none(), st.dates(min_value=issued, max_value=issued + 1000 * ONE_DAY)))
    verification = draw(st.sampled_from(verifications))
    return CredentialFact(
        draw(st.integers(1, 10**6)), draw(st.sampled_from([CPR, BLS, ACLS, PALS])), issued, expires, verification
    )


@st.composite
def people(draw, cards=None):
    hired = draw(st.dates(min_value=D(2022, 1, 1), max_value=D(2026, 6, 1)))
    left = draw(st.one_of(st.none(), st.dates(min_value=hired, max_value=D(2028, 6, 1))))
    employments = [(hired, left)]
    starts = [hired]
    if left is not None and draw(st.booleans()):  # a rehire: a new employment, starting with a new assignment
        back = draw(st.dates(min_value=left + 2 * ONE_DAY, max_value=left + 600 * ONE_DAY))
        employments.append((back, draw(st.one_of(st.none(), st.dates(min_value=back, max_value=back + 900 * ONE_DAY)))))
        starts.append(back)
    starts += draw(st.lists(st.dates(min_value=hired, max_value=D(2028, 1, 1)), max_size=3))
    starts = sorted(set(starts))
    roles, units = st.sampled_from([NURSE, MEDIC, PHYSICIAN]), st.sampled_from([ED, WARD])
    assignments = [(day, draw(roles), draw(units)) for day in starts]
    cards = cards if cards is not None else st.lists(credentials(), max_size=7, unique_by=lambda c: c.id)
    return history(*draw(cards), assignments=assignments, employments=employments)


# Many verified cards that overlap: renewals, superseded cards and prerequisites running out under a dependent
# card, where the builder's skipping of days that change nothing would show if it skipped one that does.
busy_people = people(
    st.lists(
        credentials((Verification.VERIFIED,) * 4 + (Verification.PENDING,)),
        min_size=3,
        max_size=9,
        unique_by=lambda c: c.id,
    )
)


catalogue_histories = st.sampled_from([CONSTANT, CHANGING])


def every_date_on_record(person, catalogues):
    """Each date the person's record or the catalogue names, and each one a window or a due period away from
    any of them (every window, every due period, both sides of a due day): a broad superset of change-days."""
    windows = {t.renewal_window_days for _, c in catalogues.versions for t in c.types.values()}
    offsets = {r.due_within_days for _, c in catalogues.versions for r in c.requirements}
    named = {a.started_on for a in person.assignments} | set(catalogues.change_days())
    named |= {d for e in person.employments for d in (e.started_on, e.ended_on) if d is not None}
    days = {d + k * ONE_DAY for d in named for k in (0, 1)}
    days |= {d + (offset + k) * ONE_DAY for d in named for offset in offsets for k in (0, 1)}
    for c in person.credentials:
        days.add(c.issued_on)
        if c.expires_on is not None:
            days |= {c.expires_on, c.expires_on + ONE_DAY} | {c.expires_on - w * ONE_DAY for w in windows}
    return days


@settings(max_examples=250, deadline=None)
@given(person=st.one_of(people(), busy_people), catalogues=catalogue_histories, asked=st.lists(days, max_size=8))
def test_a_look_up_on_any_day_is_what_the_engine_says(person, catalogues, asked):
    periods = timeline.build(person, catalogues, HORIZON)
    # Every day any date on record could matter and its eve, where an off-by-one would show, and random days in
    # between. Worked out here, not by the code under test: its pruning of days must not narrow what is checked.
    around = {d + delta for d in every_date_on_record(person, catalogues) for delta in (-ONE_DAY, 0 * ONE_DAY)}
    for day in sorted({*asked, *around}):
        if D(2021, 1, 1) <= day < HORIZON:
            assert_matches_engine(person, catalogues, periods, day)


@settings(max_examples=150, deadline=None)
@given(
    person=people(),
    catalogues=catalogue_histories,
    first=st.dates(min_value=D(2025, 1, 1), max_value=D(2027, 1, 1)),
    steps=st.lists(st.integers(1, 400), min_size=1, max_size=3),
)
def test_extending_the_horizon_stores_what_a_rebuild_would(person, catalogues, first, steps):
    periods = timeline.build(person, catalogues, first)
    built_to = first
    for step in steps:
        horizon = built_to + step * ONE_DAY
        starts = {row[1]: row[2] for row in periods.requirements if row[3] == timeline.OPEN_END}
        starts.update((None, row[1]) for row in periods.employee if row[2] == timeline.OPEN_END)
        tail = timeline.extend(person, catalogues, starts, built_to, horizon)
        periods = timeline.Periods(
            [row for row in periods.employee if row[2] != timeline.OPEN_END] + tail.employee,
            [row for row in periods.requirements if row[3] != timeline.OPEN_END] + tail.requirements,
            tail.next_change_on,
        )
        built_to = horizon
    rebuilt = timeline.build(person, catalogues, built_to)
    assert sorted(periods.employee, key=repr) == sorted(rebuilt.employee, key=repr)
    assert sorted(periods.requirements, key=repr) == sorted(rebuilt.requirements, key=repr)
    assert periods.next_change_on == rebuilt.next_change_on
