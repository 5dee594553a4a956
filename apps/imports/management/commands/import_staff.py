from apps.imports.management.base import ImportCommand
from apps.imports.staff import staff_import
from apps.organisation.models import Employee


class Command(ImportCommand):
    help = (
        "Create and update employees from a CSV or XLSX file (columns as export_staff writes them). Every row "
        "is checked first; any error imports nothing. Employees match on their employee number."
    )
    model = Employee

    def run_import(self, **kwargs):
        return staff_import(**kwargs)
