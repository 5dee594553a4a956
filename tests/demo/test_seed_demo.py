import datetime
import hashlib
import io

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from apps.certifications.dates import default_expiry
from apps.certifications.models import CertificationType, Credential
from apps.compliance import engine, selectors
from apps.compliance.models import ComplianceRun, CredentialFinding, EmployeeStatus, RequirementStatus
from apps.core import clock
from apps.demo import workforce as demo
from apps.organisation.models import Department, Employee

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 10)


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(datetime.datetime(2026, 3, 10, 17, 0, tzinfo=datetime.UTC), tick=False):
        yield


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, "--skip-scan", stdout=out)
    return out.getvalue()


def digest() -> str:
    """Every generated value (not ids or insert times), in a stable order."""
    rows = [
        *Employee.objects.order_by("employee_number").values_list(
            "employee_number",
            "first_name",
            "last_name",
            "email",
            "role__code",
            "department__code",
            "hired_on",
            "assigned_on",
            "terminated_on",
            "user__username",
        ),
        *Employee.history.order_by("employee_number", "history_date").values_list(
            "employee_number", "history_type", "history_date", "department_id", "assigned_on", "terminated_on"
        ),
        *Credential.objects.order_by("employee__employee_number", "certification_type__code", "issued_on").values_list(
            "employee__employee_number",
            "certification_type__code",
            "issued_on",
            "expires_on",
            "issuer",
            "card_number",
            "proof",
            "verification",
            "verified_by__username",
            "verified_at",
            "rejection_reason",
        ),
    ]
    return hashlib.sha256(repr(rows).encode()).hexdigest()


@pytest.mark.slow  # seeds a demo workforce
def test_the_same_seed_gives_the_same_data():
    seed("--employees", "150", "--seed", "3")
    first = digest()

    seed("--employees", "150", "--seed", "3", "--replace")

    assert digest() == first


@pytest.mark.slow  # seeds a demo workforce
def test_another_seed_gives_other_data():
    seed("--employees", "150", "--seed", "3")
    first = digest()

    seed("--employees", "150", "--seed", "4", "--replace")

    assert digest() != first


def test_it_refuses_to_run_twice_without_replace():
    seed("--employees", "20")

    with pytest.raises(CommandError, match="already 20 employees.*--replace"):
        seed("--employees", "30")

    assert Employee.objects.count() == 20


@pytest.mark.slow  # seeds a demo workforce
def test_replace_deletes_the_old_workforce_with_its_cards_and_history():
    seed("--employees", "60", "--seed", "1")

    output = seed("--employees", "25", "--seed", "2", "--replace")

    assert "Deleted 60 existing employees" in output
    assert Employee.objects.count() == 25
    assert set(Credential.objects.values_list("employee_id", flat=True)) <= set(
        Employee.objects.values_list("id", flat=True)
    )
    assert Employee.history.values("id").distinct().count() == 25
    assert not Credential.history.exists()
    assert get_user_model().objects.filter(username__in=demo.DEMO_USERNAMES).count() == 3


@pytest.mark.slow  # the queued scan runs in-process, with a full rebuild of the status periods
def test_replace_also_deletes_the_old_workforces_compliance_results(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", "--employees", "80", stdout=io.StringIO())
    assert RequirementStatus.objects.filter(credential__isnull=False).exists()
    assert CredentialFinding.objects.exists()

    seed("--employees", "30", "--replace")

    assert not EmployeeStatus.objects.exists()
    assert not RequirementStatus.objects.exists()
    assert not CredentialFinding.objects.exists()


def test_it_wants_at_least_one_employee():
    with pytest.raises(CommandError, match="at least one"):
        seed("--employees", "0")


@pytest.fixture
def workforce():
    return demo.demo_workforce_create(employees=300, seed=11)


def test_it_produces_every_situation_of_the_mix(workforce):
    assert set(workforce.situations) == set(demo.SITUATIONS) - {"no_requirements"}
    assert workforce.bundled > 0
    assert workforce.without_email > 0
    assert workforce.employees == Employee.objects.count() == 300


def test_the_engine_sees_every_status(workforce):
    statuses = {
        requirement.status
        for _, result in selectors.evaluate(Employee.objects.all(), TODAY)
        for requirement in result.requirements
    }

    assert statuses == set(engine.Status)


def test_bundled_courses_share_an_issue_day():
    demo.demo_workforce_create(employees=100, seed=5)
    bls = set(Credential.objects.filter(certification_type__code="BLS").values_list("employee_id", "issued_on"))
    acls = set(Credential.objects.filter(certification_type__code="ACLS").values_list("employee_id", "issued_on"))

    assert len(bls & acls) > 10


def test_prerequisite_lapsed_means_acls_current_while_bls_lapsed(workforce):
    lapsed = [
        requirement
        for _, result in selectors.evaluate(Employee.objects.all(), TODAY)
        for requirement in result.requirements
        if requirement.status == engine.Status.PREREQUISITE_LAPSED
    ]
    acls = Credential.objects.get(pk=lapsed[0].credential_id)
    basic_cards = Credential.objects.filter(employee=acls.employee, certification_type__code__in=["BLS", "CPR"])

    assert acls.issued_on <= TODAY <= acls.expires_on
    assert basic_cards.exists()
    assert all(card.expires_on < TODAY for card in basic_cards)


def test_newcomers_and_recent_transferees_started_within_30_days(workforce):
    newcomers = Employee.objects.filter(hired_on__gt=TODAY - datetime.timedelta(days=30))
    transferees = Employee.objects.filter(
        assigned_on__gt=TODAY - datetime.timedelta(days=30), hired_on__lt=TODAY - datetime.timedelta(days=365)
    )

    assert newcomers.count() == workforce.situations["newcomer"]
    assert transferees.count() == workforce.situations["transferee"]


def test_the_history_answers_where_a_transferee_was_before(workforce):
    transferee = Employee.objects.filter(hired_on__lt=TODAY - datetime.timedelta(days=365)).latest("assigned_on")
    before = transferee.assigned_on - datetime.timedelta(days=1)

    catalogue = selectors.load_catalogue(before)
    [then] = selectors.employee_facts(Employee.objects.filter(pk=transferee.pk), before, catalogue)

    assert then.department_id != transferee.department_id
    assert then.assigned_on == transferee.hired_on
    assert list(transferee.history.order_by("history_date").values_list("history_type", flat=True)) == ["+", "~"]


def test_every_employee_has_history_from_their_hire_day(workforce):
    first_versions = Employee.history.filter(history_type="+")

    assert first_versions.count() == Employee.objects.count()
    assert all(timezone.localdate(v.history_date) == v.hired_on for v in first_versions)


def test_terminated_staff_left_within_the_last_year(workforce):
    left = Employee.objects.filter(terminated_on__isnull=False)

    assert left.count() == workforce.situations["terminated"]
    assert all(TODAY - datetime.timedelta(days=365) <= e.terminated_on < TODAY for e in left)


def test_expiry_dates_follow_the_month_end_convention(workforce):
    validity = dict(CertificationType.objects.values_list("id", "validity_months"))

    for card in Credential.objects.all():
        assert card.issued_on <= TODAY
        assert card.expires_on == default_expiry(
            card.issued_on, validity[card.certification_type_id], at_month_end=True
        )


def test_uploads_awaiting_a_decision_carry_proof_and_rejections_a_reason(workforce):
    pending = Credential.objects.filter(verification=Credential.Verification.PENDING)
    rejected = Credential.objects.filter(verification=Credential.Verification.REJECTED)

    assert pending.exists() and rejected.exists()
    assert all(card.proof.name == demo.DEMO_PROOF_NAME and card.verified_by is None for card in pending)
    assert all(card.rejection_reason and card.proof for card in rejected)
    assert default_storage.exists(demo.DEMO_PROOF_NAME)


def test_clinical_staff_hold_about_five_cards_and_community_staff_fewer(workforce):
    clinical = workforce.clinical_credentials / workforce.clinical_employees
    community = workforce.community_credentials / workforce.community_employees

    assert 4 <= clinical <= 6
    assert community < clinical


@pytest.mark.slow  # seeds a demo workforce
def test_every_generated_row_passes_model_validation(workforce):
    for employee in Employee.objects.all():
        employee.full_clean()
    for card in Credential.objects.all()[:500]:
        card.full_clean()


def test_demo_emails_use_the_reserved_example_domain(workforce):
    emails = set(Employee.objects.exclude(email="").values_list("email", flat=True))

    assert all(email.endswith("@riverside-health.example") for email in emails)
    assert len(emails) == Employee.objects.exclude(email="").count()


def test_it_creates_the_three_demo_logins():
    output = seed("--employees", "40", "--password", "another-demo-pass")
    users = get_user_model().objects.in_bulk(demo.DEMO_USERNAMES, field_name="username")
    hr, manager, staff = (users[name] for name in demo.DEMO_USERNAMES)

    assert hr.is_superuser and hr.is_staff
    assert not (manager.is_staff or staff.is_staff)
    assert set(manager.managed_departments.values_list("code", flat=True)) == {"ED", "ICU"}
    assert staff.employee.employee_number == "E000001"
    assert (staff.employee.role.code, staff.employee.department.code) == ("registered-nurse", "ED")
    assert all(user.check_password("another-demo-pass") for user in users.values())
    assert "'another-demo-pass'" in output and "demo use only" in output
    assert all(name in output for name in demo.DEMO_USERNAMES)


@pytest.mark.slow  # seeds a demo workforce
def test_it_prints_a_summary_per_situation():
    output = seed("--employees", "300", "--seed", "11")

    assert "Seeded 300 employees" in output
    assert all(label in output for key, label in demo.SITUATIONS.items() if key != "no_requirements")


@pytest.mark.slow  # seeds a demo workforce
def test_it_loads_the_catalogue_only_when_absent():
    seed("--employees", "10")
    CertificationType.objects.filter(code="ATLS").update(validity_months=36)

    seed("--employees", "10", "--replace")

    assert CertificationType.objects.get(code="ATLS").validity_months == 36


def test_it_explains_a_catalogue_missing_what_the_demo_staffs():
    Department.objects.create(code="ED", name="Emergency Department")

    with pytest.raises(CommandError, match="catalogue lacks"):
        seed("--employees", "10")


def test_the_number_of_queries_does_not_grow_with_the_workforce(django_assert_max_num_queries):
    # SQLite caps a statement at 999 parameters, so 400 employees take four more INSERT batches than
    # 50 (26 queries against 22); a query per employee would already break the bound at 50. Making the
    # staff logins adds a fixed dozen (accounts.provisioning, per 20,000 employees).
    call_command("loaddata", "fixtures/catalogue.json", verbosity=0)
    counts = {}
    for size in (50, 400):
        with django_assert_max_num_queries(42) as captured:
            demo.demo_workforce_create(employees=size, seed=1)
        counts[size] = [q["sql"].split()[0] for q in captured.captured_queries if "INSERT INTO" not in q["sql"]]
        demo.demo_workforce_delete()

    assert counts[50] == counts[400]


@pytest.mark.slow  # the queued scan runs in-process, with a full rebuild of the status periods
def test_it_queues_a_compliance_scan_of_the_new_workforce(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", "--employees", "60", stdout=io.StringIO())

    run = ComplianceRun.objects.current()
    assert run.state == ComplianceRun.State.COMPLETE
    assert run.employee_count == Employee.objects.filter(terminated_on__isnull=True).count()


def test_skip_scan_queues_nothing(django_capture_on_commit_callbacks):
    call_command("loaddata", "fixtures/catalogue.json", verbosity=0)

    with django_capture_on_commit_callbacks() as callbacks:
        seed("--employees", "20")

    assert callbacks == []


def test_it_seeds_catalogue_history_with_one_requirement_added_mid_year(workforce):
    added = datetime.date(2025, 6, 1)  # today is 10 March 2026: last year's 1 June
    assert workforce.catalogue_change == (
        "ACLS for registered nurses in the Medical-Surgical Unit, required from 2025-06-01 (due within 30 days)"
    )
    before, after = selectors.load_catalogue(added - datetime.timedelta(days=1)), selectors.load_catalogue(added)
    assert len(after.requirements) == len(before.requirements) + 1
    assert before.changed_on == datetime.date(2011, 1, 1)
    assert after.changed_on == added
    assert selectors.load_catalogue(datetime.date(2015, 6, 1)).requirements == before.requirements


@pytest.mark.slow  # seeds a demo workforce
def test_every_demo_employee_with_an_email_gets_a_login_and_a_reseed_makes_no_duplicates():
    call_command("seed_demo", "--employees", "40", "--skip-scan", stdout=io.StringIO())
    employed = Employee.objects.exclude(email="").exclude(terminated_on__lt=clock.today())
    assert employed.filter(user__isnull=True).count() == 0
    assert employed.exclude(user__username=F("employee_number")).count() == 1  # demo-staff keeps its name
    assert not Employee.objects.filter(terminated_on__lt=clock.today(), user__is_active=True).exists()

    call_command("seed_demo", "--employees", "40", "--seed", "2", "--replace", "--skip-scan", stdout=io.StringIO())

    assert employed.filter(user__isnull=True).count() == 0
    assert get_user_model().objects.filter(employee__isnull=True, is_staff=False).count() == 1  # demo-manager
