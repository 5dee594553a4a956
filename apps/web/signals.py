"""A word on signing in and out, like after every other action."""

from django.contrib import messages
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver


@receiver(user_logged_in)
def welcome(sender, request, user, **kwargs):
    # fail_silently: logins made outside a browser request (tests, the shell) have no message storage.
    messages.info(request, f"Signed in as {user.get_username()}.", fail_silently=True)


@receiver(user_logged_out)
def goodbye(sender, request, user, **kwargs):
    if request is not None:
        messages.info(
            request, "You are signed out. Close the browser if this is a shared computer.", fail_silently=True
        )
