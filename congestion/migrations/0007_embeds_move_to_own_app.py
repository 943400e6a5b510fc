# The embed models moved to the embeds app (embeds/migrations/0001_initial.py takes them over).
# State only: the tables keep their names and their rows; nothing runs in the database.

from django.db import migrations

MOVED = ["EmbedSetting", "GroupSite", "CallCount", "QuotaNoticeDismissal"]


class Migration(migrations.Migration):
    dependencies = [
        ("congestion", "0006_group_default_passes_on"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name=name) for name in MOVED],
            database_operations=[],
        ),
    ]
