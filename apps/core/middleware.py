"""Request bodies are judged before anyone reads them.

A body larger than MAX_REQUEST_BODY_BYTES is refused from its Content-Length with 413, before Django reads
a byte of it; and someone not signed in may send at most ANONYMOUS_BODY_BYTES (a sign-in form, never a file):
a larger body is refused with 403 before the CSRF check would read it looking for its token. API clients that
sign in with a bearer token are let through: the API authenticates them itself.
Gunicorn has no body limit of its own: the proxy in front enforces the same cap (docs/operations.md), so a
body without a Content-Length (chunked) stops there.
"""

from django.conf import settings
from django.http import HttpResponse

ANONYMOUS_BODY_BYTES = 64 * 1024


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse("Bad Content-Length.", status=400, content_type="text/plain")
        if length > settings.MAX_REQUEST_BODY_BYTES:
            limit = settings.MAX_REQUEST_BODY_BYTES // (1024 * 1024)
            message = f"The request is too large (at most {limit} MB)."
            return HttpResponse(message, status=413, content_type="text/plain")
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Runs before CsrfViewMiddleware.process_view (listed before it), after authentication set request.user.
        if (
            int(request.META.get("CONTENT_LENGTH") or 0) > ANONYMOUS_BODY_BYTES
            and not request.user.is_authenticated
            and "HTTP_AUTHORIZATION" not in request.META
        ):
            return HttpResponse("Sign in to upload files.", status=403, content_type="text/plain")
        return None
