"""The pure rules: which notices are due on a day. No database."""

import datetime

import pytest

from apps.compliance.engine import Status
from apps.notifications.rules import (
    Kind,
    Notice,
    PendingProof,
    PersonFacts,
    Policy,
    RequirementFact,
    current_step,
    dependents_of,
    is_backfill,
    notices_for,
    parse_days,
    week_start,
)

D = datetime.date
TODAY = D(2026, 6, 1)
DEFAULT = (90, 60, 30, 14, 7, 0)
BLS, CPR, ACLS = 1, 2, 3
POLICY = Policy(reminder_days=DEFAULT, missing_days=(30, 14, 7, 1), repeat_every_days=7)
MANAGERS = {10: (501, 502)}


def days(n: int) -> D:
    return TODAY + datetime.timedelta(days=n)


@pytest.mark.parametrize(
    ("days_left", "thresholds", "repeat", "step"),
    [
        (120, DEFAULT, 7, None),  # nothing yet
        (91, DEFAULT, 7, None),
        (90, DEFAULT, 7, 90),
        (89, DEFAULT, 7, 90),  # still the 90-day step: already sent, nothing new
        (60, DEFAULT, 7, 60),
        (45, DEFAULT, 7, 60),  # first seen 45 days ahead: the 60-day reminder only, not the 90 as well
        (14, DEFAULT, 7, 14),
        (8, DEFAULT, 7, 14),
        (7, DEFAULT, 7, 7),
        (1, DEFAULT, 7, 7),
        (0, DEFAULT, 7, 0),  # the day of expiry
        (-1, DEFAULT, 7, 0),
        (-6, DEFAULT, 7, 0),
        (-7, DEFAULT, 7, -7),  # weekly while lapsed
        (-13, DEFAULT, 7, -7),
        (-14, DEFAULT, 7, -14),
        (-400, DEFAULT, 7, -399),
        (-30, DEFAULT, 0, 0),  # no repeats: the expiry-day notice stays the last step
        (-3, (60, 30), 7, 30),  # no expiry-day step configured: the last threshold stands until the first week
        (-7, (60, 30), 7, -7),
        (5, (60, 30), 14, 30),
        (-20, DEFAULT, 14, -14),
    ],
)
def test_current_step(days_left, thresholds, repeat, step):
    assert current_step(days_left, thresholds, repeat) == step


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("90,60,30,14,7,0", DEFAULT), (" 7, 90 ,30,30", (90, 30, 7)), ("0", (0,)), ("14,", (14,))],
)
def test_parse_days_reads_a_comma_separated_list(text, parsed):
    assert parse_days(text) == parsed


@pytest.mark.parametrize("text", ["", " , ", "90,sixty", "-7", "7.5", "1e3"])
def test_parse_days_refuses_anything_else(text):
    with pytest.raises(ValueError):
        parse_days(text)


def held(expires_in: int, *, status=Status.EXPIRING, mandatory=True, credential=100, type_id=BLS, requirement=1):
    return RequirementFact(
        requirement_id=requirement,
        mandatory=mandatory,
        status=status,
        any_of=frozenset({BLS, CPR}),
        credential_id=credential,
        credential_type_id=type_id,
        expires_on=days(expires_in),
        since=days(expires_in + 1) if expires_in < 0 else None,
        renew_credential_id=credential,
        renew_type_id=type_id,
        renew_expires_on=days(expires_in),
    )


def missing(due_in: int, *, mandatory=True, requirement=1):
    status = Status.NOT_YET_DUE if due_in >= 0 else Status.MISSING  # the due day is the last day to comply
    return RequirementFact(
        requirement_id=requirement,
        mandatory=mandatory,
        status=status,
        any_of=frozenset({ACLS}),
        due_on=days(due_in),
        since=days(due_in + 1) if status == Status.MISSING else None,
    )


def person(*requirements, pending=(), terminated_on=None, user_id=None):
    return PersonFacts(
        employee_id=7,
        department_id=10,
        user_id=user_id,
        terminated_on=terminated_on,
        requirements=tuple(requirements),
        pending=tuple(pending),
    )


def notices(facts, *, day=TODAY, policy=POLICY, managers=None):
    return notices_for(facts, day=day, policy=policy, managers=MANAGERS if managers is None else managers)


def reminder(expires_in, step, credential=100, requirement=1):
    return Notice(Kind.REMINDER, 7, days(expires_in), step, credential_id=credential, requirement_id=requirement)


def test_a_credential_inside_a_threshold_gets_that_step():
    assert notices(person(held(30))) == [reminder(30, 30)]


def test_a_credential_far_from_expiry_gets_nothing():
    assert notices(person(held(200, status=Status.COMPLIANT))) == []


def test_a_lapsed_credential_is_reminded_weekly_and_its_managers_told_once_it_lapses():
    lapsed = held(-8, status=Status.EXPIRED)
    escalations = [
        Notice(Kind.ESCALATION, 7, days(-7), credential_id=100, requirement_id=1, user_id=manager)
        for manager in (501, 502)
    ]
    assert notices(person(lapsed)) == [reminder(-8, -7), *escalations]


def test_a_lapse_is_escalated_however_long_ago_it_began():
    lapsed = held(-300, status=Status.EXPIRED)
    escalations = [n for n in notices(person(lapsed)) if n.kind == Kind.ESCALATION]
    assert {(n.user_id, n.about_date) for n in escalations} == {(501, days(-299)), (502, days(-299))}
    assert all(is_backfill(n, TODAY) for n in escalations)
    assert not is_backfill(Notice(Kind.ESCALATION, 7, TODAY, user_id=501), TODAY)


def test_a_manager_is_not_escalated_about_themselves():
    lapsed = held(-1, status=Status.EXPIRED)
    escalated = [n.user_id for n in notices(person(lapsed, user_id=501)) if n.kind == Kind.ESCALATION]
    assert escalated == [502]


def test_a_pending_renewal_stops_the_sequence_and_is_acknowledged_instead():
    renewal = PendingProof(credential_id=200, type_id=BLS, issued_on=days(-2), expires_on=days(730))
    assert notices(person(held(10), pending=[renewal])) == [Notice(Kind.PROOF_RECEIVED, 7, days(-2), credential_id=200)]


def test_a_pending_card_of_another_type_or_older_expiry_renews_nothing():
    other = PendingProof(credential_id=200, type_id=ACLS, issued_on=days(-2), expires_on=days(730))
    older = PendingProof(credential_id=201, type_id=CPR, issued_on=days(-700), expires_on=days(5))
    assert notices(person(held(10), pending=[other, older])) == [reminder(10, 14)]


def test_an_upload_with_the_same_expiry_as_the_current_card_is_not_a_renewal():
    same = PendingProof(credential_id=200, type_id=BLS, issued_on=days(-2), expires_on=days(10))
    assert notices(person(held(10), pending=[same])) == [reminder(10, 14)]


def test_a_pending_card_issued_in_the_future_or_already_expired_renews_nothing():
    future = PendingProof(credential_id=200, type_id=BLS, issued_on=days(3), expires_on=days(733))
    expired = PendingProof(credential_id=201, type_id=BLS, issued_on=days(-800), expires_on=days(-1))
    assert notices(person(held(10), pending=[future, expired])) == [reminder(10, 14)]


def test_pending_verification_after_a_lapse_is_acknowledged_not_reminded_nor_escalated():
    waiting = RequirementFact(1, True, Status.PENDING_VERIFICATION, frozenset({BLS}), 200, BLS, days(700))
    proof = PendingProof(credential_id=200, type_id=BLS, issued_on=days(-1), expires_on=days(700))
    assert notices(person(waiting, pending=[proof])) == [Notice(Kind.PROOF_RECEIVED, 7, days(-1), credential_id=200)]


def test_one_credential_meeting_two_requirements_is_reminded_once():
    assert notices(person(held(7, requirement=1), held(7, requirement=2))) == [reminder(7, 7)]


def test_a_card_meeting_a_mandatory_and_a_recommended_requirement_is_reminded_as_mandatory():
    lapsed = [held(-14, status=Status.EXPIRED, mandatory=flag, requirement=n) for n, flag in ((1, False), (2, True))]
    assert notices(person(*lapsed), managers={}) == [reminder(-14, -14)]


def test_terminated_people_get_nothing():
    assert notices(person(held(7), missing(-3), terminated_on=days(-1))) == []


def test_the_termination_day_is_the_last_day_of_employment_and_still_gets_notices():
    # docs/notifications.md: employed through their termination day, so reminded and escalated on it; nothing after.
    leaver = person(held(-7, status=Status.EXPIRED), terminated_on=TODAY)
    on_the_day = notices(leaver)
    assert reminder(-7, -7) in on_the_day
    assert {n.kind for n in on_the_day} == {Kind.REMINDER, Kind.ESCALATION}
    assert notices(leaver, day=days(1)) == []
    assert notices(leaver, day=days(7)) == []  # not the next weekly reminder either


def test_someone_leaving_before_the_expiry_is_not_reminded_of_it():
    assert notices(person(held(30), terminated_on=days(20))) == []
    assert notices(person(held(30), terminated_on=days(30))) == [reminder(30, 30)]


@pytest.mark.parametrize(
    ("due_in", "kind", "step"),
    [
        (45, None, None),
        (30, Kind.MISSING_BEFORE_DUE, 30),  # a newcomer with 30 days hears on day one
        (20, Kind.MISSING_BEFORE_DUE, 30),
        (14, Kind.MISSING_BEFORE_DUE, 14),
        (1, Kind.MISSING_BEFORE_DUE, 1),
        (0, Kind.MISSING_BEFORE_DUE, 0),  # due today: the last day to comply
        (-1, Kind.MISSING_OVERDUE, -1),  # overdue from the day after
        (-7, Kind.MISSING_OVERDUE, -1),
        (-8, Kind.MISSING_OVERDUE, -8),  # then weekly
        (-15, Kind.MISSING_OVERDUE, -15),
    ],
)
def test_a_missing_requirement_before_and_after_its_due_date(due_in, kind, step):
    expected = [] if kind is None else [Notice(kind, 7, days(due_in), step, requirement_id=1)]
    assert [n for n in notices(person(missing(due_in))) if n.kind != Kind.ESCALATION] == expected


def test_an_overdue_requirement_is_escalated_once_per_lapse():
    escalations = [n for n in notices(person(missing(-2))) if n.kind == Kind.ESCALATION]
    assert {(n.user_id, n.about_date, n.requirement_id) for n in escalations} == {
        (501, days(-1), 1),
        (502, days(-1), 1),
    }


def test_recommended_requirements_stop_at_the_expiry_day_and_are_never_escalated():
    assert notices(person(held(7, mandatory=False))) == [reminder(7, 7)]
    assert notices(person(held(-21, status=Status.EXPIRED, mandatory=False))) == [reminder(-21, 0)]
    assert notices(person(missing(5, mandatory=False))) == []


def test_a_lapsed_prerequisite_is_reminded_and_escalated_as_the_card_to_renew():
    # A researcher needs ACLS alone: their BLS (card 100) is reminded through the ACLS row.
    acls = RequirementFact(
        2,
        True,
        Status.PREREQUISITE_LAPSED,
        frozenset({ACLS}),
        300,
        ACLS,
        days(400),
        since=days(-7),
        renew_credential_id=100,
        renew_type_id=BLS,
        renew_expires_on=days(-8),
    )
    kinds = notices(person(acls))
    assert kinds[0] == reminder(-8, -7, credential=100, requirement=2)
    assert {n.user_id for n in kinds[1:]} == {501, 502}


def dependent_acls(status, bls_expires_in, *, since=None):
    """An ED nurse's ACLS (card 300), counting only while their BLS (card 100) is current."""
    return RequirementFact(
        2,
        True,
        status,
        frozenset({ACLS}),
        300,
        ACLS,
        days(bls_expires_in),
        since=since,
        renew_credential_id=100,
        renew_type_id=BLS,
        renew_expires_on=days(bls_expires_in),
    )


def test_one_card_to_renew_is_one_reminder_per_step_however_many_rows_it_keeps_met():
    nurse = person(held(60, status=Status.EXPIRING), dependent_acls(Status.COMPLIANT, 60))
    assert notices(nurse) == [reminder(60, 60)]
    assert [r.requirement_id for r in dependents_of(nurse, 100)] == [2]


def test_one_lapsed_card_is_one_escalation_per_manager_however_many_rows_it_stops():
    nurse = person(held(-3, status=Status.EXPIRED), dependent_acls(Status.PREREQUISITE_LAPSED, -3, since=days(-2)))
    escalations = [n for n in notices(nurse) if n.kind == Kind.ESCALATION]
    # Keyed by the BLS's own requirement (1), not the ACLS row it also stops.
    assert sorted((n.user_id, n.requirement_id, n.about_date) for n in escalations) == [
        (501, 1, days(-2)),
        (502, 1, days(-2)),
    ]
    assert [n for n in notices(nurse) if n.kind == Kind.REMINDER] == [reminder(-3, 0)]


def test_a_certification_type_can_have_its_own_thresholds():
    policy = Policy(DEFAULT, (30,), 7, by_type={BLS: ((45, 10), False)})
    assert notices(person(held(40)), policy=policy) == [reminder(40, 45)]
    assert notices(person(held(-30, status=Status.EXPIRED)), policy=policy, managers={}) == [reminder(-30, 10)]
    assert notices(person(held(40, type_id=CPR)), policy=policy) == [reminder(40, 60)]


def test_digests_are_keyed_by_the_monday_of_their_week():
    assert week_start(D(2026, 6, 1)) == D(2026, 6, 1)  # a Monday
    assert week_start(D(2026, 6, 7)) == D(2026, 6, 1)
    assert week_start(D(2026, 6, 8)) == D(2026, 6, 8)
