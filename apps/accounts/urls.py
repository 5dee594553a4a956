"""Mounted under /accounts/ before django.contrib.auth's URLs, whose login and password reset these replace."""

from django.urls import path

from . import oidc, views

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("password_reset/", views.QueuedPasswordResetView.as_view(), name="password_reset"),
    path("link/", views.SignInLinkView.as_view(), name="sign_in_link"),
    path("link/request/", views.sign_in_link_request, name="sign_in_link_request"),
    path("link/sent/", views.sign_in_link_sent, name="sign_in_link_sent"),
    path("sso/", oidc.RosterAuthenticationRequestView.as_view(), name="oidc_authentication_init"),
    path("sso/callback/", oidc.RosterCallbackView.as_view(), name="oidc_authentication_callback"),
    path("sso/not-on-roster/", views.not_on_roster, name="not_on_roster"),
]
