"""Personal sign-in links for the emails that ask staff to act (django-sesame tokens).

A link is `SITE_URL/accounts/link/?sesame=<token>&next=<page>`. The token is signed with the
secret key and carries the login, a timestamp and a hash of the password (and the email address):
it expires after SIGN_IN_LINK_DAYS, and dies when the login is deactivated (its password hash is
replaced then), when the password or the address changes. It works only at the link view (its
scope), which signs in plain staff only and redirects at once to the clean page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from sesame.utils import get_token

SCOPE = "staff-sign-in-link"


def sign_in_url(user, next_path: str) -> str:
    """An absolute link that signs `user` in and opens `next_path`; for plain staff only (rules.plain_staff)."""
    query = urlencode({settings.SESAME_TOKEN_NAME: get_token(user, scope=SCOPE), "next": next_path})
    return f"{settings.SITE_URL}{reverse('sign_in_link')}?{query}"
