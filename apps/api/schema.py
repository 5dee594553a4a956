"""OpenAPI details drf-spectacular cannot infer: the error body on every operation, and conditional GETs."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="The HTTP status, repeated for logs.")
    code = serializers.CharField(help_text="Machine-readable: invalid, not_found, permission_denied, throttled...")
    detail = serializers.CharField(help_text="What went wrong, in words.")
    # The error body's key; on a Serializer class the stubs reserve the name for the declared fields.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="For invalid input: messages per field (dotted for nested input, non_field_errors for the whole).",
    )


ERRORS = {
    "400": "Invalid input: see `fields` for messages per field.",
    "401": "Not authenticated: send a session cookie or `Authorization: Bearer <token>`; a revoked token lands here.",
    "403": "Authenticated but not allowed: writes are for HR; callers with no scope may read nothing.",
    "404": "No such object, or not in your scope (the API does not say which).",
    "409": "Conflicts with the current data (still in use, or a concurrent change).",
    "411": "A body sent chunked, without a Content-Length: send its length.",
    "413": "The body is larger than the server takes (MAX_REQUEST_BODY_BYTES).",
    "429": "Too many requests for this token or user: wait `Retry-After` seconds.",
}

IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag of a previous answer: 304 without a body if the answer has not changed since.",
)


class ApiAutoSchema(AutoSchema):
    """Adds the error responses each operation can give, so no endpoint has to list them by hand."""

    def _with_errors(self, responses, direction):
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                responses[code]["description"] = ERRORS[code]
        if getattr(self.view, "conditional", False) and self.method == "GET":
            responses.setdefault("304", {"description": "Not modified since the ETag sent in If-None-Match."})
        return responses

    def get_tags(self):
        # /api/v1/compliance/employees/ -> "compliance", /api/v1/credentials/{id}/ -> "credentials"
        segments = [part for part in self.path.split("/") if part and not part.startswith("{")]
        return [segments[2] if len(segments) > 2 else "api"]

    def _get_response_bodies(self, direction="response"):
        responses = self._with_errors(super()._get_response_bodies(direction), direction)
        return dict(sorted(responses.items()))

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if getattr(self.view, "conditional", False) and self.method == "GET":
            parameters = [*parameters, IF_NONE_MATCH]
        return parameters

    def _error_codes(self) -> list[str]:
        codes = ["401", "403", "429"]
        takes_query = bool(self.get_filter_backends() or self.get_override_parameters() or self._is_list_view())
        if self.method in ("POST", "PUT", "PATCH") or takes_query:
            codes.append("400")
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["411", "413"]  # refused from the headers, before the body is read (core.middleware)
        if "{" in self.path or self._is_list_view():
            codes.append("404")  # on a list: a page number past the end
        if self.method == "DELETE":
            codes.append("409")
        return codes
