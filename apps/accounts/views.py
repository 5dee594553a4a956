"""Ways in: the sign-in link, and single sign-on's dead end. Asking for a link or a password reset by email
writes to the notifications outbox, above this app: those pages are the web app's (apps/web/views/access.py)."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe
from sesame.views import LoginView as SesameLoginView

from . import links
from .forms import SignInLinkRequestForm

NO_TRACE = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


class SignInView(auth_views.LoginView):
    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "sso_enabled": settings.OIDC_ENABLED}


class SignInLinkView(SesameLoginView):
    """Opens a link from an email: signs the person in and redirects at once to the page without the token,
    so the token never stays in the address bar, the history, or a Referer sent by the next page."""

    scope = links.SCOPE

    def get_default_redirect_url(self):
        return reverse("web:me")

    def get(self, request):
        response = super().get(request)
        for header, value in NO_TRACE.items():
            response[header] = value
        return response

    def login_failed(self):
        response = render(self.request, "accounts/link_invalid.html", {"form": SignInLinkRequestForm()}, status=403)
        for header, value in NO_TRACE.items():
            response[header] = value
        return response


@require_safe
def sign_in_link_sent(request):
    return render(request, "accounts/link_sent.html", {"link_days": settings.SESAME_MAX_AGE.days})


@require_safe
def not_on_roster(request):
    return render(request, "accounts/not_on_roster.html", {"hr_contact": settings.HR_CONTACT_EMAIL}, status=403)
