import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.compliance import history, periods, timeline_store
from apps.compliance.engine import ATTENTION_STATUSES, COMPLIANT_STATUSES, Status
from apps.compliance.tasks import queue_full_scan
from apps.core import clock
from apps.demo import workforce

# Below this, a progress bar is noise.
PROGRESS_FROM = 10_000
# A year of weekly snapshots, so the dashboard's trend shows a line from the first start.
TREND_WEEKS = 52


class Command(BaseCommand):
    help = (
        "Seed a realistic, reproducible demo workforce (hospital, EMS, clinic and community staff) with their "
        "life-support cards, the catalogue if it is absent, and three demo logins. Demo data only: never run "
        "it against production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--employees", type=int, required=True, help="How many employees to create.")
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same day: the same data (default 1).")
        parser.add_argument(
            "--password",
            default=workforce.DEFAULT_PASSWORD,
            help=f"Password of the demo logins (default {workforce.DEFAULT_PASSWORD!r}).",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete ALL employees, their credentials, results and history, and the demo logins first.",
        )
        parser.add_argument(
            "--skip-scan",
            action="store_true",
            help="Do not queue the compliance scan afterwards (the nightly scan will compute the statuses).",
        )

    def handle(self, *args, **options):
        count = options["employees"]
        started = time.perf_counter()
        with tqdm(
            total=count, unit="employees", file=sys.stderr, disable=count < PROGRESS_FROM or options["verbosity"] < 1
        ) as bar:
            try:
                report = workforce.demo_workforce_create(
                    employees=count,
                    seed=options["seed"],
                    password=options["password"],
                    replace=options["replace"],
                    progress=bar.update,
                )
            except workforce.DemoDataError as error:
                raise CommandError(str(error)) from error
        elapsed = time.perf_counter() - started
        self._summary(report, options, elapsed)
        started = time.perf_counter()
        timeline_store.rebuild_all()
        self._figures(periods.figures_on(clock.today()))
        weeks = history.snapshots_backfill(days=history.weekly_days(until=clock.today(), weeks=TREND_WEEKS))
        self.stdout.write(
            f"Trend history: {weeks} weekly snapshots from the status periods in {time.perf_counter() - started:.1f} s."
        )
        if options["skip_scan"]:
            return
        started = time.perf_counter()
        queue_full_scan()
        if settings.CELERY_TASK_ALWAYS_EAGER:
            self.stdout.write(f"Compliance scan ran in-process in {time.perf_counter() - started:.1f} s.")
        else:
            self.stdout.write("Compliance scan queued: the workers compute everyone's status now.")

    def _summary(self, report: workforce.DemoReport, options, elapsed: float) -> None:
        write = self.stdout.write
        if report.deleted_employees:
            write(f"Deleted {report.deleted_employees:,} existing employees and their credentials (--replace).")
        if report.catalogue_loaded:
            write(
                f"Catalogue was empty: loaded {workforce.CATALOGUE_FIXTURE.name}, in force for "
                f"{workforce.CATALOGUE_IN_FORCE_YEARS} years, with one requirement added mid-year: "
                f"{report.catalogue_change}."
            )
        write(
            self.style.SUCCESS(
                f"Seeded {report.employees:,} employees and {report.credentials:,} credentials "
                f"(seed {options['seed']}) in {elapsed:.1f} s."
            )
        )
        write("\nEmployees by seeded scenario (what was set up; the statuses computed from the cards follow below):")
        for key, label in workforce.SITUATIONS.items():
            number = report.situations[key]
            if number:
                write(f"  {label:<50} {number:>9,}  {number / report.employees:6.1%}")
        write(
            f"\n  Bundled courses (an advanced card issued the same day as its BLS): {report.bundled:,} employees"
            f"\n  Transferred earlier in their employment: {report.earlier_transfers:,}"
            f"\n  Without an email address: {report.without_email:,}"
        )
        for label, people, cards in (
            ("hospital, EMS and clinic", report.clinical_employees, report.clinical_credentials),
            ("school, fitness, security and childcare", report.community_employees, report.community_credentials),
        ):
            if people:
                write(f"  Credentials per person, {label} staff: {cards / people:.1f}")
        write(
            self.style.WARNING(
                f"\nDemo logins, password {options['password']!r} (for demo use only, never in production):"
            )
        )
        write(f"  {workforce.HR_USERNAME:<14} HR admin (superuser)")
        write(f"  {workforce.MANAGER_USERNAME:<14} manager of {' and '.join(report.managed_departments)}")
        write(f"  {workforce.STAFF_USERNAME:<14} staff member {report.staff_employee}")
        write(
            f"  and {report.logins:,} staff logins made with the roster (username = employee number, no password: "
            "they sign in by the link in their emails or ask for one on the login page)"
        )

    def _figures(self, figures: periods.Figures) -> None:
        """Today's figures as the dashboard and the API read them (the status periods), each saying what it counts."""
        write = self.stdout.write
        people = figures.people_by_status
        total = sum(people.values())
        compliant = sum(people[s.value] for s in COMPLIANT_STATUSES)
        write(f"\nToday's figures, as the dashboard and the API count them ({figures.day}):")
        write(f"  {'People employed today':<58} {total:>9,}")
        write(f"  {'People compliant':<58} {compliant:>9,}  {compliant / total if total else 0:6.1%}")
        write(f"  {'People not compliant':<58} {total - compliant:>9,}")
        write("  People by overall status (each person once, at their worst mandatory requirement):")
        for status in Status:
            write(f"    {status.label:<56} {people[status.value]:>9,}")
        rows = figures.rows_by_status
        write(f"  {'Requirements needing attention now (rows)':<58} {figures.attention_rows:>9,}")
        for status in ATTENTION_STATUSES:
            write(f"    {status.label:<56} {rows[status.value]:>9,}")
        for days, number in figures.people_renewing.items():
            write(f"  {f'People with a card to renew within {days} days':<58} {number:>9,}")
        last = max(figures.people_renewing)
        write(f"  {f'Cards to renew within {last} days (one per card)':<58} {figures.cards_to_renew(last):>9,}")
        write(
            "  A lapsed BLS under a current ACLS, where BLS is one of their requirements: one person, expired (their\n"
            "  worst row); two rows, expired (the BLS) and prerequisite lapsed (the ACLS)."
        )
