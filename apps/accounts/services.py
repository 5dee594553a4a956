"""Emails that let a person in, sent by a worker so the web answer is the same for every address."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model

# Django's own reset form matches addresses with this private helper; reusing it keeps the two the same.
from django.contrib.auth.forms import PasswordResetForm, _unicode_ci_compare  # type: ignore[attr-defined]
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .links import sign_in_url
from .rules import plain_staff


def sign_in_link_send(*, email: str) -> int:
    """Mail a sign-in link to each plain staff login with this address; returns how many went out.

    HR and managers get nothing: they sign in with their password or single sign-on.
    """
    sent = 0
    for user in plain_staff().filter(email__iexact=email.strip()).select_related("employee"):
        ctx = {
            "recipient_name": user.employee.first_name,
            "sign_in_url": sign_in_url(user, reverse("web:me")),
            "link_days": settings.SESAME_MAX_AGE.days,
            "hr_contact": settings.HR_CONTACT_EMAIL,
            "time_zone": settings.TIME_ZONE,
        }
        _send("sign_in_link", user.email, ctx)
        sent += 1
    return sent


def _send(name: str, to: str, ctx: dict) -> None:
    """The notifications app's layout (emails/<name>-subject.txt, -body.txt, -body.html), rendered here
    because accounts sits below notifications: reminders put sign-in links in, so it cannot call back up."""
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", ctx).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{name}-body.txt", ctx).strip() + "\n",
        to=[to],
        headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
    )
    message.attach_alternative(render_to_string(f"emails/{name}-body.html", ctx), "text/html")
    message.send()


class _RosterPasswordResetForm(PasswordResetForm):
    def get_users(self, email):
        # Django skips logins without a usable password; provisioned staff have none until they choose one
        # here, which is no more power than the sign-in link their inbox already gets.
        User = get_user_model()
        field = User.get_email_field_name()
        return (
            user
            for user in User._default_manager.filter(**{f"{field}__iexact": email, "is_active": True})
            if _same_email(email, getattr(user, field))
        )


def _same_email(asked: str, stored: str) -> bool:
    # Django's own comparison for its reset form: case-insensitive under Unicode normalisation.
    return _unicode_ci_compare(asked, stored)


def password_reset_send(*, email: str) -> int:
    """Django's own reset email (its token, templates and rules), sent from the worker."""
    form = _RosterPasswordResetForm(data={"email": email})
    if not form.is_valid():
        return 0
    site = urlsplit(settings.SITE_URL)
    users = list(form.get_users(form.cleaned_data["email"]))
    form.save(domain_override=site.netloc, use_https=site.scheme == "https", request=None)
    return len(users)


def request_allowed(*, key: str) -> bool:
    """A fixed-window counter: at most SIGN_IN_LINK_REQUESTS per window for this key."""
    window = settings.SIGN_IN_LINK_REQUEST_WINDOW_MINUTES * 60
    cache_key = f"sign-in-link-request:{key}"
    cache.add(cache_key, 0, timeout=window)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window)
        count = 1
    return count <= settings.SIGN_IN_LINK_REQUESTS
