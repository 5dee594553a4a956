"""django-axes policy: lock the username attacked; stop an address only past a much higher ceiling.

Axes counts failures per lockout parameter with one limit. Locking by address with the per-user
limit would let five wrong passwords lock out everyone behind a hospital's NAT or the TLS proxy,
so failures with a username count against that username only (SIGN_IN_FAILURE_LIMIT), and the
address is checked separately against SIGN_IN_ADDRESS_CEILING summed over every username it tried
within the cool-off period. Attempts without a username (a sign-in link, single sign-on) count per
address, against the ceiling.
"""

from __future__ import annotations

import ipaddress

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum

from apps.core import clock


def client_ip(request) -> str | None:
    """The client's address behind TRUSTED_PROXY_COUNT proxies that each append to X-Forwarded-For.

    Counted from the right: entries to the left of the last N were written by the client and may be
    forged. (django-ipware was tried and dropped: its proxy_count expects the proxies themselves listed in the
    header, which a proxy using nginx's $proxy_add_x_forwarded_for does not do, so it read no address at all.)
    """
    remote = request.META.get("REMOTE_ADDR")
    hops = settings.TRUSTED_PROXY_COUNT
    if not hops:
        return remote
    chain = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    if len(chain) < hops:
        return remote
    try:
        return str(ipaddress.ip_address(chain[-hops]))
    except ValueError:
        return remote


def _has_username(request, credentials) -> bool:
    return bool(get_client_username(request, credentials))


def lockout_parameters(request, credentials) -> list:
    return ["username"] if _has_username(request, credentials) else ["ip_address"]


def failure_limit(request, credentials) -> int:
    if _has_username(request, credentials):
        return settings.SIGN_IN_FAILURE_LIMIT
    return settings.SIGN_IN_ADDRESS_CEILING


def address_failures(ip_address: str | None, request=None) -> int:
    """Failed sign-ins from this address within the cool-off period, whatever the username."""
    if not ip_address:
        return 0
    since = clock.now() - get_cool_off(request)
    total = AccessAttempt.objects.filter(ip_address=ip_address, attempt_time__gte=since).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    return total or 0


class UsernameLockoutHandler(AxesDatabaseHandler):
    def is_locked(self, request, credentials=None) -> bool:
        if super().is_locked(request, credentials):
            return True
        if address_failures(getattr(request, "axes_ip_address", None), request) >= settings.SIGN_IN_ADDRESS_CEILING:
            # The lockout page says why: not this account, but too many failures from this network.
            request.sign_in_address_locked = True
            # Axes flags the request itself only when the username's own count is over its limit.
            request.axes_locked_out = True
            return True
        return False
