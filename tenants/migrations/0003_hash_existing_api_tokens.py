"""Existing DRF tokens (stored in clear by rest_framework.authtoken) become hashed ApiTokens.

A program that already sends `Authorization: Token <key>` keeps working: its key is hashed here
exactly as tenants.models.ApiToken.hash_key hashes a new one, and the clear copy is deleted."""

import hashlib

from django.db import migrations


def hash_tokens(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("tenants", "ApiToken")
    for token in Token.objects.select_related("user").iterator():
        ApiToken.objects.create(
            operator_id=token.user.operator_id,
            user_id=token.user_id,
            name="API token",
            key_hash=hashlib.sha256(token.key.encode()).hexdigest(),
            prefix=token.key[:8],
            created_at=token.created,
        )
    Token.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0002_login_hardening_and_hashed_api_tokens"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    # Not reversible into clear keys; going back leaves the hashed tokens unused.
    operations = [migrations.RunPython(hash_tokens, migrations.RunPython.noop)]
