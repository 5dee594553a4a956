"""Issuing and revoking API tokens. The secret exists in clear only in the return value of api_token_issue."""

import datetime

from django.db import transaction

from apps.core import clock

from .models import ApiToken, hash_secret, new_secret

# Recording every request would turn each read into a write; this is precise enough to spot a dead integration.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=5)


def api_token_issue(*, name: str, user, created_by) -> tuple[ApiToken, str]:
    """A new token for `user`; returns it with its secret, which is never shown again."""
    secret = new_secret()
    token = ApiToken(
        name=name.strip(), user=user, key_hash=hash_secret(secret), key_hint=secret[:10], created_by=created_by
    )
    token.full_clean()
    with transaction.atomic():
        token.save()
    return token, secret


def api_token_revoke(*, token: ApiToken, revoked_by) -> ApiToken:
    """Stop the token working from the next request on. Revoking twice keeps the first revocation."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=clock.now(), revoked_by=revoked_by)
    token.refresh_from_db()
    return token


def api_token_authenticate(*, secret: str) -> ApiToken | None:
    """The active token with this secret and an active user, or None."""
    token = (
        ApiToken.objects.active()
        .select_related("user")
        .filter(key_hash=hash_secret(secret), user__is_active=True)
        .first()
    )
    if token is not None:
        now = clock.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
    return token
