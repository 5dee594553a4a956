import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from PIL import Image, UnidentifiedImageError

from apps.certifications.models import CertificationType
from apps.certifications.validators import PROOF_MAX_BYTES, validate_proof_file
from apps.compliance.engine import ATTENTION_STATUSES, COMPLIANT_STATUSES, Status
from apps.compliance.periods import RENEWAL_HORIZONS
from apps.compliance.read import Filters
from apps.compliance.read.overview import Catalogue
from apps.core import clock, plausible


def _offer(field: forms.Field, choices: list) -> None:
    """Set the choices a form offers from today's catalogue (a form's fields are typed as plain Field)."""
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class FilterForm(forms.Form):
    """Department, role, status and certification filters. Only the user's own departments are offered,
    so a department outside their scope is an invalid choice, never a way in."""

    department = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    role = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    status = forms.ChoiceField(required=False)
    certification = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)

    status_choices = [(status.value, status.label) for status in Status]

    def __init__(self, data, *, catalogue: Catalogue, **kwargs):
        super().__init__(data, **kwargs)
        _offer(self.fields["department"], [("", "All departments")] + [(d.pk, d.name) for d in catalogue.departments])
        _offer(self.fields["role"], [("", "All roles")] + [(r.pk, r.name) for r in catalogue.roles])
        _offer(self.fields["status"], [("", "Any status"), *self.status_choices])
        _offer(
            self.fields["certification"],
            [("", "All certifications")] + [(t.pk, f"{t.code}: {t.name}") for t in catalogue.types],
        )

    def filters(self) -> Filters:
        """The valid filters; an invalid one is reported on the form and left out, never guessed."""
        self.is_valid()
        data = self.cleaned_data
        return Filters(
            department_id=data.get("department"),
            role_id=data.get("role"),
            status=Status(data["status"]) if data.get("status") else None,
            certification_id=data.get("certification"),
        )


class DashboardForm(FilterForm):
    as_of = forms.DateField(
        required=False,
        label="As of",
        widget=DateInput(),
        help_text="Leave empty for today. A past day shows things as they stood then.",
    )

    def clean_as_of(self):
        day = self.cleaned_data["as_of"]
        if day and day > clock.today():
            raise ValidationError("Pick today or a past day; the forecast shows what lies ahead.")
        if day and day < plausible.EARLIEST:
            raise ValidationError(f"Pick a day from {plausible.EARLIEST.isoformat()} on.")
        return day


class EmployeeListForm(FilterForm):
    q = forms.CharField(required=False, max_length=100, label="Name or number")
    # HR only (the view drops it for managers): staff who left are on no list unless asked for.
    left = forms.BooleanField(required=False, label="Staff who have left")

    def __init__(self, data, *, catalogue: Catalogue, hr: bool = False, **kwargs):
        super().__init__(data, catalogue=catalogue, **kwargs)
        if not hr:
            del self.fields["left"]


class MatrixForm(FilterForm):
    """The matrix is departments by certifications already: of the filters, role and status remain."""

    def __init__(self, data, *, catalogue: Catalogue, **kwargs):
        super().__init__(data, catalogue=catalogue, **kwargs)
        del self.fields["department"], self.fields["certification"]


class MatrixCellForm(FilterForm):
    """One cell: a department and a certification, both required (and the matrix's role and status filters)."""

    def __init__(self, data, *, catalogue: Catalogue, **kwargs):
        super().__init__(data, catalogue=catalogue, **kwargs)
        self.fields["department"].required = self.fields["certification"].required = True


class AttentionForm(FilterForm):
    status_choices = [(status.value, status.label) for status in ATTENTION_STATUSES]


class RenewalForm(FilterForm):
    status_choices = [(status.value, status.label) for status in Status if status in COMPLIANT_STATUSES]
    within = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=RENEWAL_HORIZONS[-1],  # type: ignore[arg-type]  # coerced to int like the choices
        choices=[(days, f"Next {days} days") for days in RENEWAL_HORIZONS],
        label="Expiring within",
    )


class ForecastForm(FilterForm):
    status_choices = [
        (status.value, status.label)
        for status in (Status.EXPIRED, Status.MISSING, Status.PREREQUISITE_LAPSED, Status.PENDING_VERIFICATION)
    ]
    days = forms.IntegerField(
        required=False, min_value=1, max_value=365, label="Days ahead", help_text="From 1 to 365."
    )

    def clean_days(self):
        return self.cleaned_data["days"] or 90


class AuditForm(forms.Form):
    department = forms.TypedChoiceField(coerce=int)
    as_of = forms.DateField(label="As of", widget=DateInput())
    window_start = forms.DateField(
        label="Survey window from",
        widget=DateInput(),
        required=False,
        help_text="Optional: also list who had any gap in a requirement from this day to the 'as of' day, "
        "and for how many days.",
    )

    def __init__(self, data, *, catalogue: Catalogue, **kwargs):
        super().__init__(data, **kwargs)
        _offer(
            self.fields["department"], [("", "Choose a department")] + [(d.pk, d.name) for d in catalogue.departments]
        )

    def clean_as_of(self):
        day = self.cleaned_data["as_of"]
        if day > clock.today():
            raise ValidationError("An audit report looks back: pick today or a past day.")
        if day < plausible.EARLIEST:
            raise ValidationError(f"Pick a day from {plausible.EARLIEST.isoformat()} on.")
        return day

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("window_start"), cleaned.get("as_of")
        if start and end and start > end:
            self.add_error("window_start", "The survey window starts on or before the 'as of' day.")
        elif start and start < plausible.EARLIEST:
            self.add_error("window_start", f"Pick a day from {plausible.EARLIEST.isoformat()} on.")
        return cleaned


class PersonFileForm(forms.Form):
    as_of = forms.DateField(
        label="As of", widget=DateInput(), help_text="The day the surveyor asks about. Today, or any past day."
    )

    def clean_as_of(self):
        day = self.cleaned_data["as_of"]
        if day > clock.today():
            raise ValidationError("A training file looks back: pick today or a past day.")
        return day


class ProofUploadForm(forms.Form):
    certification_type = forms.ModelChoiceField(
        queryset=CertificationType.objects.all(),
        label="Certification",
        empty_label="Choose the certification on the card",
    )
    issued_on = forms.DateField(label="Issue date", widget=DateInput(), help_text="As printed on the card.")
    expires_on = forms.DateField(
        label="Expiry date",
        required=False,
        widget=DateInput(),
        help_text="As printed on the card (often “recommended renewal”). "
        "Leave empty if the card shows none: it is worked out from the certification's validity.",
    )
    card_number = forms.CharField(label="Card number", max_length=100, required=False)
    issuer = forms.CharField(
        label="Issued by", max_length=200, required=False, help_text="e.g. American Heart Association, Red Cross."
    )
    proof = forms.FileField(
        label="Photo or scan of the card",
        validators=[validate_proof_file],
        help_text=f"A PDF, JPEG or PNG of at most {filesizeformat(PROOF_MAX_BYTES)}. A sharp photo will do.",
        widget=forms.FileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )

    def clean_issued_on(self):
        issued_on = self.cleaned_data["issued_on"]
        if issued_on > clock.today():
            raise ValidationError("The issue date is in the future: check the date on the card.")
        if issued_on < clock.today() - datetime.timedelta(days=366 * 20):
            raise ValidationError("The issue date is more than twenty years ago: check the date on the card.")
        return issued_on

    def clean_proof(self):
        proof = self.cleaned_data["proof"]
        proof.seek(0)
        head = proof.read(8)
        proof.seek(0)
        if head.startswith(b"%PDF-"):
            extension = "pdf"
        else:
            extension = self._verified_image(proof)
        # Stored under a random name with the extension its content earned, whatever the upload was called.
        proof.name = f"card.{extension}"
        return proof

    @staticmethod
    def _verified_image(proof) -> str:
        try:
            with Image.open(proof) as image:
                image.verify()
                kind = image.format
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
            raise ValidationError(
                "This picture is damaged or incomplete; take the photo again and upload that.", code="invalid_image"
            ) from error
        finally:
            proof.seek(0)
        if kind not in {"JPEG", "PNG"}:
            raise ValidationError("Upload the card as a PDF, JPEG or PNG file.", code="invalid_file_type")
        return "jpg" if kind == "JPEG" else "png"

    def clean(self):
        data = super().clean()
        issued_on, expires_on = data.get("issued_on"), data.get("expires_on")
        if issued_on and expires_on and expires_on < issued_on:
            self.add_error("expires_on", "The expiry date is before the issue date: check the dates on the card.")
        return data


class RejectionForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The employee sees this. Say what is wrong and what to upload instead.",
    )
