"""A mail backend that fails on demand, for the delivery tests."""

from django.core.mail.backends import locmem


class FlakyBackend(locmem.EmailBackend):
    """locmem, but each `send_messages` call first takes the next entry of `script`: an exception
    to raise, or None to deliver. `open_error` makes opening the connection fail instead."""

    script: list = []
    open_error: Exception | None = None
    opened = 0

    @classmethod
    def reset(cls, script=(), open_error=None):
        cls.script = list(script)
        cls.open_error = open_error
        cls.opened = 0

    def open(self):
        if FlakyBackend.open_error is not None:
            raise FlakyBackend.open_error
        FlakyBackend.opened += 1
        return True

    def send_messages(self, messages):
        if FlakyBackend.script:
            outcome = FlakyBackend.script.pop(0)
            if outcome is not None:
                raise outcome
        return super().send_messages(messages)
