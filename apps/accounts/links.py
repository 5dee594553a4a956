"""Personal sign-in links for the emails that ask staff to act (django-sesame tokens).

A link is `SITE_URL/accounts/link/?sesame=<token>&next=<page>`. The token is signed with the
secret key and carries the login, a timestamp and a hash of the password (and the email address):
it expires after SIGN_IN_LINK_DAYS, and dies when the login is deactivated (its password hash is
replaced then), when the password or the address changes. It works only at the link view (its
scope), which signs in plain staff only and redirects at once to the clean page.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import F
from django.urls import reverse
from sesame.utils import get_token

from .rules import plain_staff

SCOPE = "staff-sign-in-link"


def sign_in_url(user, next_path: str, *, view: str | None = None) -> str:
    """An absolute link that signs `user` in and opens `next_path`; for plain staff only (rules.plain_staff).

    `view` is the link view's path (`link_view()`), for a caller making many links: reversing it each time
    cost more than the token.
    """
    query = urlencode({settings.SESAME_TOKEN_NAME: get_token(user, scope=SCOPE), "next": next_path})
    return f"{settings.SITE_URL}{view or link_view()}?{query}"


def link_view() -> str:
    return reverse("sign_in_link")


def link_logins(employee_ids: Iterable[int]) -> dict[int, object]:
    """The logins a sign-in link may be made for, by employee id: one query for a whole batch of emails.

    Everyone else (HR, managers, people without a login) gets the plain page address instead.
    """
    ids = [pk for pk in set(employee_ids) if pk]
    if not ids:
        return {}
    users = plain_staff().filter(employee__pk__in=ids).annotate(employee_pk=F("employee__pk"))
    return {user.employee_pk: user for user in users}


def action_url(user, path: str, *, view: str | None = None) -> str:
    """The address an email's button opens: a personal sign-in link for plain staff, the page itself otherwise."""
    return sign_in_url(user, path, view=view) if user is not None else f"{settings.SITE_URL}{path}"


def upload_path(certification_type_id: int | None = None) -> str:
    path = reverse("web:upload_proof")
    return f"{path}?{urlencode({'certification': certification_type_id})}" if certification_type_id else path
