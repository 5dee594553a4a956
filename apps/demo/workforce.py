"""A realistic, reproducible demo workforce: the logic behind `manage.py seed_demo`.

Everything random comes from one `random.Random(seed)` and every date from `clock.today()`, so a seed
gives the same people and cards on the same day. Rows go in a chunk of employees at a time, employees
with bulk_create (their ids are needed), their history and cards as plain multi-row inserts: the queries
grow only with the number of insert batches, never per row. 100,000 employees and their ~460,000 cards
take about half a minute of CPU.

Bulk inserts send no signals, so nothing here queues compliance work: the caller queues one full scan
afterwards (the command does).
"""

from __future__ import annotations

import datetime
import io
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection, models, transaction

from apps.accounts.provisioning import accounts_provision
from apps.certifications.dates import add_months, default_expiry
from apps.certifications.models import CertificationType, Credential, Prerequisite, Requirement
from apps.core import clock
from apps.core.bulk import insert_rows
from apps.organisation.models import Department, Employee, Role

CATALOGUE_FIXTURE = settings.BASE_DIR / "fixtures" / "catalogue.json"
CHUNK_SIZE = 5000
# The reserved .example domain (RFC 2606): reminders sent from a demo can never reach a real inbox.
EMAIL_DOMAIN = "riverside-health.example"
DEMO_PROOF_NAME = "proof/demo-card.png"
DEFAULT_PASSWORD = "demo-password-123"

HR_USERNAME = "demo-hr"
MANAGER_USERNAME = "demo-manager"
STAFF_USERNAME = "demo-staff"
DEMO_USERNAMES = (HR_USERNAME, MANAGER_USERNAME, STAFF_USERNAME)
MANAGED_DEPARTMENTS = ("ED", "ICU")
# Employee number one, the person behind the staff login: an ED nurse with a card to renew soon.
STAFF_PERSONA = ("ED", "registered-nurse")

# (department, role, relative headcount): a regional health system with its EMS, clinics and the
# community services (school, fitness centre, security, childcare) whose staff need only CPR.
STAFFING = (
    ("ED", "registered-nurse", 60),
    ("ED", "physician", 14),
    ("ICU", "registered-nurse", 55),
    ("ICU", "physician", 8),
    ("ICU", "nurse-practitioner", 6),
    ("ICU", "physician-assistant", 4),
    ("TELE", "registered-nurse", 40),
    ("TELE", "physician", 4),
    ("MEDSURG", "registered-nurse", 90),
    ("MEDSURG", "physician", 8),
    ("EMS", "paramedic", 60),
    ("CLINIC", "medical-assistant", 45),
    ("CLINIC", "physician", 12),
    ("CLINIC", "registered-nurse", 12),
    ("PEDS", "registered-nurse", 35),
    ("PEDS", "physician", 10),
    ("TRAUMA", "registered-nurse", 15),
    ("TRAUMA", "physician", 8),
    ("SURGERY", "registered-nurse", 40),
    ("SURGERY", "physician", 18),
    ("CARDIOLOGY", "registered-nurse", 20),
    ("CARDIOLOGY", "physician", 8),
    ("CARDIOLOGY", "nurse-practitioner", 6),
    ("CARDIOLOGY", "physician-assistant", 5),
    ("NICU", "registered-nurse", 30),
    ("NICU", "physician", 4),
    ("NICU", "nurse-practitioner", 5),
    ("LD", "registered-nurse", 35),
    ("LD", "physician", 6),
    ("NURSERY", "registered-nurse", 15),
    ("NURSERY", "physician", 3),
    ("SCHOOL", "teacher", 25),
    ("SCHOOL", "coach", 6),
    ("FITNESS", "fitness-trainer", 12),
    ("FITNESS", "coach", 4),
    ("SECURITY", "security-officer", 25),
    ("CHILDCARE", "childcare-provider", 18),
)
COMMUNITY_DEPARTMENTS = frozenset({"SCHOOL", "FITNESS", "SECURITY", "CHILDCARE"})
# Cards people hold beyond what their unit requires (a PALS-certified ED nurse, a med-surg nurse with ACLS).
EXTRA_CARDS = {
    ("ED", "registered-nurse"): ("PALS",),
    ("ED", "physician"): ("PALS", "ATLS"),
    ("PEDS", "registered-nurse"): ("PALS",),
    ("MEDSURG", "registered-nurse"): ("ACLS",),
    ("SURGERY", "registered-nurse"): ("ACLS",),
    ("TRAUMA", "registered-nurse"): ("ACLS",),
    ("CARDIOLOGY", "registered-nurse"): ("ACLS",),
    ("EMS", "paramedic"): ("PALS",),
}
EXTRA_CARD_SHARE = 0.5
ISSUERS = {
    "CPR": (("American Heart Association", 3), ("American Red Cross", 2)),
    "BLS": (("American Heart Association", 5), ("American Red Cross", 1)),
    "ACLS": (("American Heart Association", 1),),
    "PALS": (("American Heart Association", 1),),
    "NRP": (("American Academy of Pediatrics", 1),),
    "ATLS": (("American College of Surgeons", 1),),
}
REJECTION_REASONS = (
    "The photo is too blurred to read the expiry date; please upload a clearer scan.",
    "The name on the card does not match the employee record; ask the training centre to reissue it.",
    "Only the front of the card was uploaded; the dates are on the back.",
    "The eCard code could not be validated with the issuer; please upload the eCard PDF itself.",
)

SITUATIONS = {
    "compliant": "Compliant: every card current",
    "expiring": "A card expires within its renewal window",
    "expired": "A card expired on the job",
    "missing": "A required card never held, overdue",
    "newcomer": "Newcomer (hired < 30 days ago), not yet due",
    "transferee": "Recent transferee, new unit's card not yet due",
    "pending": "Renewal uploaded, pending verification",
    "rejected": "Renewal upload rejected, card lapsed",
    "prerequisite_lapsed": "Advanced card current, its BLS lapsed",
    "terminated": "Left in the last year",
    "no_requirements": "Nothing required in their role and unit",
}
SCENARIO_WEIGHTS = {
    "compliant": 58,
    "expiring": 14,
    "expired": 7,
    "missing": 4,
    "pending": 4,
    "rejected": 3,
    "prerequisite_lapsed": 4,
}
NEWCOMER_SHARE = 0.05
RECENT_TRANSFER_SHARE = 0.04
TERMINATED_SHARE = 0.02
EARLIER_TRANSFER_SHARE = 0.08
NO_EMAIL_SHARE = 0.03
BUNDLED_SHARE = 0.5
PREVIOUS_CARD_WEIGHTS = {0: 5, 1: 30, 2: 40, 3: 25}
MEAN_TENURE_DAYS = 6 * 365

# Word lists, not list literals: one name per line, they would run to 250 lines.
FIRST_NAMES = """
Aaliyah Aaron Abigail Adrian Aisha Alejandro Alexis Alicia Amanda Amir Ana Andre Andrea Angela Anthony Ashley
Benjamin Brandon Brianna Camila Carlos Carmen Catherine Chen Christopher Claire Daniel Danielle David Deborah Deepa
Derek Diana Diego Dylan Elena Elijah Elizabeth Emily Emmanuel Eric Esther Ethan Fatima Gabriel Grace Hannah Hector
Hiroshi Imani Isabella Jacob Jamal Jasmine Jason Jennifer Jessica Joanna Jonathan Jorge Joseph Joshua Juan Julia
Justin Kaitlyn Karen Kevin Kiara Kimberly Laura Lauren Leah Linda Lucas Luis Maria Mariana Mark Matthew Maya Megan
Melissa Michael Michelle Mohammed Monica Nathan Nicole Noah Olivia Omar Patricia Paul Priya Rachel Rafael Rebecca
Ricardo Robert Rosa Ryan Samantha Samuel Sandra Sarah Sean Sofia Stephanie Steven Tamika Tanya Theresa Thomas
Tiffany Tyler Valentina Vanessa Victor Wei William Xavier Yolanda Zachary Zoe
""".split()  # noqa: SIM905
LAST_NAMES = """
Adams Ahmed Alexander Allen Alvarez Anderson Baker Banks Bell Bennett Brooks Brown Bryant Butler Campbell Carter
Castillo Chavez Chen Clark Coleman Collins Cook Cooper Cruz Davis Diaz Edwards Evans Fisher Flores Foster Garcia
Gomez Gonzalez Graham Gray Green Griffin Gupta Hall Harris Hayes Henderson Hernandez Hill Howard Hughes Jackson
James Jenkins Johnson Jones Kelly Khan Kim King Lee Lewis Long Lopez Martin Martinez Mendoza Miller Mitchell Moore
Morales Morgan Murphy Myers Nguyen Nelson O'Brien Ortiz Owens Parker Patel Perez Perry Peterson Phillips Powell
Price Ramirez Reed Reyes Richardson Rivera Roberts Robinson Rodriguez Rogers Ross Russell Sanchez Sanders Scott
Shah Simmons Singh Smith Stewart Sullivan Taylor Thomas Thompson Torres Tran Turner Walker Ward Washington Watson
White Williams Wilson Wong Wood Wright Yang Young
""".split()  # noqa: SIM905

ONE_DAY = datetime.timedelta(days=1)
_MINUTE = datetime.timedelta(minutes=1)


class DemoDataError(Exception):
    """The demo cannot be seeded as asked (existing data, an incomplete catalogue)."""


@dataclass
class DemoReport:
    employees: int = 0
    credentials: int = 0
    situations: Counter = field(default_factory=Counter)
    bundled: int = 0
    without_email: int = 0
    earlier_transfers: int = 0
    clinical_employees: int = 0
    clinical_credentials: int = 0
    community_employees: int = 0
    community_credentials: int = 0
    catalogue_loaded: bool = False
    catalogue_change: str = ""  # the requirement added mid-year, when the demo loaded the catalogue
    deleted_employees: int = 0
    logins: int = 0
    managed_departments: tuple[str, ...] = ()
    staff_employee: str = ""


def demo_workforce_create(
    *,
    employees: int,
    seed: int,
    password: str = DEFAULT_PASSWORD,
    replace: bool = False,
    progress: Callable[[int], None] | None = None,
) -> DemoReport:
    """Seed `employees` people with their cards, the demo logins, and the catalogue if it is absent.

    Refuses when employees exist, unless `replace`, which first deletes every employee (with their
    credentials, results and history) and the demo logins. Deleting and seeding is all or nothing.
    `progress` is called with the number of employees written after each chunk.
    """
    if employees < 1:
        raise DemoDataError("Ask for at least one employee.")
    report = DemoReport()
    existing = Employee.objects.count()
    if existing and not replace:
        raise DemoDataError(
            f"There are already {existing} employees. Run with --replace to delete them, their credentials "
            "and the demo logins, and seed afresh."
        )
    # Committed on its own, before any employee exists: the compliance scans that loading the
    # catalogue queues then run over nobody instead of over the whole new workforce.
    report.catalogue_loaded = catalogue_load_if_absent()
    if report.catalogue_loaded:
        report.catalogue_change = _catalogue_history_seed(clock.today())
    with transaction.atomic():
        if existing:
            report.deleted_employees = demo_workforce_delete()
        catalogue = _Catalogue.load()
        generator = _Generator(catalogue=catalogue, seed=seed, today=clock.today(), report=report)
        people = generator.people(0, min(CHUNK_SIZE, employees))
        staff = people[0]
        logins = _demo_logins_create(password=password, staff=staff, catalogue=catalogue)
        report.managed_departments = tuple(department.name for department in logins["managed"])
        report.staff_employee = (
            f"{staff.first_name} {staff.last_name} ({_employee_number(0)}), "
            f"{catalogue.roles[staff.role].name.lower()}, {catalogue.departments[staff.department]}"
        )
        _proof_file_ensure()
        done = 0
        while people:
            generator.insert(people, hr_user_id=logins["hr"].pk, staff_user_id=logins["staff"].pk)
            done += len(people)
            if progress:
                progress(len(people))
            people = generator.people(done, min(done + CHUNK_SIZE, employees))
        report.logins = accounts_provision().created
    return report


def catalogue_load_if_absent() -> bool:
    """Load fixtures/catalogue.json into an empty catalogue; never overwrite one HR may have edited."""
    if CertificationType.objects.exists() or Role.objects.exists() or Department.objects.exists():
        return False
    call_command("loaddata", str(CATALOGUE_FIXTURE), verbosity=0)
    return True


# The catalogue has history too: the fixture's rules have been in force since long before anyone was
# hired, and HR added one requirement in the middle of a year, so past days show the difference.
CATALOGUE_IN_FORCE_YEARS = 15
MID_YEAR_ADDITION = ("registered-nurse", "MEDSURG", "ACLS")


def _catalogue_history_seed(today: datetime.date) -> str:
    """Record the loaded catalogue as in force for years, and add one requirement on 1 June; describe it."""
    since = _noon(today.replace(month=1, day=1, year=today.year - CATALOGUE_IN_FORCE_YEARS))
    for model in (Requirement, Prerequisite):
        _created_long_ago(model, since)
    # Late enough in the past that its due period is over by today.
    year = today.year if today >= datetime.date(today.year, 7, 15) else today.year - 1
    added_on = datetime.date(year, 6, 1)
    role_code, department_code, type_code = MID_YEAR_ADDITION
    department = Department.objects.get(code=department_code)
    requirement = Requirement(role=Role.objects.get(code=role_code), department=department)
    requirement._history_date = _noon(added_on)  # type: ignore[attr-defined]  # simple-history's documented hook
    requirement.save()
    requirement.any_of.set([CertificationType.objects.get(code=type_code)])
    return (
        f"{type_code} for {requirement.role.name.lower()}s in the {department.name}, "
        f"required from {added_on} (due within {requirement.due_within_days} days)"
    )


def _created_long_ago(model, when: datetime.datetime) -> None:
    """A "created" history record for each rule loaded from the fixture (loaddata records none), dated `when`."""
    historical = model.history.model
    sets = historical._meta.get_field(f"{historical._meta.model_name}_any_of").related_model
    owner = f"{model._meta.model_name}_id"
    columns = [f.attname for f in model._meta.concrete_fields]
    records = {
        rule.pk: historical.objects.create(
            history_date=when, history_type="+", **{name: getattr(rule, name) for name in columns}
        )
        for rule in model.objects.all()
    }
    through = model.any_of.through
    sets.objects.bulk_create(
        sets(history=records[row[owner]], **row) for row in through.objects.values("id", owner, "certificationtype_id")
    )


def _noon(day: datetime.date) -> datetime.datetime:
    return clock.start_of_day(day) + datetime.timedelta(hours=12)


def demo_workforce_delete() -> int:
    """Delete every employee with everything hanging off them, and the demo logins.

    Deliberately without per-row deletes: each deleted credential would send signals that write a
    history row and queue a compliance recompute, half a million of each for a large demo. Rows that
    point at credentials or employees are cleared first, honouring their on_delete, then both tables
    are emptied in one statement each.
    """
    count = Employee.objects.count()
    # The logins made for these people go with them: re-seeding makes them afresh under the same numbers.
    provisioned = list(
        get_user_model()
        .objects.filter(employee__isnull=False, is_staff=False, is_superuser=False)
        .values_list("pk", flat=True)
    )
    for model in (Credential, Employee):
        _clear_references_to(model)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
    Credential.history.all().delete()
    Employee.history.all().delete()
    get_user_model().objects.filter(username__in=DEMO_USERNAMES).delete()
    get_user_model().objects.filter(pk__in=provisioned).delete()
    return count


def _clear_references_to(model) -> None:
    relations = [
        f
        for f in model._meta.get_fields(include_hidden=True)
        if f.auto_created and not f.concrete and (f.one_to_one or f.one_to_many)
    ]
    for relation in relations:
        if relation.on_delete is models.DO_NOTHING:
            continue
        rows = relation.related_model._base_manager.filter(**{f"{relation.field.name}__isnull": False})
        if relation.on_delete is models.CASCADE:
            rows.delete()
        elif relation.on_delete is models.SET_NULL:
            rows.update(**{relation.field.name: None})
        else:
            raise DemoDataError(
                f"{relation.related_model._meta.label} rows protect {model._meta.verbose_name_plural}; "
                "delete them before replacing the demo."
            )


@dataclass(frozen=True)
class _CardType:
    id: int
    code: str
    validity_months: int | None
    at_month_end: bool


@dataclass
class _Catalogue:
    """The catalogue as plain data: sets of codes in a fixed order, so generation never depends on hashing."""

    types: dict[str, _CardType]
    roles: dict[str, Role]
    departments: dict[str, Department]
    requirements: dict[tuple[int, int | None], list[tuple[str, ...]]]
    prerequisites: dict[str, list[tuple[str, ...]]]
    _sets: dict = field(default_factory=dict)

    @classmethod
    def load(cls) -> _Catalogue:
        by_id = {}
        for pk, code, expires, months, month_end in CertificationType.objects.values_list(
            "id", "code", "expires", "validity_months", "expires_at_month_end"
        ):
            by_id[pk] = _CardType(pk, code, months if expires else None, month_end)
        roles = {r.code: r for r in Role.objects.all()}
        departments = {d.code: d for d in Department.objects.all()}
        missing = sorted(
            {f"role {role}" for _, role, _ in STAFFING if role not in roles}
            | {f"department {dept}" for dept, _, _ in STAFFING if dept not in departments}
        )
        if missing:
            raise DemoDataError(
                f"The catalogue lacks {', '.join(missing)}. Load {CATALOGUE_FIXTURE.name} into an empty "
                "catalogue or add them in the admin."
            )
        requirement_sets = _any_of_codes(Requirement.any_of.through, "requirement_id", by_id)
        requirements: dict[tuple[int, int | None], list[tuple[str, ...]]] = {}
        for pk, role_id, department_id in Requirement.objects.order_by("id").values_list(
            "id", "role_id", "department_id"
        ):
            if requirement_sets.get(pk):
                requirements.setdefault((role_id, department_id), []).append(requirement_sets[pk])
        prerequisite_sets = _any_of_codes(Prerequisite.any_of.through, "prerequisite_id", by_id)
        prerequisites: dict[str, list[tuple[str, ...]]] = {}
        for pk, type_id in (
            Prerequisite.objects.filter(must_stay_current=True)
            .order_by("id")
            .values_list("id", "certification_type_id")
        ):
            if prerequisite_sets.get(pk):
                prerequisites.setdefault(by_id[type_id].code, []).append(prerequisite_sets[pk])
        return cls(
            types={t.code: t for t in by_id.values()},
            roles=roles,
            departments=departments,
            requirements=requirements,
            prerequisites=prerequisites,
        )

    def sets_for(self, role: str, department: str) -> tuple[tuple[str, ...], ...]:
        """What this role needs in this unit: single-card sets first, so a choice can reuse them."""
        key = (role, department)
        if key not in self._sets:
            role_id, department_id = self.roles[role].pk, self.departments[department].pk
            found = self.requirements.get((role_id, None), []) + self.requirements.get((role_id, department_id), [])
            self._sets[key] = tuple(sorted(set(found), key=lambda s: (len(s), s)))
        return self._sets[key]


def _any_of_codes(through, owner_field: str, types: dict[int, _CardType]) -> dict[int, tuple[str, ...]]:
    codes: dict[int, list[str]] = {}
    for owner_id, type_id in through.objects.values_list(owner_field, "certificationtype_id"):
        codes.setdefault(owner_id, []).append(types[type_id].code)
    return {owner_id: tuple(sorted(c)) for owner_id, c in codes.items()}


@dataclass
class _Card:
    code: str
    issued_on: datetime.date
    expires_on: datetime.date | None
    verification: str = Credential.Verification.VERIFIED
    rejection_reason: str = ""


@dataclass
class _Person:
    index: int
    first_name: str
    last_name: str
    email: str
    role: str
    department: str
    hired_on: datetime.date
    assigned_on: datetime.date
    terminated_on: datetime.date | None
    earlier_department: str | None  # the unit before a transfer on `assigned_on`
    cards: list[_Card]


def _employee_number(index: int) -> str:
    return f"E{index + 1:06d}"


class _Generator:
    def __init__(self, *, catalogue: _Catalogue, seed: int, today: datetime.date, report: DemoReport):
        self.catalogue = catalogue
        self.rng = random.Random(seed)
        self.today = today
        self.report = report
        self.placements = [(dept, role) for dept, role, _ in STAFFING]
        self.placement_weights = [weight for _, _, weight in STAFFING]
        self.departments_of_role: dict[str, list[str]] = {}
        for dept, role, _ in STAFFING:
            self.departments_of_role.setdefault(role, []).append(dept)
        self.email_counts: Counter = Counter()
        self.transfer_sources: dict[tuple[str, str], list[str]] = {}
        self.midnights: dict[datetime.date, datetime.datetime] = {}

    def people(self, start: int, stop: int) -> list[_Person]:
        return [self.person(index) for index in range(start, stop)]

    def person(self, index: int) -> _Person:
        rng, today = self.rng, self.today
        if index == 0:
            dept, role = STAFF_PERSONA
        else:
            dept, role = rng.choices(self.placements, weights=self.placement_weights)[0]
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = "" if index and rng.random() < NO_EMAIL_SHARE else self._email(first, last)
        transfer_sources = self._transfer_sources(role, dept)
        roll = rng.random() if index else 1.0
        if roll < NEWCOMER_SHARE:
            situation = "newcomer"
        elif roll < NEWCOMER_SHARE + TERMINATED_SHARE:
            situation = "terminated"
        elif roll < NEWCOMER_SHARE + TERMINATED_SHARE + RECENT_TRANSFER_SHARE and transfer_sources:
            situation = "transferee"
        elif index == 0:
            situation = "expiring"
        else:
            situation = rng.choices(list(SCENARIO_WEIGHTS), weights=list(SCENARIO_WEIGHTS.values()))[0]

        terminated_on = earlier_department = None
        if situation == "newcomer":
            hired_on = assigned_on = today - rng.randint(0, 29) * ONE_DAY
        else:
            tenure = 60 + min(int(rng.expovariate(1 / MEAN_TENURE_DAYS)), 30 * 365)
            if situation in ("transferee", "terminated"):
                tenure += 400
            hired_on = assigned_on = today - tenure * ONE_DAY
        if situation == "terminated":
            terminated_on = today - rng.randint(1, 365) * ONE_DAY
        reference = terminated_on or today
        if situation == "transferee":
            earlier_department = rng.choice(transfer_sources)
            assigned_on = today - rng.randint(0, 29) * ONE_DAY
        elif index and rng.random() < EARLIER_TRANSFER_SHARE and (reference - hired_on).days > 120:
            others = [d for d in self.departments_of_role[role] if d != dept]
            if others:
                earlier_department = rng.choice(others)
                assigned_on = hired_on + rng.randint(60, (reference - hired_on).days - 31) * ONE_DAY
                self.report.earlier_transfers += 1

        sets = self.catalogue.sets_for(role, dept)
        if not sets:
            situation = "no_requirements"
        cards = self._cards(role, dept, sets, situation, earlier_department, reference)
        self.report.situations[situation] += 1
        self.report.without_email += not email
        return _Person(
            index=index,
            first_name=first,
            last_name=last,
            email=email,
            role=role,
            department=dept,
            hired_on=hired_on,
            assigned_on=assigned_on,
            terminated_on=terminated_on,
            earlier_department=earlier_department,
            cards=cards,
        )

    def _email(self, first: str, last: str) -> str:
        local = f"{_ascii(first)}.{_ascii(last)}"
        self.email_counts[local] += 1
        number = self.email_counts[local]
        return f"{local}{number if number > 1 else ''}@{EMAIL_DOMAIN}"

    def _transfer_sources(self, role: str, dept: str) -> list[str]:
        """Units of the same role from which moving here adds a card they would not hold yet."""
        key = (role, dept)
        if key not in self.transfer_sources:
            here = set(self.catalogue.sets_for(role, dept))
            self.transfer_sources[key] = [
                other
                for other in self.departments_of_role[role]
                if other != dept and here - set(self.catalogue.sets_for(role, other))
            ]
        return self.transfer_sources[key]

    def _can_outlive_prerequisite(self, code: str) -> bool:
        """An expiring card whose prerequisites all expire: the one shape 'prerequisite lapsed' can take."""
        types, prerequisites = self.catalogue.types, self.catalogue.prerequisites
        return (
            code in prerequisites
            and types[code].validity_months is not None
            and all(types[c].validity_months is not None for options in prerequisites[code] for c in options)
        )

    def _choose(self, options: tuple[str, ...], held: list[str], community: bool) -> str | None:
        if any(code in held for code in options):
            return None
        usual = "CPR" if community else "BLS"
        if usual in options and self.rng.random() < 0.9:
            return usual
        return self.rng.choice(options)

    def _cards(self, role, dept, sets, situation, earlier_department, reference) -> list[_Card]:
        rng, catalogue = self.rng, self.catalogue
        community = dept in COMMUNITY_DEPARTMENTS
        held: list[str] = []
        required: list[str] = []
        for options in sets:
            choice = self._choose(options, held, community)
            if choice:
                held.append(choice)
                required.append(choice)
        for code in EXTRA_CARDS.get((dept, role), ()):
            if code in catalogue.types and code not in held and rng.random() < EXTRA_CARD_SHARE:
                held.append(code)
        for code in held:  # the list grows while walking it: prerequisites of prerequisites
            for options in catalogue.prerequisites.get(code, ()):
                choice = self._choose(options, held, community)
                if choice:
                    held.append(choice)
        held.sort(key=lambda code: (code in catalogue.prerequisites, code))

        prerequisite_codes = [c for code in held for options in catalogue.prerequisites.get(code, ()) for c in options]
        state = dict.fromkeys(held, "current")
        if situation == "prerequisite_lapsed":
            dependants = [c for c in required if self._can_outlive_prerequisite(c)] or [
                c for c in held if self._can_outlive_prerequisite(c)
            ]
            if dependants:
                for options in catalogue.prerequisites[rng.choice(dependants)]:
                    for code in options:
                        if code in state:
                            state[code] = "expired"
            else:
                situation = "expired"
        if situation in ("expiring", "expired", "pending", "rejected"):
            state[rng.choice(required)] = situation
        elif situation == "missing":
            state.pop(rng.choice([c for c in required if c not in prerequisite_codes] or required))
        elif situation == "newcomer":
            for code in held:
                if rng.random() < 0.5:
                    state.pop(code)
            if all(code in state for code in required):
                state.pop(rng.choice(required))
        elif situation == "transferee":
            before = set(catalogue.sets_for(role, earlier_department))
            for options in sets:
                if options not in before:
                    for code in options:
                        state.pop(code, None)

        cards: list[_Card] = []
        chains: dict[str, list[_Card]] = {}
        bundled = False
        for code in held:
            if code not in state:
                continue
            card_type = catalogue.types[code]
            chain = None
            if state[code] == "current":
                partner = next(
                    (
                        chains[c][0]
                        for options in catalogue.prerequisites.get(code, ())
                        for c in options
                        if c in chains and state[c] == "current"
                    ),
                    None,
                )
                if (
                    partner
                    and catalogue.types[partner.code].validity_months == card_type.validity_months
                    and rng.random() < BUNDLED_SHARE
                ):
                    chain = [_Card(code, c.issued_on, c.expires_on) for c in chains[partner.code]]
                    bundled = True
            if chain is None:
                chain = self._chain(card_type, state[code], reference)
            if code in catalogue.prerequisites:
                # Cards are earned on a current prerequisite; otherwise the engine rightly flags them. The few
                # left uncovered (a newcomer's ACLS before their BLS is on file) are the data-quality findings.
                if (
                    state[code] == "current"
                    and not self._prerequisite_current(chain[0], chains)
                    and self._can_outlive_prerequisite(code)
                    and all(any(c in chains for c in options) for options in catalogue.prerequisites[code])
                ):
                    chain = self._chain_while_prerequisite_current(card_type, chains, reference)
                chain = chain[:1] + [card for card in chain[1:] if self._prerequisite_current(card, chains)]
            chains[code] = chain
            cards.extend(chain)
            if state[code] == "pending":
                issued = self.today - rng.randint(1, 25) * ONE_DAY
                cards.append(_Card(code, issued, self._expiry(card_type, issued), Credential.Verification.PENDING))
            elif state[code] == "rejected":
                issued = self.today - rng.randint(3, 45) * ONE_DAY
                cards.append(
                    _Card(
                        code,
                        issued,
                        self._expiry(card_type, issued),
                        Credential.Verification.REJECTED,
                        rng.choice(REJECTION_REASONS),
                    )
                )
        self.report.bundled += bundled
        return cards

    def _prerequisite_current(self, card: _Card, chains: dict[str, list[_Card]]) -> bool:
        return all(
            any(
                held.issued_on <= card.issued_on and (held.expires_on is None or card.issued_on <= held.expires_on)
                for code in options
                for held in chains.get(code, ())
            )
            for options in self.catalogue.prerequisites[card.code]
        )

    def _chain(self, card_type: _CardType, state: str, reference: datetime.date) -> list[_Card]:
        """The card in force (current, expiring or lapsed as asked) and the earlier ones it renewed."""
        rng = self.rng
        months = card_type.validity_months
        if months is None:
            return [_Card(card_type.code, reference - rng.randint(30, 3000) * ONE_DAY, None)]
        span = months * 365 // 12
        if state == "current":
            target = reference + rng.randint(95, span - 35) * ONE_DAY
        elif state == "expiring":
            target = reference + rng.randint(0, 60) * ONE_DAY
        elif state == "pending":
            target = reference - rng.randint(31, 75) * ONE_DAY
        else:
            target = reference - rng.randint(31, 400) * ONE_DAY
        # The card's month-end expiry lands in the target's month: inside the window the state asks for.
        return self._renewals(card_type, min(add_months(target, -months), reference))

    def _chain_while_prerequisite_current(self, card_type: _CardType, chains, reference) -> list[_Card]:
        """An advanced card earned while its prerequisite was current (if lapsed since), valid well past today."""
        prerequisite = min(
            (chains[c][0] for options in self.catalogue.prerequisites[card_type.code] for c in options if c in chains),
            key=lambda card: card.expires_on,
        )
        assert card_type.validity_months is not None  # advanced cards expire
        span = card_type.validity_months * 365 // 12
        latest = min(prerequisite.expires_on - ONE_DAY, reference)
        earliest = min(max(prerequisite.issued_on + ONE_DAY, reference - (span - 130) * ONE_DAY), latest)
        return self._renewals(card_type, earliest + self.rng.randint(0, (latest - earliest).days) * ONE_DAY)

    def _renewals(self, card_type: _CardType, issued: datetime.date) -> list[_Card]:
        rng = self.rng
        assert card_type.validity_months is not None  # only cards that expire are renewed
        cards = [_Card(card_type.code, issued, self._expiry(card_type, issued))]
        previous = rng.choices(list(PREVIOUS_CARD_WEIGHTS), weights=list(PREVIOUS_CARD_WEIGHTS.values()))[0]
        for _ in range(previous):
            # Renewed in the last weeks before the earlier card's expiry month ended.
            issued = add_months(cards[-1].issued_on, -card_type.validity_months) + rng.randint(0, 75) * ONE_DAY
            cards.append(_Card(card_type.code, issued, self._expiry(card_type, issued)))
        return cards

    def _expiry(self, card_type: _CardType, issued: datetime.date) -> datetime.date | None:
        if card_type.validity_months is None:
            return None
        return default_expiry(issued, card_type.validity_months, at_month_end=card_type.at_month_end)

    def insert(self, people: list[_Person], *, hr_user_id: int, staff_user_id: int) -> None:
        catalogue, rng = self.catalogue, self.rng
        roles, departments = catalogue.roles, catalogue.departments
        employees = Employee.objects.bulk_create(
            [
                Employee(
                    employee_number=_employee_number(p.index),
                    first_name=p.first_name,
                    last_name=p.last_name,
                    email=p.email,
                    user_id=staff_user_id if p.index == 0 else None,
                    role_id=roles[p.role].pk,
                    department_id=departments[p.department].pk,
                    hired_on=p.hired_on,
                    assigned_on=p.assigned_on,
                    terminated_on=p.terminated_on,
                )
                for p in people
            ],
            batch_size=CHUNK_SIZE,
        )
        if employees[0].pk is None:
            raise DemoDataError(f"{connection.vendor} does not return ids from bulk inserts; use SQLite or PostgreSQL.")

        historical = Employee.history.model
        history_columns = (
            *(f.attname for f in historical.tracked_fields),
            "history_type",
            "history_date",
            "history_change_reason",
        )
        versions = []
        credentials = []
        created_at = clock.now()
        for person, employee in zip(people, employees, strict=True):
            versions.extend(self._versions(historical, person, employee))
            for card in person.cards:
                issuers = ISSUERS.get(card.code, (("", 1),))
                decided = card.verification != Credential.Verification.PENDING
                decided_on = min(card.issued_on + rng.randint(0, 14) * ONE_DAY, self.today)
                credentials.append(
                    (
                        employee.pk,
                        catalogue.types[card.code].id,
                        card.issued_on,
                        card.expires_on,
                        rng.choices([i for i, _ in issuers], weights=[w for _, w in issuers])[0],
                        str(rng.randrange(10**11, 10**12)),
                        DEMO_PROOF_NAME if card.issued_on > self.today - 60 * ONE_DAY else "",
                        card.verification,
                        hr_user_id if decided else None,
                        self._midnight(decided_on) + rng.randint(8 * 60, 17 * 60) * _MINUTE if decided else None,
                        card.rejection_reason,
                        "",
                        created_at,
                    )
                )
            if person.department in COMMUNITY_DEPARTMENTS:
                self.report.community_employees += 1
                self.report.community_credentials += len(person.cards)
            else:
                self.report.clinical_employees += 1
                self.report.clinical_credentials += len(person.cards)
        insert_rows(historical, history_columns, versions)
        insert_rows(Credential, _CREDENTIAL_COLUMNS, credentials)
        self.report.employees += len(employees)
        self.report.credentials += len(credentials)

    def _midnight(self, day: datetime.date) -> datetime.datetime:
        if day not in self.midnights:
            self.midnights[day] = clock.start_of_day(day)
        return self.midnights[day]

    def _versions(self, historical, person: _Person, employee: Employee) -> list[tuple]:
        """History as HR would have recorded it: hired, maybe transferred, maybe left.

        As-of questions (who was where on an audit day) read these rows, so each carries the
        assignment in force from its date.
        """
        base = {f.attname: getattr(employee, f.attname) for f in historical.tracked_fields}
        departments = self.catalogue.departments

        def version(kind, day, **changes):
            values = {**base, "terminated_on": None, **changes}
            return (*values.values(), kind, self._midnight(day), "Demo data")

        first_department = person.earlier_department or person.department
        rows = [
            version("+", person.hired_on, department_id=departments[first_department].pk, assigned_on=person.hired_on)
        ]
        if person.earlier_department:
            rows.append(version("~", person.assigned_on))
        if person.terminated_on:
            rows.append(version("~", person.terminated_on, terminated_on=person.terminated_on))
        return rows


_CREDENTIAL_COLUMNS = (
    "employee_id",
    "certification_type_id",
    "issued_on",
    "expires_on",
    "issuer",
    "card_number",
    "proof",
    "verification",
    "verified_by_id",
    "verified_at",
    "rejection_reason",
    "notes",
    "created_at",
)


def _ascii(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def _demo_logins_create(*, password: str, staff: _Person, catalogue: _Catalogue) -> dict:
    hr = _login(HR_USERNAME, password, first_name="Hilda", last_name="Hart", is_staff=True, is_superuser=True)
    manager = _login(MANAGER_USERNAME, password, first_name="Morgan", last_name="Reyes")
    managed = [catalogue.departments[code] for code in MANAGED_DEPARTMENTS]
    manager.managed_departments.set(managed)
    staff_user = _login(STAFF_USERNAME, password, first_name=staff.first_name, last_name=staff.last_name)
    return {"hr": hr, "manager": manager, "staff": staff_user, "managed": managed}


def _login(username: str, password: str, **fields):
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first() or user_model(username=username)
    for name, value in {"is_staff": False, "is_superuser": False, "is_active": True, **fields}.items():
        setattr(user, name, value)
    user.email = f"{username}@{EMAIL_DOMAIN}"
    user.set_password(password)
    user.save()
    return user


def _proof_file_ensure() -> None:
    """One scanned-card image that every demo upload points at, so proof views have a real file to show."""
    if default_storage.exists(DEMO_PROOF_NAME):
        return
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 400), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 8, 631, 391), outline="firebrick", width=6)
    draw.text((40, 60), "DEMO CARD", fill="firebrick", font_size=56)
    draw.text((40, 160), "Sample proof of certification for credtrack demo data.", fill="black", font_size=20)
    draw.text((40, 200), "Not a real certificate.", fill="black", font_size=20)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    default_storage.save(DEMO_PROOF_NAME, ContentFile(buffer.getvalue()))
