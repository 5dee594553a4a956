"""Ways in: the sign-in link, "email me a link", the queued password reset, and single sign-on's dead end."""

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe
from sesame.views import LoginView as SesameLoginView

from . import links, services
from .forms import QueuedPasswordResetForm, SignInLinkRequestForm
from .tasks import email_sign_in_link

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


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_link_request(request):
    """The same answer, at the same speed, for every address: the lookup and the email happen in a worker."""
    form = SignInLinkRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        address = get_client_ip_address(request) or "unknown"
        allowed = services.request_allowed(key=f"ip:{address}") and services.request_allowed(
            key="email:" + salted_hmac("sign-in-link-request", email).hexdigest()
        )
        if not allowed:
            messages.error(request, "Too many sign-in links were asked for. Wait a while and try again.")
            return render(request, "accounts/link_request.html", {"form": form}, status=429)
        transaction.on_commit(lambda: email_sign_in_link.delay(email))
        return redirect("sign_in_link_sent")
    return render(request, "accounts/link_request.html", {"form": form})


@require_safe
def sign_in_link_sent(request):
    return render(request, "accounts/link_sent.html", {"link_days": settings.SESAME_MAX_AGE.days})


@require_safe
def not_on_roster(request):
    return render(request, "accounts/not_on_roster.html", {"hr_contact": settings.HR_CONTACT_EMAIL}, status=403)


class QueuedPasswordResetView(auth_views.PasswordResetView):
    form_class = QueuedPasswordResetForm
