"""Emails that let a person in ("email me a sign-in link", "forgot your password"): who gets them, and what
they carry. The request only records the address asked for; the outbox's sender asks here, a batch at a
time, which logins it reaches, so the web answer does the same work for every address."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model

# Django's own reset form matches addresses with this private helper; reusing it keeps the two the same.
from django.contrib.auth.forms import _unicode_ci_compare  # type: ignore[attr-defined]
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .links import link_view, sign_in_url
from .rules import plain_staff


def sign_in_link_logins(addresses: Iterable[str]) -> dict[str, list]:
    """The plain staff logins each address reaches (HR and managers never get a link), in one query."""
    return _by_address(plain_staff().select_related("employee"), addresses)


def password_reset_logins(addresses: Iterable[str]) -> dict[str, list]:
    """The active logins each address reaches, in one query.

    Django skips logins without a usable password; provisioned staff have none until they choose one
    here, which is no more power than the sign-in link their inbox already gets.
    """
    return _by_address(get_user_model().objects.filter(is_active=True), addresses)


def _by_address(logins, addresses: Iterable[str]) -> dict[str, list]:
    asked = set(addresses)
    if not asked:
        return {}
    candidates = logins.annotate(address=Lower("email")).filter(address__in={a.lower() for a in asked}).order_by("pk")
    found: dict[str, list] = defaultdict(list)
    for user in candidates:
        for address in asked:
            if _unicode_ci_compare(address, user.email):
                found[address].append(user)
    # One email goes to one address, exactly as a login stores it, never as it was typed: a look-alike typed
    # in the form must not receive someone else's link (Django's CVE-2019-19844).
    return {address: [u for u in users if u.email == users[0].email] for address, users in found.items()}


def sign_in_link_context(logins: list) -> dict:
    view, me = link_view(), reverse("web:me")
    return {
        "recipient_name": _names(user.employee.first_name for user in logins),
        "links": [{"name": user.employee.full_name, "url": sign_in_url(user, me, view=view)} for user in logins],
        "link_days": settings.SESAME_MAX_AGE.days,
    }


def password_reset_context(logins: list) -> dict:
    def url(user) -> str:
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
        return f"{settings.SITE_URL}{reverse('password_reset_confirm', kwargs={'uidb64': uid, 'token': token})}"

    return {
        "recipient_name": _names(user.first_name or user.get_username() for user in logins),
        "resets": [{"username": user.get_username(), "url": url(user)} for user in logins],
        "reset_days": max(settings.PASSWORD_RESET_TIMEOUT // 86400, 1),
    }


def _names(names: Iterable[str]) -> str:
    return " and ".join(dict.fromkeys(name for name in names if name))


def requests_allowed(*, purpose: str, email: str, client_address: str) -> bool:
    """At most SIGN_IN_LINK_REQUESTS per window, counted per client address and per address asked for.

    The address is counted as asked, known or not, so a refusal says nothing about who has a login.
    """
    return _allowed(f"{purpose}:ip:{client_address}") and _allowed(
        f"{purpose}:email:" + salted_hmac("sign-in-link-request", email.strip().lower()).hexdigest()
    )


def _allowed(key: str) -> bool:
    """A fixed-window counter in the cache (Redis; this process's memory while Redis is down)."""
    window = settings.SIGN_IN_LINK_REQUEST_WINDOW_MINUTES * 60
    cache_key = f"sign-in-link-request:{key}"
    cache.add(cache_key, 0, timeout=window)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window)
        count = 1
    return count <= settings.SIGN_IN_LINK_REQUESTS
