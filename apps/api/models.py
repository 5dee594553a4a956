import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

TOKEN_PREFIX = "ct_"


def hash_secret(secret: str) -> str:
    # The secret is 256 random bits: a fast hash is enough, and a lookup by hash needs it deterministic.
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A bearer token one integration (an HR system, a scheduler, a training platform) uses to call the API.

    Only the SHA-256 of the secret is stored: HR sees the secret once, when issuing it. The token
    acts as `user`, with exactly that user's permissions and scope, and the history records that
    user as the author of its writes: give each integration its own service account.
    """

    name = models.CharField(max_length=100, help_text="Which integration uses it, e.g. 'Workday nightly sync'.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text="The account the integration acts as: it gets this user's permissions and scope.",
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_hint = models.CharField(
        max_length=12, editable=False, help_text="The start of the secret, to tell tokens apart in logs."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(revoked_at__isnull=True),
                name="apitoken_one_active_per_name",
                violation_error_message="An active token with this name exists; revoke it first or pick another name.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.key_hint}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
