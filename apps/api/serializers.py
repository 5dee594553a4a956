"""Shapes of the API's input and output. No business rules here: model validation (full_clean) and the
services decide; these only translate codes to rows and rows to JSON."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from apps.certifications.models import CertificationType, Credential, Prerequisite, Requirement
from apps.certifications.validators import validate_proof_file
from apps.compliance.engine import Status
from apps.core import clock, plausible
from apps.notifications.models import Notification
from apps.organisation.models import Department, Employee, Role

User = get_user_model()
STATUS_CHOICES = [(status.value, status.label) for status in Status]
SOURCE_CHOICES = [
    ("stored", "Stored results of the current compliance run"),
    ("computed", "Computed for as_of from the records and their history"),
    ("periods", "Read for as_of from the stored status periods (computed by the same rules)"),
]


class CodeRelatedField(serializers.SlugRelatedField):
    """SlugRelatedField that refuses NUL characters itself: PostgreSQL cannot even compare them, so the
    lookup would fail with a server error instead of saying the code is wrong."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", "\\x00"))
        return super().to_internal_value(data)


def code_field(model, *, noun: str, slug_field: str = "code", **kwargs) -> CodeRelatedField:
    """A reference by stable code ("ED", "BLS"), with an error message that names what was not found."""
    return CodeRelatedField(
        slug_field=slug_field,
        queryset=model.objects.all(),
        error_messages={"does_not_exist": f"No {noun} with {slug_field} {{value}}."},
        **kwargs,
    )


class FullCleanModelSerializer(serializers.ModelSerializer):
    """Saves through the model's own validation (full_clean: fields, clean(), constraints), never around it."""

    def create(self, validated_data):
        return self._save(self.Meta.model(), validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)

    def _save(self, instance, validated_data):
        many = {name: validated_data.pop(name) for name in list(validated_data) if self._is_many(name)}
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.full_clean()
        with transaction.atomic():
            instance.save()
            for name, value in many.items():
                getattr(instance, name).set(value)
        return instance

    def _is_many(self, name: str) -> bool:
        return isinstance(self.fields[name], serializers.ManyRelatedField)


class DepartmentSerializer(FullCleanModelSerializer):
    managers = code_field(
        User,
        noun="user",
        slug_field="username",
        many=True,
        required=False,
        help_text="Usernames of the people who manage it (they see its staff and compliance).",
    )

    class Meta:
        model = Department
        fields = ["id", "code", "name", "managers"]


class RoleSerializer(FullCleanModelSerializer):
    class Meta:
        model = Role
        fields = ["id", "code", "name"]


class EmployeeSerializer(FullCleanModelSerializer):
    role = code_field(Role, noun="role", help_text="Role code, e.g. registered-nurse.")
    department = code_field(Department, noun="department", help_text="Department code, e.g. ED.")
    user = code_field(
        User,
        noun="user",
        slug_field="username",
        required=False,
        allow_null=True,
        help_text="Username of their self-service login, if any.",
    )
    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = Employee
        fields = [
            "id",
            "employee_number",
            "first_name",
            "last_name",
            "full_name",
            "email",
            "user",
            "role",
            "department",
            "hired_on",
            "assigned_on",
            "terminated_on",
        ]


class CertificationTypeSerializer(FullCleanModelSerializer):
    class Meta:
        model = CertificationType
        fields = [
            "id",
            "code",
            "name",
            "level",
            "expires",
            "validity_months",
            "expires_at_month_end",
            "renewal_window_days",
            "renewal_guidance",
            "renewal_url",
        ]


class PrerequisiteSerializer(FullCleanModelSerializer):
    certification_type = code_field(CertificationType, noun="certification type", help_text="e.g. ACLS.")
    any_of = code_field(
        CertificationType,
        noun="certification type",
        many=True,
        allow_empty=False,
        help_text="Codes of which one must be held, e.g. [BLS, CPR].",
    )

    class Meta:
        model = Prerequisite
        fields = ["id", "certification_type", "any_of", "must_stay_current"]


class RequirementSerializer(FullCleanModelSerializer):
    role = code_field(Role, noun="role")
    department = code_field(
        Department, noun="department", required=False, allow_null=True, help_text="Null: in every department."
    )
    any_of = code_field(
        CertificationType,
        noun="certification type",
        many=True,
        allow_empty=False,
        help_text="Codes of which holding one satisfies it, e.g. [BLS, CPR].",
    )

    class Meta:
        model = Requirement
        fields = ["id", "role", "department", "any_of", "mandatory", "due_within_days"]


class CredentialSerializer(serializers.ModelSerializer):
    employee: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True)
    certification_type: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="code", read_only=True)
    verified_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    has_proof = serializers.SerializerMethodField()
    proof_url = serializers.SerializerMethodField(
        help_text="Where HR and the employee themselves can view the proof (a web page); null without proof."
    )

    class Meta:
        model = Credential
        fields = [
            "id",
            "employee",
            "certification_type",
            "issued_on",
            "expires_on",
            "issuer",
            "card_number",
            "verification",
            "verified_by",
            "verified_at",
            "rejection_reason",
            "notes",
            "has_proof",
            "proof_url",
            "created_at",
        ]
        read_only_fields = fields

    def get_has_proof(self, credential) -> bool:
        return bool(credential.proof)

    def get_proof_url(self, credential) -> str | None:
        if not credential.proof:
            return None
        path = reverse("credential_proof", args=[credential.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class CredentialCreateSerializer(serializers.Serializer):
    employee = serializers.PrimaryKeyRelatedField(
        queryset=Employee.objects.none(),
        help_text="Employee id. Staff may only record their own cards.",
        error_messages={"does_not_exist": "No employee with id {pk_value}."},
    )
    certification_type = code_field(CertificationType, noun="certification type", help_text="e.g. BLS.")
    issued_on = serializers.DateField()
    expires_on = serializers.DateField(
        required=False, allow_null=True, help_text="As printed on the card; omitted, it follows the validity period."
    )
    issuer = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    card_number = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    proof = serializers.FileField(
        required=False,
        allow_null=True,
        validators=[validate_proof_file],
        help_text="A scan or photo of the card: PDF, JPEG or PNG, at most 10 MB (send as multipart/form-data).",
    )
    verification = serializers.ChoiceField(
        choices=[Credential.Verification.PENDING, Credential.Verification.VERIFIED],
        default=Credential.Verification.VERIFIED,
        help_text="HR recording a card vouches for it (verified, the default) or leaves it pending. "
        "Cards staff upload themselves are always pending.",
    )

    def __init__(self, *args, employees=None, **kwargs):
        super().__init__(*args, **kwargs)
        if employees is not None:
            self.fields["employee"].queryset = employees


class CredentialUpdateSerializer(FullCleanModelSerializer):
    certification_type = code_field(CertificationType, noun="certification type")
    proof = serializers.FileField(
        required=False,
        allow_null=True,
        validators=[validate_proof_file],
        help_text="Replaces the stored proof: PDF, JPEG or PNG, at most 10 MB (multipart/form-data).",
    )

    class Meta:
        model = Credential
        fields = ["certification_type", "issued_on", "expires_on", "issuer", "card_number", "notes", "proof"]


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the proof is refused; the employee sees it.")


class EmployeeRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    employee_number = serializers.CharField()
    full_name = serializers.CharField()
    department = serializers.CharField(source="department.code", help_text="Department code (today's assignment).")
    role = serializers.CharField(source="role.code", help_text="Role code (today's assignment).")


class RequirementResultSerializer(serializers.Serializer):
    requirement = serializers.IntegerField(source="requirement_id", help_text="Requirement id.")
    certifications = serializers.ListField(child=serializers.CharField(), help_text="Codes, any one of which meets it.")
    mandatory = serializers.BooleanField()
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    status_label = serializers.CharField()
    reason = serializers.CharField(help_text="Why, in words, e.g. 'BLS expired on 2025-03-31; lapsed since ...'.")
    credential = serializers.IntegerField(
        source="credential_id", allow_null=True, help_text="The credential that meets it (or last met it)."
    )
    expires_on = serializers.DateField(allow_null=True, help_text="Effective expiry of that credential.")
    due_on = serializers.DateField(allow_null=True, help_text="For a newcomer: by when it must be obtained.")
    since = serializers.DateField(allow_null=True, help_text="First day of the lapse.")


class CredentialFindingSerializer(serializers.Serializer):
    credential = serializers.IntegerField(source="credential_id")
    kind = serializers.CharField()
    message = serializers.CharField()


class LapseSerializer(serializers.Serializer):
    requirement = serializers.IntegerField(source="requirement_id")
    certifications = serializers.ListField(child=serializers.CharField())
    on = serializers.DateField(help_text="First day it is no longer met, if nobody renews.")
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    reason = serializers.CharField()


class ForecastSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="The day the forecast starts from (as_of, or today).")
    until = serializers.DateField()
    horizon_days = serializers.IntegerField()
    lapses = LapseSerializer(many=True)


class EmployeeComplianceSerializer(serializers.Serializer):
    employee = EmployeeRefSerializer()
    as_of = serializers.DateField(help_text="The day the answer is for.")
    # A response key; the stubs know `source` only as Field's own attribute (declared fields are popped off the class).
    source = serializers.ChoiceField(choices=SOURCE_CHOICES)  # type: ignore[assignment]
    run = serializers.IntegerField(allow_null=True, help_text="The compliance run the stored answer comes from.")
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text="When the stored answer was computed; null when computed for this request."
    )
    employed = serializers.BooleanField(help_text="False if not employed on as_of: then nothing is required.")
    status = serializers.ChoiceField(
        choices=STATUS_CHOICES, allow_null=True, help_text="Worst status of their mandatory requirements."
    )
    status_label = serializers.CharField(allow_null=True)
    is_compliant = serializers.BooleanField(
        allow_null=True, help_text="May they work (compliant, expiring, not yet due)?"
    )
    next_expiry = serializers.DateField(allow_null=True)
    requirements = RequirementResultSerializer(many=True)
    credential_findings = CredentialFindingSerializer(many=True, help_text="Data-quality problems with their cards.")


class EmployeeComplianceDetailSerializer(EmployeeComplianceSerializer):
    forecast = ForecastSerializer(allow_null=True, help_text="With forecast=N: what lapses in the next N days.")


class FindingSerializer(RequirementResultSerializer):
    id = serializers.IntegerField()
    employee = EmployeeRefSerializer()
    run = serializers.IntegerField(source="run_id")
    computed_at = serializers.DateTimeField()


StatusCountsSerializer = type(
    "StatusCountsSerializer",
    (serializers.Serializer,),
    {status.value: serializers.IntegerField(help_text=status.label) for status in Status},
)


class RollupSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Employees counted (employed on as_of).")
    counts = StatusCountsSerializer(help_text="Employees per overall status.")
    compliant = serializers.IntegerField(help_text="Employees who may work (compliant, expiring, not yet due).")
    rate = serializers.FloatField(allow_null=True, help_text="compliant / total; null when total is 0.")
    lapsing = serializers.IntegerField(
        allow_null=True, help_text="With forecast=N: employees with a mandatory requirement lapsing within N days."
    )


class GroupRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class DepartmentRollupSerializer(RollupSerializer):
    department = GroupRefSerializer()


class RoleRollupSerializer(RollupSerializer):
    role = GroupRefSerializer()


@extend_schema_serializer(many=False)
class RollupListSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    # A response key; the stubs know `source` only as Field's own attribute (declared fields are popped off the class).
    source = serializers.ChoiceField(choices=SOURCE_CHOICES)  # type: ignore[assignment]
    run = serializers.IntegerField(allow_null=True)


@extend_schema_serializer(many=False)
class DepartmentRollupListSerializer(RollupListSerializer):
    results = DepartmentRollupSerializer(many=True)


@extend_schema_serializer(many=False)
class RoleRollupListSerializer(RollupListSerializer):
    results = RoleRollupSerializer(many=True)


class OutboxEmailSerializer(serializers.ModelSerializer):
    user: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="The manager it goes to, if any."
    )

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "employee",
            "user",
            "credential",
            "requirement",
            "about_date",
            "days_before",
            "recipient",
            "subject",
            "status",
            "attempts",
            "last_error",
            "created_at",
            "next_attempt_at",
            "sent_at",
        ]
        read_only_fields = fields


class ComplianceQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(
        required=False,
        help_text="Answer as things stood on this day (YYYY-MM-DD), computed from the records and their history. "
        "Omitted: the stored results of the current compliance run (today).",
    )
    forecast = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=730,
        help_text="Also forecast what lapses in the N days after as_of (or today) if nobody renews.",
    )

    def validate_as_of(self, value):
        problem = plausible.query_day_problem(value, today=clock.today())
        if problem:
            raise serializers.ValidationError(problem)
        return value


class GapQuerySerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First day of the window (YYYY-MM-DD), included.")
    end = serializers.DateField(help_text="Last day of the window (YYYY-MM-DD), included.")
    department = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Department.objects.all(),
        required=False,
        help_text="Only gaps while in this department (code).",
    )
    certification = serializers.SlugRelatedField(
        slug_field="code",
        queryset=CertificationType.objects.all(),
        required=False,
        help_text="Only requirements this certification meets (code), e.g. ACLS.",
    )

    def validate(self, attrs):
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": ["The window ends before it starts."]})
        for name in ("start", "end"):
            problem = plausible.query_day_problem(attrs[name], today=clock.today())
            if problem:
                raise serializers.ValidationError({name: [problem]})
        return attrs


class GapSerializer(serializers.Serializer):
    employee = EmployeeRefSerializer()
    requirement = serializers.IntegerField(source="requirement_id", help_text="Requirement id.")
    certifications = serializers.ListField(child=serializers.CharField(), help_text="Codes, any one of which meets it.")
    days = serializers.IntegerField(help_text="Days inside the window without a compliant status.")
    first_day = serializers.DateField(help_text="First such day inside the window.")
    last_day = serializers.DateField(help_text="Last such day inside the window.")
