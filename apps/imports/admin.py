"""Import and export in the admin, through django-import-export's views: upload, preview, confirm.

The checking and the writing are the importer's (importer.py, staff.py, credentials.py), the same code the
management commands run: the Resource classes here hand the uploaded bytes to it and turn its report into
django-import-export's Result, so the library's preview shows new and changed rows, and the rows that are wrong and why.

EmployeeAdmin and CredentialAdmin include StaffImportExportMixin and CredentialImportExportMixin. The
compliance admin's RequirementStatus page is re-registered below with an export of its findings.
"""

from collections.abc import Iterable, Sequence
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from import_export import fields, resources
from import_export.admin import ExportMixin, ImportExportMixin
from import_export.formats.base_formats import Format
from import_export.forms import ConfirmImportForm, ExportForm, ImportForm
from import_export.results import Result, RowResult
from import_export.signals import post_export

from apps.compliance import selectors as compliance_selectors
from apps.compliance.admin import RequirementStatusAdmin, RunFilter
from apps.compliance.models import RequirementStatus
from apps.organisation.scoping import is_hr_admin

from . import exporting, jobs, tasks
from .credentials import credentials_import
from .importer import can_import
from .layouts import BLANK_CELLS_RULE, CREDENTIAL_COLUMNS, FINDING_COLUMNS, STAFF_COLUMNS
from .models import ImportJob
from .parsing import ENCODING_LABELS, ISO_DATE, Column, FileError, ImportFile
from .report import NEW, ImportOptions, ImportReport, RowChange
from .staff import staff_import
from .uploads import PrivateUploadStorage

DATE_FORMAT_CHOICES = [
    (ISO_DATE, "YYYY-MM-DD (ISO, as credtrack exports)"),
    ("%m/%d/%Y", "MM/DD/YYYY (United States)"),
    ("%d/%m/%Y", "DD/MM/YYYY"),
    ("%d.%m.%Y", "DD.MM.YYYY"),
]


class Upload:
    """What django-import-export calls the dataset: the uploaded bytes, decoded later with HR's encoding."""

    def __init__(self, data: bytes, kind: str):
        self.data = data
        self.kind = kind

    def __bool__(self):
        return bool(self.data)


class _FileFormat(Format):
    kind = ""
    content_type = ""

    def __init__(self, encoding=None):
        # django-import-export offers its own encoding here; the bytes are decoded later with HR's choice.
        super().__init__()

    def get_title(self):
        return self.kind

    def create_dataset(self, in_stream):
        return Upload(in_stream, self.kind)

    def get_extension(self):
        return self.kind

    def get_content_type(self):
        return self.content_type

    def can_import(self):
        return True

    def can_export(self):
        return True


class CSVFile(_FileFormat):
    kind = "csv"
    content_type = "text/csv"


class XLSXFile(_FileFormat):
    kind = "xlsx"
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportFileForm(ImportForm):
    encoding = forms.ChoiceField(
        choices=list(ENCODING_LABELS.items()),
        initial="utf-8",
        help_text="How the CSV file was saved. Ignored for XLSX, which is always Unicode.",
    )
    date_format = forms.ChoiceField(
        choices=DATE_FORMAT_CHOICES,
        initial=ISO_DATE,
        help_text="How dates typed as text are written. Cells a spreadsheet stores as dates are read as dates.",
    )
    backfill = forms.BooleanField(
        required=False,
        label="Backfill of old records",
        help_text="Tick for a first load or a merger: lapses that began before today reach each manager as one "
        "summary instead of one escalation each.",
    )
    field_order = ["resource", "import_file", "format", "encoding", "date_format", "backfill"]


class ConfirmImportFileForm(ConfirmImportForm):
    encoding = forms.ChoiceField(choices=list(ENCODING_LABELS.items()), widget=forms.HiddenInput)
    date_format = forms.ChoiceField(choices=DATE_FORMAT_CHOICES, widget=forms.HiddenInput)
    backfill = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # The preview's row count, for the job's progress bar only (the import counts for itself).
    rows = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class ImportResult(Result):
    """django-import-export's Result, carrying the service's report for the summary and messages."""

    def __init__(self, report: ImportReport, headers: list[str]):
        super().__init__()
        self.report = report
        self.diff_headers = headers
        self.total_rows = report.rows
        self.totals[RowResult.IMPORT_TYPE_NEW] = report.new
        self.totals[RowResult.IMPORT_TYPE_UPDATE] = report.changed
        self.totals[RowResult.IMPORT_TYPE_SKIP] = report.unchanged
        self.totals[RowResult.IMPORT_TYPE_INVALID] = report.error_count
        for change in report.changes:
            row = RowResult()
            row.import_type = RowResult.IMPORT_TYPE_NEW if change.action == NEW else RowResult.IMPORT_TYPE_UPDATE
            row.diff = [self._cell(change, name) for name in headers]
            self.append_row_result(row)
        problems: dict[int | None, dict[str, list[str]]] = {}
        for error in report.errors:
            problems.setdefault(error.row, {}).setdefault(error.column or NON_FIELD_ERRORS, []).append(error.message)
        for number, by_column in problems.items():
            self.append_invalid_row(
                number if number is not None else "file",
                report.error_cells.get(number, {}) if number is not None else {},
                ValidationError(by_column),
            )

    @staticmethod
    def _cell(change: RowChange, name: str):
        if name in change.before:
            return format_html(
                "<del>{}</del> &rarr; <ins>{}</ins>", change.before[name] or "(blank)", change.cells[name]
            )
        return change.cells[name]


class _FileResource(resources.Resource):
    """Hands the upload to the import service instead of django-import-export's row-by-row machinery,
    which would query per row, load the whole file, and skip the history of bulk writes."""

    kind = ""
    columns: tuple[Column, ...] = ()

    def run_import(self, **kwargs) -> ImportReport:
        raise NotImplementedError

    @classmethod
    def get_display_name(cls):
        return cls.kind

    def get_user_visible_fields(self):
        return [fields.Field(attribute=column.name, column_name=column.name) for column in self.columns]

    def import_data(self, dataset, dry_run=False, raise_errors=False, **kwargs):
        name = kwargs.get("file_name") or f"upload.{dataset.kind}"
        try:
            file = ImportFile.from_bytes(dataset.data, name=name, kind=dataset.kind)
        except FileError as error:
            report = ImportReport(kind=self.kind, file_name=name, dry_run=dry_run)
            for row, column, message in error.problems:
                report.add_error(row, column, message)
        else:
            report = self.run_import(
                file=file,
                user=kwargs.get("user"),
                dry_run=dry_run,
                options=kwargs.get("options"),
            )
        return ImportResult(report, [column.name for column in self.columns])


class StaffResource(_FileResource):
    kind = "staff"
    columns = STAFF_COLUMNS

    def run_import(self, **kwargs):
        return staff_import(**kwargs)


class CredentialResource(_FileResource):
    kind = "credentials"
    columns = CREDENTIAL_COLUMNS

    def run_import(self, **kwargs):
        return credentials_import(**kwargs)


class _HRExportMixin:
    formats = [CSVFile, XLSXFile]
    export_form_class = ExportForm  # the layout is fixed: a file with columns left out would not import back

    def has_export_permission(self, request):
        return is_hr_admin(request.user)

    def export_header_and_rows(self, queryset) -> tuple[list[str], Iterable[Sequence]]:
        raise NotImplementedError

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        """The file streamed as it is written (django-import-export would build it in memory first): a
        whole health system's cards are hundreds of thousands of rows."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        header, rows = self.export_header_and_rows(queryset)
        response = StreamingHttpResponse(
            exporting.stream_table(file_format.kind, header, rows), content_type=file_format.get_content_type()
        )
        name = self.get_export_filename(request, queryset, file_format)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        post_export.send(sender=None, model=self.model)
        return response


class _ImportExportMixin(_HRExportMixin, ImportExportMixin):
    import_form_class = ImportFileForm
    confirm_form_class = ConfirmImportFileForm
    import_template_name = "imports/import.html"
    tmp_storage_class = PrivateUploadStorage

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        form = context.get("form")
        if "confirm_form" in context and context.get("result") is not None:
            context["confirm_form"].initial["rows"] = context["result"].report.rows
        if request.method == "POST" and "confirm_form" not in context and form is not None and form.is_bound:
            # No confirmation offered (errors, an unreadable sheet): nothing will ever read the stored copy.
            stored = (
                getattr(form.cleaned_data.get("import_file"), "tmp_storage_name", None) if form.is_valid() else None
            )
            if stored:
                PrivateUploadStorage(name=stored).remove()
        return response

    def process_import(self, request, **kwargs):
        """The confirmation: the previewed file goes to a background job (jobs.py), and HR to its progress page."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = self.create_confirm_form(request)
        name = request.POST.get("import_file_name")
        if not form.is_valid() or not name or not Path(PrivateUploadStorage(name=name).get_full_path()).is_file():
            messages.error(request, "This preview is no longer available: upload the file again.")
            return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_import")
        data = form.cleaned_data
        job = tasks.import_job_queue(
            kind=self.get_import_resource_classes(request)[0].kind,
            file_name=data["original_file_name"],
            file_format=self.get_import_formats()[int(data["format"])].kind,
            preview_name=data["import_file_name"],
            options=ImportOptions(
                encoding=data["encoding"], date_format=data["date_format"], backfill=data["backfill"]
            ),
            user=request.user,
            rows_total=data.get("rows"),
        )
        messages.info(
            request, f"{job.file_name} is being imported: you will get a message and an email when it is done."
        )
        return redirect(jobs.job_url(job))

    # The history records every imported change with its user; a LogEntry per row would repeat it.
    skip_admin_log = True

    def has_import_permission(self, request):
        return can_import(request.user, self.model)

    def get_import_context_data(self, **kwargs):
        columns = self.get_import_resource_classes(None)[0].columns
        return {**super().get_import_context_data(**kwargs), "columns": columns, "blank_cells_rule": BLANK_CELLS_RULE}

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial.update(
                encoding=import_form.cleaned_data["encoding"],
                date_format=import_form.cleaned_data["date_format"],
                backfill=import_form.cleaned_data["backfill"],
            )
        return initial

    def get_import_data_kwargs(self, **kwargs):
        form = kwargs.pop("form", None)
        if form is not None and form.is_valid():
            kwargs["options"] = ImportOptions(
                encoding=form.cleaned_data["encoding"],
                date_format=form.cleaned_data["date_format"],
                backfill=form.cleaned_data["backfill"],
            )
        return kwargs


class StaffImportExportMixin(_ImportExportMixin):
    """For EmployeeAdmin: import and export of the staff file."""

    resource_classes = [StaffResource]

    def export_header_and_rows(self, queryset):
        return exporting.STAFF_HEADER, exporting.staff_rows(queryset)


class CredentialImportExportMixin(_ImportExportMixin):
    """For CredentialAdmin: import and export of the credentials file."""

    resource_classes = [CredentialResource]

    def export_header_and_rows(self, queryset):
        return exporting.CREDENTIAL_HEADER, exporting.credential_rows(queryset)


class FindingResource(resources.Resource):
    @classmethod
    def get_display_name(cls):
        return "compliance findings"

    def get_user_visible_fields(self):
        return [fields.Field(attribute=name, column_name=name) for name in FINDING_COLUMNS]


admin.site.unregister(RequirementStatus)


@admin.register(RequirementStatus)
class RequirementStatusExportAdmin(_HRExportMixin, ExportMixin, RequirementStatusAdmin):
    """The compliance admin's read-only results, with an export of what its filters show (HR only)."""

    resource_classes = [FindingResource]

    def get_export_queryset(self, request):
        queryset = super().get_export_queryset(request)
        if RunFilter.parameter_name in request.GET:
            return queryset
        # Unless HR picked a run, the answers of now: the current run, not a scan still being written.
        current = compliance_selectors.current_run()
        return queryset.filter(run=current) if current else queryset.none()

    def export_header_and_rows(self, queryset):
        return exporting.FINDING_HEADER, exporting.finding_rows(queryset)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Background imports: their progress while they run, their result after. HR sees every one; nobody else any."""

    list_display = ["created_at", "kind", "file_name", "created_by", "status", "rows_done", "rows_total"]
    list_filter = ["status", "kind"]
    list_select_related = ["created_by"]
    change_form_template = "admin/imports/importjob/progress.html"
    REFRESH_SECONDS = 3

    def has_module_permission(self, request):
        return is_hr_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return is_hr_admin(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """A page of its own rather than a read-only form: it reloads itself (a meta refresh, no script) until the
        job is done, then shows the result."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = get_object_or_404(ImportJob.objects.select_related("created_by"), pk=object_id)
        if job.finished and job.created_by_id == request.user.pk and not job.announced:
            ImportJob.objects.filter(pk=job.pk).update(announced=True)  # seen here: no message on the next page
        percent = min(100, job.rows_done * 100 // job.rows_total) if job.rows_total else None
        context = {
            **self.admin_site.each_context(request),
            "title": str(job),
            "opts": self.opts,
            "job": job,
            "percent": percent,
            "refresh": None if job.finished else self.REFRESH_SECONDS,
            "target": reverse(
                "admin:organisation_employee_changelist"
                if job.kind == "staff"
                else "admin:certifications_credential_changelist"
            ),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.change_form_template, context)
