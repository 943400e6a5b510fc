"""Model fields shared by the apps."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


def _fernet() -> Fernet:
    key = settings.FIELD_ENCRYPTION_KEY
    if not key:
        # Development default: derived from SECRET_KEY so a demo needs no extra setting.
        # Production refuses to start without FIELD_ENCRYPTION_KEY (settings/prod.py).
        digest = hashlib.sha256(("field-encryption:" + settings.SECRET_KEY).encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key.encode() if isinstance(key, str) else key)


class EncryptedTextField(models.TextField):
    """A text column stored encrypted (Fernet). Reads return plain text; the database never sees it.

    Values are write-only in every form and serializer: pages show "set" / "not set", never the value.
    """

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return _fernet().encrypt(value.encode()).decode()

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        try:
            return _fernet().decrypt(value.encode()).decode()
        except InvalidToken:
            # A rotated key must not crash list pages; the secret is simply unusable until re-entered.
            return ""
