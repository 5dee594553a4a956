"""Mounted under /accounts/ before django.contrib.auth's URLs, whose login this replaces. The pages that ask for a
link or a password reset by email are the web app's (credtrack/urls.py mounts them here too)."""

from django.urls import path

from . import oidc, views

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("link/", views.SignInLinkView.as_view(), name="sign_in_link"),
    path("link/sent/", views.sign_in_link_sent, name="sign_in_link_sent"),
    path("sso/", oidc.RosterAuthenticationRequestView.as_view(), name="oidc_authentication_init"),
    path("sso/callback/", oidc.RosterCallbackView.as_view(), name="oidc_authentication_callback"),
    path("sso/not-on-roster/", views.not_on_roster, name="not_on_roster"),
]
