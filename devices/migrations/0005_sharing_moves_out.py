# The share and camera-limit models moved to the sharing app (sharing/0001_initial); their tables stay
# where they are, with the same names, so only Django's idea of which app holds them changes here.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0004_device_channel_once"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ShareAuditEvent"),
                migrations.DeleteModel(name="CameraShare"),
                migrations.DeleteModel(name="UserCameraScope"),
            ],
            database_operations=[],
        ),
    ]
