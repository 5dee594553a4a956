"""API endpoints: thin. Scope narrows every queryset (out of scope => 404), writes go through
full_clean or the services, compliance answers come from apps.api.selectors."""

from functools import cached_property, partial

from django.db.models import Q
from django.http import JsonResponse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers, set_response_etag
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, OpenApiTypes, extend_schema, extend_schema_view
from rest_framework import mixins, parsers, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.accounts.provisioning import account_sync
from apps.certifications.models import CertificationType, Credential, Prerequisite, Requirement
from apps.certifications.services import credential_create, credential_reject, credential_verify
from apps.compliance import periods as compliance_periods
from apps.compliance import read
from apps.compliance import selectors as compliance_selectors
from apps.compliance.models import EmployeeStatus, RequirementPeriod, RequirementStatus
from apps.core import clock
from apps.notifications.models import Notification
from apps.organisation.models import Employee, Role
from apps.organisation.scoping import (
    employed_today,
    request_scope,
    visible_condition,
    visible_departments,
    visible_employees,
)

from . import filters, selectors, serializers
from .permissions import InScope, ManagerOrHR, may_write
from .schema import ApiAutoSchema, ErrorSerializer


class ApiViewSet(viewsets.GenericViewSet):
    schema = ApiAutoSchema()
    # Answers that are read often and change rarely get an ETag, so a client polling them gets 304s.
    conditional = False

    @property
    def scope(self):
        return request_scope(self.request)

    @cached_property
    def current_run(self):
        return compliance_selectors.current_run()

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.conditional and request.method in ("GET", "HEAD") and response.status_code == status.HTTP_200_OK:
            # Personal data: the client may keep and revalidate it; no shared cache may.
            patch_cache_control(response, private=True, no_cache=True)
            patch_vary_headers(response, ["Authorization", "Cookie"])
            response.add_post_render_callback(partial(_conditional_get, request._request))
        return response


@csrf_exempt
def not_found(request, *args, **kwargs):
    return JsonResponse(
        {"status": 404, "code": "not_found", "detail": "No such API endpoint.", "fields": {}}, status=404
    )


def _conditional_get(django_request, response):
    """ETag from the rendered body, and 304 when it matches If-None-Match."""
    set_response_etag(response)
    return get_conditional_response(django_request, etag=response["ETag"], response=response)


def _crud_docs(noun: str, *, hr_note: str = "Writes: HR only."):
    return extend_schema_view(
        list=extend_schema(summary=f"List {noun}s", description=f"Paginated. {hr_note}"),
        retrieve=extend_schema(summary=f"Get a {noun}"),
        create=extend_schema(summary=f"Create a {noun}", description=hr_note),
        update=extend_schema(summary=f"Replace a {noun}", description=hr_note),
        partial_update=extend_schema(summary=f"Update a {noun}", description=hr_note),
        destroy=extend_schema(summary=f"Delete a {noun}", description=f"{hr_note} 409 while still in use."),
    )


class CrudViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    pass


@_crud_docs("department", hr_note="Managers see the departments they manage; writes: HR only.")
class DepartmentViewSet(CrudViewSet):
    serializer_class = serializers.DepartmentSerializer
    ordering_fields = ["code", "name"]
    ordering = ["code"]

    def get_queryset(self):
        return visible_departments(self.scope).prefetch_related("managers")


@_crud_docs("role")
class RoleViewSet(CrudViewSet):
    serializer_class = serializers.RoleSerializer
    queryset = Role.objects.all()
    ordering_fields = ["code", "name"]
    ordering = ["code"]


@_crud_docs("certification type")
class CertificationTypeViewSet(CrudViewSet):
    serializer_class = serializers.CertificationTypeSerializer
    queryset = CertificationType.objects.all()
    ordering_fields = ["code", "name", "level"]
    ordering = ["code"]


@_crud_docs("prerequisite")
class PrerequisiteViewSet(CrudViewSet):
    serializer_class = serializers.PrerequisiteSerializer
    queryset = Prerequisite.objects.select_related("certification_type").prefetch_related("any_of")
    ordering_fields = ["id"]
    ordering = ["id"]


@_crud_docs("requirement")
class RequirementViewSet(CrudViewSet):
    serializer_class = serializers.RequirementSerializer
    queryset = Requirement.objects.select_related("role", "department").prefetch_related("any_of")
    filterset_class = filters.RequirementFilter
    ordering_fields = ["id", "due_within_days"]
    ordering = ["id"]


CONFLICT = OpenApiResponse(ErrorSerializer, description="Someone else just decided otherwise: reload and decide again.")


def compliance_query(request, *, allow_forecast: bool = True) -> dict:
    query = serializers.ComplianceQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    if not allow_forecast and "forecast" in query.validated_data:
        raise ValidationError({"forecast": ["Forecasts are per employee (/employees/{id}/compliance/) or roll-ups."]})
    return query.validated_data


@_crud_docs("employee", hr_note="Managers see their departments' people, staff themselves; writes: HR only.")
class EmployeeViewSet(CrudViewSet):
    serializer_class = serializers.EmployeeSerializer
    filterset_class = filters.EmployeeFilter
    ordering_fields = ["id", "employee_number", "last_name", "hired_on", "assigned_on"]
    ordering = ["last_name", "first_name", "employee_number"]

    def get_queryset(self):
        employees = visible_employees(self.scope).select_related("role", "department", "user")
        if self.action == "list" and "left" not in self.request.query_params:
            employees = employees.filter(employed_today())  # staff who left: only on HR's explicit ?left=true
        return employees

    def perform_create(self, serializer):
        super().perform_create(serializer)
        account_sync(employee=serializer.instance)

    def perform_update(self, serializer):
        super().perform_update(serializer)
        account_sync(employee=serializer.instance)

    @property
    def conditional(self):
        return self.action == "compliance"

    @extend_schema(
        summary="An employee's compliance",
        description="Their overall status and each requirement with the reason, from the stored results of the "
        "current compliance run; with `as_of`, as things stood on that day (computed from the records and their "
        "history, e.g. for an audit); with `forecast=N`, also what lapses in the next N days if nobody renews.",
        parameters=[serializers.ComplianceQuerySerializer],
        responses=serializers.EmployeeComplianceDetailSerializer,
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def compliance(self, request, pk=None):
        query = compliance_query(request)
        employee = self.get_object()
        answer = selectors.employee_compliance(employee, as_of=query.get("as_of"), forecast_days=query.get("forecast"))
        return Response(serializers.EmployeeComplianceDetailSerializer(answer).data)


class CredentialPermission(InScope):
    """Staff may record their own cards (create only, always pending); everything else follows InScope."""

    def has_permission(self, request, view):
        if view.action == "create" and request.user and request.user.is_authenticated:
            scope = request_scope(request)
            return bool(scope.employee_id) or may_write(request.user, Credential, "add")
        return super().has_permission(request, view)


@extend_schema_view(
    list=extend_schema(
        summary="List credentials",
        description="Cards on record for the people in your scope (HR: everyone; managers: their departments; "
        "staff: their own).",
    ),
    retrieve=extend_schema(summary="Get a credential"),
    create=extend_schema(
        summary="Record a credential",
        description="HR records anyone's card (verified by default). Staff upload their own, always pending "
        "until HR verifies it. Send multipart/form-data to include the proof file. The person's compliance "
        "is recomputed right after.",
        request=serializers.CredentialCreateSerializer,
        responses={201: serializers.CredentialSerializer},
    ),
    update=extend_schema(
        summary="Replace a credential's details",
        description="HR only. Verification changes go through verify/reject.",
        request=serializers.CredentialUpdateSerializer,
        responses=serializers.CredentialSerializer,
    ),
    partial_update=extend_schema(
        summary="Correct a credential's details",
        description="HR only. Verification changes go through verify/reject.",
        request=serializers.CredentialUpdateSerializer,
        responses=serializers.CredentialSerializer,
    ),
    destroy=extend_schema(summary="Delete a credential", description="HR only."),
)
class CredentialViewSet(CrudViewSet):
    serializer_class = serializers.CredentialSerializer
    permission_classes = [CredentialPermission]
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]
    filterset_class = filters.CredentialFilter
    ordering_fields = ["id", "issued_on", "expires_on", "created_at"]
    ordering = ["id"]
    write_permissions = {"verify": "change", "reject": "change"}

    def get_queryset(self):
        # The cards of the people the scope may open (HR: anyone, leavers included; managers: their people until
        # their last day; staff: their own).
        return Credential.objects.filter(visible_condition(self.scope, via="employee__")).select_related(
            "certification_type", "verified_by"
        )

    def get_serializer_class(self):
        if self.action == "create":
            return serializers.CredentialCreateSerializer
        if self.action in ("update", "partial_update"):
            return serializers.CredentialUpdateSerializer
        if self.action == "reject":
            return serializers.RejectSerializer
        return serializers.CredentialSerializer

    def create(self, request, *args, **kwargs):
        hr = may_write(request.user, Credential, "add")
        writable = Employee.objects.all() if hr else Employee.objects.filter(pk=self.scope.employee_id)
        data = serializers.CredentialCreateSerializer(data=request.data, employees=writable)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if not hr:
            values["verification"] = Credential.Verification.PENDING
        credential = credential_create(**values, acting_user=request.user)
        output = serializers.CredentialSerializer(credential, context=self.get_serializer_context())
        return Response(output.data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        credential = self.get_object()
        data = serializers.CredentialUpdateSerializer(credential, data=request.data, partial=kwargs.get("partial"))
        data.is_valid(raise_exception=True)
        credential = data.save()
        return Response(serializers.CredentialSerializer(credential, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Verify a credential's proof",
        description="HR only. Verifying twice keeps the first verifier; a decision contrary to one just taken "
        "by someone else answers 409.",
        request=None,
        responses={200: serializers.CredentialSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        credential = credential_verify(credential=self.get_object(), user=request.user)
        return Response(serializers.CredentialSerializer(credential, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Reject a credential's proof",
        description="HR only, with a reason the employee sees. A rejected credential never counts.",
        request=serializers.RejectSerializer,
        responses={200: serializers.CredentialSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        credential = self.get_object()
        data = serializers.RejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        credential = credential_reject(credential=credential, user=request.user, reason=data.validated_data["reason"])
        return Response(serializers.CredentialSerializer(credential, context=self.get_serializer_context()).data)


@extend_schema_view(
    list=extend_schema(
        summary="Compliance of everyone in scope",
        description="One entry per employee with their overall status and each requirement. Without `as_of`: the "
        "stored results of the current compliance run, orderable. With `as_of`: computed for that day (the people "
        "employed then, in the departments they were in then), in employee id order; narrow it with `department` "
        "on a large organisation. Use the filters to ask who is not current: `compliant=false`.",
        parameters=[
            OpenApiParameter("as_of", OpenApiTypes.DATE, description="Answer as things stood on this day."),
        ],
        responses=serializers.EmployeeComplianceSerializer(many=True),
    )
)
class EmployeeComplianceViewSet(mixins.ListModelMixin, ApiViewSet):
    serializer_class = serializers.EmployeeComplianceSerializer
    filterset_class = filters.EmployeeStatusFilter
    ordering_fields = ["employee_id", "employee__last_name", "employee__employee_number", "status", "next_expiry"]
    ordering = ["employee_id"]
    conditional = True

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no database at hand
            return EmployeeStatus.objects.none()
        return (
            EmployeeStatus.objects.filter(run=self.current_run)
            .filter(selectors.stored_scope(self.scope))
            .select_related("employee__department", "employee__role")
        )

    def list(self, request, *args, **kwargs):
        as_of = compliance_query(request, allow_forecast=False).get("as_of")
        run = self.current_run if as_of is None else None
        if run is not None:
            page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
            answers = selectors.stored_answers_page(page, run)
        else:
            filterset = filters.EmployeeStatusFilter(request.query_params, queryset=EmployeeStatus.objects.none())
            if not filterset.is_valid():
                raise ValidationError(filterset.errors)
            wanted = filterset.form.cleaned_data
            day = as_of or clock.today()
            results = selectors.computed_answers(
                self.scope,
                day,
                window=self.paginator.window(request),
                department=wanted.get("department"),
                role=wanted.get("role"),
                statuses=set(wanted.get("status") or ()),
                compliant=wanted.get("compliant"),
            )
            answers = selectors.computed_answers_page(self.paginate_queryset(results), day)
        return self.get_paginated_response(serializers.EmployeeComplianceSerializer(answers, many=True).data)


ROLLUP_PARAMETERS: list[type[drf_serializers.Serializer] | OpenApiParameter] = [
    serializers.ComplianceQuerySerializer,
    OpenApiParameter("department", OpenApiTypes.STR, description="Only this department (code)."),
]


class RollupViewSet(ApiViewSet):
    permission_classes = [ManagerOrHR]
    pagination_class = None
    filter_backends = []
    conditional = True
    dimension = ""
    output_serializer: type[drf_serializers.Serializer]

    def get_queryset(self):
        return EmployeeStatus.objects.none()

    def list(self, request, *args, **kwargs):
        query = compliance_query(request)
        department = None
        if request.query_params.get("department"):
            department = visible_departments(self.scope).filter(code=request.query_params["department"]).first()
            if department is None:
                raise ValidationError({"department": ["No department with this code in your scope."]})
        groups, source, run, day = selectors.rollups(
            self.scope,
            self.dimension,
            as_of=query.get("as_of"),
            forecast_days=query.get("forecast"),
            department=department,
        )
        results = [
            {
                self.dimension: group,
                "total": tally.total,
                "counts": tally.status_counts,
                "compliant": tally.compliant,
                "rate": None if tally.rate is None else round(tally.rate, 4),
                "lapsing": tally.lapsing,
            }
            for group, tally in groups
        ]
        body = {"as_of": day, "source": source, "run": run.pk if run else None}
        return Response(self.output_serializer({**body, "results": results}).data)


@extend_schema_view(
    list=extend_schema(
        summary="Compliance per department",
        description="Employees per overall status in each department you see (HR: all; managers: theirs), from "
        "the current run, or computed for `as_of` (by the department each person was in that day). With "
        "`forecast=N`, `lapsing` counts who lapses within N days if nobody renews.",
        parameters=ROLLUP_PARAMETERS,
        responses=serializers.DepartmentRollupListSerializer,
    )
)
class DepartmentRollupViewSet(RollupViewSet):
    dimension = "department"
    output_serializer = serializers.DepartmentRollupListSerializer


@extend_schema_view(
    list=extend_schema(
        summary="Compliance per role",
        description="Employees per overall status for each role among the people you see (HR: everyone; "
        "managers: their departments). Same parameters as the department roll-up.",
        parameters=ROLLUP_PARAMETERS,
        responses=serializers.RoleRollupListSerializer,
    )
)
class RoleRollupViewSet(RollupViewSet):
    dimension = "role"
    output_serializer = serializers.RoleRollupListSerializer


@extend_schema_view(
    list=extend_schema(
        summary="Findings: each employee against each requirement",
        description="The per-requirement results of the current compliance run for the people in your scope, "
        "with the reason in words. Ask who is not current with `compliant=false`, who must renew soon with "
        "`expiring_within=60`, and narrow by department, role or certification.",
        responses=serializers.FindingSerializer(many=True),
    )
)
class FindingViewSet(mixins.ListModelMixin, ApiViewSet):
    serializer_class = serializers.FindingSerializer
    filterset_class = filters.FindingFilter
    ordering_fields = ["id", "employee_id", "requirement_id", "expires_on", "due_on", "since", "status"]
    # The order of the run's unique index: a deep page is an index range, not a sort of the whole run.
    ordering = ["employee_id", "requirement_id"]
    conditional = True

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no database at hand
            return RequirementStatus.objects.none()
        if self.current_run is None:
            return RequirementStatus.objects.none()
        return (
            RequirementStatus.objects.filter(run=self.current_run)
            .filter(selectors.stored_scope(self.scope))
            .select_related("employee__department", "employee__role")
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        codes = read.requirement_codes({row.requirement_id for row in page})
        rows = [selectors.finding_row(row, codes) for row in page]
        return self.get_paginated_response(serializers.FindingSerializer(rows, many=True).data)


@extend_schema_view(
    list=extend_schema(
        summary="Who had a gap in a requirement during a window, and for how many days",
        description="For a survey window [start, end]: each employee x mandatory requirement with at least one day "
        "without a compliant status (expired, missing, prerequisite lapsed, unverified proof only), with the number "
        "of such days, most first. Read from the stored status periods, by the department each person was in on "
        "each day (HR: everyone; managers: their departments; staff: themselves). The window must end before the "
        "periods' horizon.",
        parameters=[serializers.GapQuerySerializer],
        responses=serializers.GapSerializer(many=True),
    )
)
class GapViewSet(mixins.ListModelMixin, ApiViewSet):
    serializer_class = serializers.GapSerializer
    filter_backends = []

    def get_queryset(self):
        return RequirementPeriod.objects.none()

    def list(self, request, *args, **kwargs):
        query = serializers.GapQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        window = query.validated_data
        if not compliance_periods.covers(window["start"], until=window["end"]):
            raise ValidationError(
                {"end": [f"Answered up to the day before {compliance_periods.horizon() or 'the first rebuild'}."]}
            )
        condition = compliance_periods.scope_condition(self.scope)
        if window.get("department"):
            condition &= Q(department_id=window["department"].id)
        requirement_ids = None
        if window.get("certification"):
            requirement_ids = window["certification"].requirements.values_list("id", flat=True)
        rows = compliance_periods.gaps(window["start"], window["end"], condition, requirement_ids=requirement_ids)
        page = compliance_periods.gap_rows(self.paginate_queryset(rows))
        people = Employee.objects.select_related("department", "role").in_bulk({gap.employee_id for gap in page})
        codes = read.requirement_codes_on(window["end"])  # as they stood: one deleted since keeps its gaps
        results = [
            {
                "employee": people[gap.employee_id],
                "requirement_id": gap.requirement_id,
                "certifications": codes.get(gap.requirement_id, []),
                "days": gap.days,
                "first_day": gap.first_day,
                "last_day": gap.last_day,
            }
            for gap in page
            if gap.employee_id in people
        ]
        return self.get_paginated_response(serializers.GapSerializer(results, many=True).data)


@extend_schema_view(
    list=extend_schema(
        summary="The email outbox",
        description="Reminders, escalations and digests, queued and sent (read-only). HR sees every email; "
        "managers the ones about their departments' people or addressed to them; staff the ones about themselves.",
    ),
    retrieve=extend_schema(summary="One outbox email"),
)
class OutboxViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = serializers.OutboxEmailSerializer
    filterset_class = filters.OutboxFilter
    ordering_fields = ["id", "created_at", "sent_at", "next_attempt_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        # Emails about the people the scope may open, and those addressed to the user (a manager's digests).
        emails = Notification.objects.select_related("user")
        if self.scope.organisation:
            return emails
        return emails.filter(Q(user_id=self.request.user.pk) | visible_condition(self.scope, via="employee__"))
