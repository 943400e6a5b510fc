from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("recording", "0008_m1_mail_cooldown"),
    ]

    operations = [
        migrations.AddField(
            model_name="troublerefresh",
            name="skipped",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
