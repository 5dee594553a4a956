from django import forms
from django.contrib.auth.forms import PasswordResetForm


class SignInLinkRequestForm(forms.Form):
    email = forms.EmailField(
        label="Your work email address", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's reset form, with the lookup and the sending moved to a Celery worker.

    Sending inline took visibly longer for a known address than for an unknown one, so the answer's
    timing told anyone which addresses have a login. The page now answers at once for every address.
    """

    def save(self, *args, **kwargs):
        from django.db import transaction

        from .tasks import email_password_reset

        email = self.cleaned_data["email"]
        transaction.on_commit(lambda: email_password_reset.delay(email))
