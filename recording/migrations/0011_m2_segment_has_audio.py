from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("recording", "0010_a1_ingestworker_live_address"),
    ]

    operations = [
        migrations.AddField(
            model_name="recordingsegment",
            name="has_audio",
            field=models.BooleanField(blank=True, null=True),
        ),
    ]
