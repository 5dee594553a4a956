from django import forms


class SignInLinkRequestForm(forms.Form):
    email = forms.EmailField(
        label="Your work email address", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
