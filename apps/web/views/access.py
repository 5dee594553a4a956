"""Asking for a way in by email: "Email me a sign-in link" and "Forgot your password?".

Both answer the same, doing the same work, for every address: the request looks nobody up. It counts the
request against the throttle and writes one row to the notifications outbox, in the request's transaction;
the outbox's sender finds the logins the address reaches and mails them (nothing, for an address of none).
With Redis down the row waits in PostgreSQL and the periodic sender delivers it.
"""

from axes.helpers import get_client_ip_address
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from apps.accounts import services as access
from apps.accounts.forms import SignInLinkRequestForm
from apps.notifications import planning, tasks
from apps.notifications.rules import Kind

TOO_MANY = "Too many emails were asked for. Wait a while and try again."


def _allowed(request, kind: Kind, email: str) -> bool:
    return access.requests_allowed(
        purpose=str(kind), email=email, client_address=get_client_ip_address(request) or "unknown"
    )


def _queue(kind: Kind, email: str) -> None:
    planning.asked_email_queue(kind=kind, address=email)
    tasks.queue_delivery()


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_link_request(request):
    form = SignInLinkRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        if not _allowed(request, Kind.SIGN_IN_LINK, email):
            messages.error(request, TOO_MANY)
            return render(request, "accounts/link_request.html", {"form": form}, status=429)
        _queue(Kind.SIGN_IN_LINK, email)
        return redirect("sign_in_link_sent")
    return render(request, "accounts/link_request.html", {"form": form})


class _OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form (its field and checks); sending is the outbox's, with Django's token."""

    def save(self, *args, **kwargs):
        _queue(Kind.PASSWORD_RESET, self.cleaned_data["email"].strip())


class PasswordResetView(auth_views.PasswordResetView):
    form_class = _OutboxPasswordResetForm

    def form_valid(self, form):
        if not _allowed(self.request, Kind.PASSWORD_RESET, form.cleaned_data["email"]):
            messages.error(self.request, TOO_MANY)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)
