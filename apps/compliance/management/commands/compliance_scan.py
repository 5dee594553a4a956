import datetime
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from tqdm import tqdm

from apps.compliance import selectors, services
from apps.compliance.engine import Status
from apps.core import clock
from apps.organisation.models import Department, Employee
from apps.organisation.selectors import in_departments_on


class Command(BaseCommand):
    help = (
        "Run the compliance scan in the foreground. As of today it stores the results (the same scan "
        "as the nightly job); as of a past day it prints the point-in-time answer without storing it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=datetime.date.fromisoformat, help="YYYY-MM-DD (default: today)")
        parser.add_argument("--department", help="Department code: only its employees")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *, as_of, department, no_progress, **options):
        today = clock.today()
        day = as_of or today
        employees = Employee.objects.all()
        department_ids = None
        if department:
            try:
                department_ids = [Department.objects.get(code=department).id]
            except Department.DoesNotExist:
                raise CommandError(f"Unknown department code {department!r}") from None
            employees = employees.filter(in_departments_on(department_ids))

        if day == today and not department:
            with tqdm(total=None, desc="chunks", unit="chunk", disable=no_progress) as bar:

                def progress(done, total):
                    bar.total = total
                    bar.update(1)

                try:
                    run = services.scan_run(as_of=day, progress=progress)
                except services.ScanAlreadyRunning as error:
                    raise CommandError(str(error)) from None
            self.stdout.write(f"Stored run {run.id}: {run.employee_count} employees, {run.result_count} results.")
        elif day == today:
            written = services.recompute_employees(employee_ids=employees.values_list("id", flat=True))
            self.stdout.write(f"Refreshed {written} stored results for {department}.")

        if day == today and not department:
            rows = run.employee_statuses.values_list("status").annotate(n=Count("id")).order_by()
            counts = Counter({Status(status): n for status, n in rows})
        else:
            results = selectors.evaluate(employees, day, department_ids)
            counts = Counter(result.status for _, result in tqdm(results, unit="employee", disable=no_progress))
        total = sum(counts.values())
        self.stdout.write(f"Compliance as of {day}{f' in {department}' if department else ''}: {total} employees")
        for status in Status:
            self.stdout.write(f"  {status.label:<22} {counts[status]:>8}")
