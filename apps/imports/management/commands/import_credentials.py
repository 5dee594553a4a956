from apps.certifications.models import Credential
from apps.imports.credentials import credentials_import
from apps.imports.management.base import ImportCommand


class Command(ImportCommand):
    help = (
        "Create and update credentials from a CSV or XLSX file (columns as export_credentials writes them). "
        "Every row is checked first; any error imports nothing. Cards match on employee, certification and "
        "issue date, or card number when given; imported cards count as verified by --user."
    )
    model = Credential

    def run_import(self, **kwargs):
        return credentials_import(**kwargs)
