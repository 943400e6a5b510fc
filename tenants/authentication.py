"""REST API authentication by personal token: `Authorization: Token <key>`, as before, but the
keys are stored hashed, may expire, and die with the password they were created under.

Replaces DRF's TokenAuthentication (settings REST_FRAMEWORK), which keeps keys in clear.
"""

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from . import login_checks, selectors, services


class ApiTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str):
        token = selectors.api_token_by_key(key=key)
        # One message for unknown, expired and revoked keys: a caller learns nothing it can probe.
        refused = exceptions.AuthenticationFailed(
            _("This API token is not valid. Create a new one on your account page.")
        )
        if token is None or not token.user.is_active:
            raise refused
        now = timezone.now()
        if token.is_expired(now):
            raise refused
        if login_checks.refusal(token.user):
            # E.g. the temporary password ran out before it was changed: tokens made under it go too.
            services.api_tokens_revoke(user=token.user)
            raise refused
        services.api_token_touch(token=token, now=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword
