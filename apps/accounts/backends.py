"""Authentication backends: sign-in links for plain staff only."""

from sesame.backends import ModelBackend as SesameModelBackend

from .rules import is_plain_staff


class SignInLinkBackend(SesameModelBackend):
    """django-sesame's backend, refusing anyone but plain staff.

    Checked when the link is used, not only when the email is written: someone made a manager
    since the reminder went out can no longer use its link. Sessions it made are checked the same
    way on every request (get_user goes through user_can_authenticate), so promoting a person
    ends a session that a link opened.
    """

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and is_plain_staff(user)
