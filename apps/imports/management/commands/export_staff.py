from apps.imports import exporting
from apps.imports.management.base import ExportCommand
from apps.organisation.models import Employee


class Command(ExportCommand):
    help = "Write every employee to a CSV or XLSX file that import_staff reads back unchanged."
    noun = "employees"

    def header_and_rows(self):
        return exporting.STAFF_HEADER, exporting.staff_rows(Employee.objects.order_by("employee_number"))
