from django.db import connection
from django.http import HttpResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    """For load balancers and the compose health check: the process answers and the database too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
