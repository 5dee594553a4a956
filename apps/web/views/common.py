"""What every page of the web app shares: the request's scope, navigation, pagination."""

from django.core.paginator import Page, Paginator
from django.http import Http404
from django.shortcuts import render

from apps.organisation.scoping import Scope, may_verify_credentials, oversees_anyone, request_scope

PAGE_SIZE = 50


def oversight_or_404(request) -> Scope:
    """HR and managers only; to anyone else the dashboards do not exist."""
    scope = request_scope(request)
    if not oversees_anyone(scope):
        raise Http404("No such page.")
    return scope


def render_page(request, template: str, context: dict | None = None, status: int = 200):
    scope = request_scope(request)
    navigation = {
        "dashboards": oversees_anyone(scope),
        "organisation": scope.organisation,
        "me": bool(scope.employee_id),
        "verify": may_verify_credentials(request.user),
        "admin": request.user.is_staff,
    }
    return render(request, template, {"nav": navigation, **(context or {})}, status=status)


def paginate(request, rows, per_page: int = PAGE_SIZE) -> Page:
    return Paginator(rows, per_page).get_page(request.GET.get("page"))
