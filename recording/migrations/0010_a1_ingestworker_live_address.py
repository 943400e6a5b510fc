from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("recording", "0009_m2_trouble_refresh_skipped"),
    ]

    operations = [
        migrations.AddField(
            model_name="ingestworker",
            name="live_address",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
    ]
