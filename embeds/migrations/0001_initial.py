# The embed models, moved here from congestion (congestion/migrations/0007_embeds_move_to_own_app.py
# dropped them from its state). State only: the tables keep their congestion_* names and their rows.
# The content types move with the models, so permissions and admin history stay attached.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import embeds.models

MOVED = ["embedsetting", "groupsite", "callcount", "quotanoticedismissal"]


def move_content_types(apps, schema_editor, old="congestion", new="embeds"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        if not ContentType.objects.using(db).filter(app_label=new, model=model).exists():
            ContentType.objects.using(db).filter(app_label=old, model=model).update(app_label=new)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, old="embeds", new="congestion")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("congestion", "0007_embeds_move_to_own_app"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("tenants", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="GroupSite",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "key",
                            models.CharField(
                                default=embeds.models.new_site_key, editable=False, max_length=64, unique=True
                            ),
                        ),
                        ("name", models.CharField(max_length=64, verbose_name="site name")),
                        (
                            "link_mode",
                            models.CharField(
                                choices=[
                                    ("qr_top", "QR code at the top"),
                                    ("qr_bottom", "QR code at the bottom"),
                                    ("button", "Link button"),
                                    ("none", "Not shown"),
                                ],
                                default="none",
                                max_length=16,
                                verbose_name="external link",
                            ),
                        ),
                        ("link_title", models.CharField(blank=True, max_length=64, verbose_name="link title")),
                        (
                            "link_description",
                            models.CharField(blank=True, max_length=200, verbose_name="link description"),
                        ),
                        ("link_url", models.URLField(blank=True, max_length=500, verbose_name="link URL")),
                        (
                            "show_visualization",
                            models.BooleanField(default=True, verbose_name="show the congestion image"),
                        ),
                        (
                            "show_prediction",
                            models.BooleanField(default=True, verbose_name="show the congestion prediction"),
                        ),
                        (
                            "initial_view",
                            models.CharField(
                                choices=[
                                    ("visualization", "Congestion image"),
                                    ("prediction", "Congestion prediction"),
                                ],
                                default="visualization",
                                max_length=16,
                                verbose_name="first view",
                            ),
                        ),
                        ("auto_refresh", models.BooleanField(default=True, verbose_name="refresh every minute")),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "group",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE, related_name="site", to="congestion.group"
                            ),
                        ),
                        (
                            "operator",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tenants.operator"
                            ),
                        ),
                    ],
                    options={
                        "db_table": "congestion_groupsite",
                    },
                ),
                migrations.CreateModel(
                    name="CallCount",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("month", models.DateField()),
                        ("count", models.BigIntegerField(default=0)),
                        ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "operator",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tenants.operator"
                            ),
                        ),
                    ],
                    options={
                        "db_table": "congestion_callcount",
                        "constraints": [
                            models.UniqueConstraint(fields=("operator", "month"), name="congestion_one_call_count")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="EmbedSetting",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "show_visualization",
                            models.BooleanField(default=True, verbose_name="show the congestion image"),
                        ),
                        (
                            "show_prediction",
                            models.BooleanField(default=True, verbose_name="show the congestion prediction"),
                        ),
                        (
                            "initial_view",
                            models.CharField(
                                choices=[
                                    ("visualization", "Congestion image"),
                                    ("prediction", "Congestion prediction"),
                                ],
                                default="visualization",
                                max_length=16,
                                verbose_name="first view",
                            ),
                        ),
                        (
                            "size_mode",
                            models.CharField(
                                choices=[
                                    ("fixed", "Fixed size (does not scale)"),
                                    ("scale_hd", "Scales with the page, at most HD size"),
                                    ("scale", "Scales with the page, no size limit"),
                                ],
                                default="fixed",
                                max_length=16,
                                verbose_name="size",
                            ),
                        ),
                        ("auto_refresh", models.BooleanField(default=True, verbose_name="refresh every minute")),
                        ("show_count", models.BooleanField(default=True, verbose_name="show the number of people")),
                        ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "congestion_camera",
                            models.OneToOneField(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="embed_setting",
                                to="congestion.congestioncamera",
                            ),
                        ),
                        (
                            "group",
                            models.OneToOneField(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="embed_setting",
                                to="congestion.group",
                            ),
                        ),
                        (
                            "operator",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tenants.operator"
                            ),
                        ),
                    ],
                    options={
                        "db_table": "congestion_embedsetting",
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("congestion_camera__isnull", False), ("group__isnull", True)),
                                    models.Q(("congestion_camera__isnull", True), ("group__isnull", False)),
                                    _connector="OR",
                                ),
                                name="congestion_embed_one_owner",
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="QuotaNoticeDismissal",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("month", models.DateField()),
                        ("at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "operator",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tenants.operator"
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "congestion_quotanoticedismissal",
                        "constraints": [
                            models.UniqueConstraint(fields=("user", "month"), name="congestion_one_notice_dismissal")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
