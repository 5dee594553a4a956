"""A small OpenID Connect provider (django-oidc-provider) for the single sign-on test: the organisation's IdP.

Run by `python -m tests.idp.serve PORT REDIRECT_URI` on loopback, with its own SQLite database.
"""

import os
from pathlib import Path

SECRET_KEY = "idp-test-only-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.idp.urls"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oidc_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["IDP_DATABASE"]}}
# A throwaway database: tables straight from the models, no migration history to replay (seconds saved).
MIGRATION_MODULES = dict.fromkeys(("auth", "contenttypes", "sessions", "oidc_provider"))
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The IdP and credtrack both run on 127.0.0.1, and browsers share cookies across ports.
SESSION_COOKIE_NAME = "idp_session"
CSRF_COOKIE_NAME = "idp_csrf"
LOGIN_URL = "/login/"
SITE_URL = os.environ["IDP_SITE_URL"]
OIDC_USERINFO = "tests.idp.settings.userinfo"


def userinfo(claims, user):
    claims["email"] = user.email
    claims["email_verified"] = True
    claims["given_name"] = user.first_name
    claims["family_name"] = user.last_name
    claims["name"] = user.get_full_name()
    return claims
