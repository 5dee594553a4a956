"""Request bodies are judged before anyone reads them.

A body larger than MAX_REQUEST_BODY_BYTES is refused from its Content-Length with 413, before Django reads
a byte of it, and a body without a Content-Length (chunked) with 411: browsers never send one, and its size
could only be learnt by reading it. Someone not signed in may send at most ANONYMOUS_BODY_BYTES (a sign-in
form; a file of that size at most, never read further): more is refused with 403 before the CSRF check would
read it looking for its token.
API clients that sign in with a bearer token are let through: the API authenticates them itself. Under /api/
the refusals use the API's error shape (apps/api/exceptions.py). Gunicorn has no body limit of its own; the
proxy in front holds the same cap (docs/operations.md).
"""

from django.conf import settings
from django.http import HttpResponse, JsonResponse

ANONYMOUS_BODY_BYTES = 64 * 1024


def _refuse(request, status: int, code: str, detail: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"status": status, "code": code, "detail": detail, "fields": {}}, status=status)
    return HttpResponse(detail, status=status, content_type="text/plain")


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refuse(request, 400, "bad_request", "Bad Content-Length.")
        if length > settings.MAX_REQUEST_BODY_BYTES:
            limit = settings.MAX_REQUEST_BODY_BYTES // (1024 * 1024)
            return _refuse(request, 413, "too_large", f"The request is too large (at most {limit} MB).")
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return _refuse(request, 411, "length_required", "Send the request with a Content-Length.")
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Runs before CsrfViewMiddleware.process_view (listed before it), after authentication set request.user.
        if (
            int(request.META.get("CONTENT_LENGTH") or 0) > ANONYMOUS_BODY_BYTES
            and "HTTP_AUTHORIZATION" not in request.META
            and not request.user.is_authenticated
        ):
            return _refuse(request, 403, "not_authenticated", "Sign in to upload files.")
        return None
