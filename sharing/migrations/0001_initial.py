# The share and camera-limit models move here from devices (devices/0005_sharing_moves_out) with
# their tables as they are: the state is created, the database is not touched (db_table keeps the
# old names, and the many-to-many tables of UserCameraScope follow from it). The content types
# change app so permissions and admin history that point at them are kept.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MOVED = ("camerashare", "shareauditevent", "usercamerascope")


def _relabel(apps, old: str, new: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        # A fresh database has none yet (post_migrate creates them); one already under the new
        # label is left alone rather than broken by a duplicate.
        if not content_type.objects.filter(app_label=new, model=model).exists():
            content_type.objects.filter(app_label=old, model=model).update(app_label=new)


def content_types_forward(apps, schema_editor) -> None:
    _relabel(apps, "devices", "sharing")


def content_types_back(apps, schema_editor) -> None:
    _relabel(apps, "sharing", "devices")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("buildings", "0002_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("devices", "0005_sharing_moves_out"),
        ("tenants", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="CameraShare",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("requested", "Waiting for approval"),
                                    ("approved", "Shared"),
                                    ("declined", "Declined"),
                                    ("cancelled", "Cancelled by the owner"),
                                    ("removed", "Removed by the receiver"),
                                ],
                                db_index=True,
                                default="requested",
                                max_length=16,
                                verbose_name="status",
                            ),
                        ),
                        ("requested_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("decided_at", models.DateTimeField(blank=True, null=True)),
                        ("ended_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "camera",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="shares",
                                to="devices.device",
                                verbose_name="camera",
                            ),
                        ),
                        (
                            "decided_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "ended_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "operator",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tenants.operator"
                            ),
                        ),
                        (
                            "receiver",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="tenants.operator",
                                verbose_name="shared with",
                            ),
                        ),
                        (
                            "requested_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "camera share",
                        "verbose_name_plural": "camera shares",
                        "db_table": "devices_camerashare",
                        "ordering": ["-requested_at", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="ShareAuditEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "action",
                            models.CharField(
                                choices=[
                                    ("request", "Requested"),
                                    ("approve", "Approved"),
                                    ("decline", "Declined"),
                                    ("cancel", "Cancelled"),
                                    ("remove", "Removed"),
                                ],
                                max_length=16,
                                verbose_name="action",
                            ),
                        ),
                        ("at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ("actor_name", models.CharField(blank=True, max_length=254)),
                        ("actor_operator_name", models.CharField(blank=True, max_length=200)),
                        ("camera_name", models.CharField(blank=True, max_length=64)),
                        (
                            "actor",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "operator",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tenants.operator"
                            ),
                        ),
                        (
                            "receiver",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tenants.operator"
                            ),
                        ),
                        (
                            "share",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="events",
                                to="sharing.camerashare",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "devices_shareauditevent",
                        "ordering": ["-at", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="UserCameraScope",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "cameras",
                            models.ManyToManyField(
                                blank=True, related_name="+", to="devices.device", verbose_name="cameras"
                            ),
                        ),
                        (
                            "operator",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tenants.operator"
                            ),
                        ),
                        (
                            "rooms",
                            models.ManyToManyField(
                                blank=True, related_name="+", to="buildings.room", verbose_name="rooms"
                            ),
                        ),
                        (
                            "updated_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="camera_scope",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "camera access limit",
                        "verbose_name_plural": "camera access limits",
                        "db_table": "devices_usercamerascope",
                    },
                ),
                migrations.AddConstraint(
                    model_name="camerashare",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("status__in", ["requested", "approved"])),
                        fields=("camera", "receiver"),
                        name="one_open_share_per_camera_and_receiver",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="camerashare",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("operator", models.F("receiver")), _negated=True),
                        name="share_not_to_oneself",
                    ),
                ),
            ],
        ),
        migrations.RunPython(content_types_forward, content_types_back),
    ]
