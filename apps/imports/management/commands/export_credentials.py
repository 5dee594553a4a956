from apps.certifications.models import Credential
from apps.imports import exporting
from apps.imports.management.base import ExportCommand


class Command(ExportCommand):
    help = "Write every credential to a CSV or XLSX file that import_credentials reads back unchanged."
    noun = "credentials"

    def header_and_rows(self):
        credentials = Credential.objects.order_by("employee__employee_number", "certification_type__code", "issued_on")
        return exporting.CREDENTIAL_HEADER, exporting.credential_rows(credentials)
