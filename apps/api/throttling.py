from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiToken


class ClientRateThrottle(SimpleRateThrottle):
    """One budget per API token, else per logged-in user, else per IP address.

    Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] under "token", "user" and "anon". Each
    integration gets its own budget even when several act as the same service account.
    """

    def __init__(self):
        # The scope depends on how the request authenticated: it is chosen in allow_request.
        pass

    def allow_request(self, request, view):
        if isinstance(getattr(request, "auth", None), ApiToken):
            self.scope, ident = "token", request.auth.pk
        elif request.user and request.user.is_authenticated:
            self.scope, ident = "user", request.user.pk
        else:
            self.scope, ident = "anon", self.get_ident(request)
        self.ident = ident
        # Read at request time, not import time, so a changed setting (tests, a reload) takes effect.
        self.rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.ident}
