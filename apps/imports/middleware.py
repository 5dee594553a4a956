"""The result of a background import, shown to the user who started it on the first page they open after it."""

from django.contrib import messages
from django.core.cache import cache
from django.utils.html import format_html

from . import jobs
from .models import ImportJob

LEVELS = {
    ImportJob.Status.IMPORTED: messages.SUCCESS,
    ImportJob.Status.REFUSED: messages.ERROR,
    ImportJob.Status.FAILED: messages.ERROR,
}


class ImportResultMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        # Only staff import; the cache key (set by the worker) spares every other page a query.
        if (
            request.method == "GET"
            and not request.path.startswith("/api/")
            and user is not None
            and user.is_authenticated
            and user.is_staff
            and cache.get(jobs.announce_key(user.pk))
        ):
            for job in jobs.jobs_announce(user=user):
                messages.add_message(
                    request,
                    LEVELS[ImportJob.Status(job.status)],
                    format_html('{} <a href="{}">See the import</a>.', job.summary, jobs.job_url(job)),
                )
        return self.get_response(request)
