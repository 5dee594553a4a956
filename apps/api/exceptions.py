"""One error body for every failure, so an integration parses errors one way:

    {"status": 400, "code": "invalid", "detail": "Some fields are invalid.",
     "fields": {"expires_on": ["The expiry date cannot be before the issue date."]}}

`fields` maps a field (dotted for nested input, "non_field_errors" for the whole object) to its
messages; it is empty for errors that are not about the input.
"""

import logging

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger("django.request")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This conflicts with the current state of the data."
    default_code = "conflict"


def django_validation_error_as_drf(error: DjangoValidationError) -> exceptions.ValidationError:
    """Model and service validation (full_clean, constraints) in DRF's shape, field by field."""
    if hasattr(error, "error_dict"):
        detail = {
            (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): messages
            for field, messages in error.message_dict.items()
        }
    else:
        detail = {api_settings.NON_FIELD_ERRORS_KEY: error.messages}
    return exceptions.ValidationError(detail)


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError) and getattr(exc, "code", None) == "stale":
        exc = Conflict(exc.messages[0], code="stale")
    elif isinstance(exc, DjangoValidationError):
        exc = django_validation_error_as_drf(exc)
    elif isinstance(exc, ProtectedError | RestrictedError):
        names = sorted({str(obj._meta.verbose_name_plural) for obj in exc.args[1]})
        exc = Conflict(f"Still in use by {', '.join(names)}: reassign or remove those first.")
    elif isinstance(exc, DataError):
        # Input the database refuses to even compare (a NUL character, a number out of range): the caller's fault.
        exc = exceptions.ValidationError(
            {api_settings.NON_FIELD_ERRORS_KEY: ["A value in the request cannot be stored or compared here."]}
        )
    elif isinstance(exc, IntegrityError):
        # full_clean ran first, so this is a concurrent write that got in between: ask to retry.
        exc = Conflict("Another change to the same data was saved at the same time; reload and try again.")
    response = drf_exception_handler(exc, context)
    if response is None:
        # Anything unexpected: logged with its traceback like Django's own 500s, answered in the one error shape.
        logger.error("API %s failed", context["request"].path, exc_info=exc)
        return Response(
            {"status": 500, "code": "server_error", "detail": "Something went wrong on our side.", "fields": {}},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    response.data = error_body(exc, response.status_code)
    return response


def error_body(exc: exceptions.APIException, status_code: int) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        fields: dict[str, list[str]] = {}
        _flatten(exc.detail, "", fields)
        return {"status": status_code, "code": "invalid", "detail": "Some fields are invalid.", "fields": fields}
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    code = getattr(exc.detail, "code", None) or exc.default_code
    return {"status": status_code, "code": code, "detail": detail, "fields": {}}


def _flatten(detail, prefix: str, into: dict[str, list[str]]) -> None:
    if isinstance(detail, dict):
        for key, value in detail.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), into)
    elif isinstance(detail, list) and detail and all(isinstance(item, str) for item in detail):
        into.setdefault(prefix or api_settings.NON_FIELD_ERRORS_KEY, []).extend(str(item) for item in detail)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if value:
                _flatten(value, f"{prefix}.{index}" if prefix else str(index), into)
    else:
        into.setdefault(prefix or api_settings.NON_FIELD_ERRORS_KEY, []).append(str(detail))
