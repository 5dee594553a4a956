"""Single sign-on with the organisation's OpenID Connect provider (Entra ID, Okta, ADFS, Keycloak...).

mozilla-django-oidc does the protocol (authorisation code with PKCE, state, nonce, signed ID token).
What is ours: the endpoints come from the provider's discovery document, and only people on the
roster get in. A person is matched by one claim (OIDC_MATCH_CLAIM, e.g. `email` or an employee-id
claim) against one employee field (OIDC_MATCH_FIELD), among employees still employed who have a
login; nobody else is let in and no login is ever made here: they see "not on the roster".
Optionally, membership of OIDC_HR_GROUP in the groups claim makes the person an HR admin.
"""

from __future__ import annotations

import logging

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from apps.core import clock
from apps.organisation.models import Employee
from apps.organisation.scoping import HR_PERMISSION

from .provisioning import left_before

logger = logging.getLogger(__name__)

# Which key of the discovery document holds each endpoint mozilla-django-oidc asks for.
DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
DISCOVERY_CACHE_SECONDS = 3600
HR_GROUP_NAME = "HR (from single sign-on)"


def discovery() -> dict:
    """The provider's discovery document, fetched once an hour at most (and never at start-up)."""
    url = settings.OIDC_DISCOVERY_URL
    key = f"oidc-discovery:{url}"
    document = cache.get(key)
    if document is None:
        response = requests.get(url, timeout=10)
        response.raise_for_status()
        document = response.json()
        cache.set(key, document, DISCOVERY_CACHE_SECONDS)
    return document


def oidc_setting(attr, *args):
    """Settings first, then the discovery document for an endpoint the environment did not give."""
    if attr in DISCOVERED and not hasattr(settings, attr) and getattr(settings, "OIDC_DISCOVERY_URL", ""):
        try:
            return discovery()[DISCOVERED[attr]]
        except (requests.RequestException, ValueError, KeyError) as error:
            raise ImproperlyConfigured(f"OIDC discovery at {settings.OIDC_DISCOVERY_URL} failed: {error}") from error
    return import_from_settings(attr, *args)


class RosterOIDCBackend(OIDCAuthenticationBackend):
    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        # Django makes every backend for every sign-in, passwords included. The library's set-up reads the
        # endpoints (here: discovery, over the network), so it waits until a callback really needs it:
        # a password sign-in must work while the provider is down.
        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        if request is None or "nonce" not in kwargs:
            return None
        super().__init__()
        return super().authenticate(request, **kwargs)

    def verify_claims(self, claims):
        return bool(claims.get(settings.OIDC_MATCH_CLAIM))

    def filter_users_by_claims(self, claims):
        value = str(claims.get(settings.OIDC_MATCH_CLAIM, "")).strip()
        match = {f"{settings.OIDC_MATCH_FIELD}__iexact": value}
        employees = Employee.objects.filter(**match, user__isnull=False).exclude(left_before(clock.today()))
        users = self.UserModel.objects.filter(employee__in=employees, is_active=True)
        if value and not users.exists():
            logger.info("single sign-on refused: %s=%r is not on the roster", settings.OIDC_MATCH_CLAIM, value)
            self.request.sso_not_on_roster = True
        return users

    def create_user(self, claims):
        # OIDC_CREATE_USER is False; this stays in case it is ever switched on by mistake.
        return None

    def update_user(self, user, claims):
        hr_group = settings.OIDC_HR_GROUP
        if hr_group:
            groups = claims.get(settings.OIDC_GROUPS_CLAIM) or []
            group = _hr_group()
            if hr_group in groups:
                user.groups.add(group)
            else:
                user.groups.remove(group)
        return user

    def get_user(self, user_id):
        # The library's get_user ignores is_active: a deactivated leaver's session must end here too.
        user = super().get_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def user_can_authenticate(self, user):
        return getattr(user, "is_active", True)


def _hr_group() -> Group:
    group, created = Group.objects.get_or_create(name=HR_GROUP_NAME)
    if created:
        app_label, codename = HR_PERMISSION.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return group


class RosterAuthenticationRequestView(OIDCAuthenticationRequestView):
    get_settings = staticmethod(oidc_setting)

    def dispatch(self, request, *args, **kwargs):
        if not settings.OIDC_ENABLED:
            raise Http404("Single sign-on is not set up here.")
        return super().dispatch(request, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        # The library reads the endpoint when the view is made; without single sign-on there is none.
        if settings.OIDC_ENABLED:
            super().__init__(*args, **kwargs)
        else:
            super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)


class RosterCallbackView(OIDCAuthenticationCallbackView):
    get_settings = staticmethod(oidc_setting)

    def dispatch(self, request, *args, **kwargs):
        if not settings.OIDC_ENABLED:
            raise Http404("Single sign-on is not set up here.")
        return super().dispatch(request, *args, **kwargs)

    @property
    def failure_url(self):
        if getattr(self.request, "sso_not_on_roster", False):
            return reverse("not_on_roster")
        return reverse("login") + "?sso=failed"
