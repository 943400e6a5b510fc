"""A database made before embeds became an app migrates forward with nothing lost.

The embed models moved from congestion to embeds by state only (the tables keep their congestion_*
names). This test goes back to the schema of the previous main (congestion 0006, no embeds app),
writes embed rows there through the models of that time, migrates forward and reads them back
through embeds.models and the embeds code, with their content type's permissions still attached.
"""

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from embeds import quota, selectors
from embeds.models import CallCount, EmbedSetting, GroupSite, QuotaNoticeDismissal

BEFORE_THE_MOVE = [("congestion", "0006_group_default_passes_on")]
MOVED = ["embedsetting", "groupsite", "callcount", "quotanoticedismissal"]
SITE_KEY = "k" * 32


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


def _latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.fixture
def back_to_before_the_move(transactional_db):
    latest = _latest()
    executor = _migrate(BEFORE_THE_MOVE)
    yield executor.loader.project_state(BEFORE_THE_MOVE).apps
    _migrate(latest)  # whatever happened, leave the database as the other tests expect it


def test_embed_rows_of_the_previous_schema_survive_the_move(alpha, cc, group, back_to_before_the_move):
    old = back_to_before_the_move
    assert not old.is_installed("embeds")

    old_setting = old.get_model("congestion", "EmbedSetting")
    old_setting.objects.create(
        operator_id=alpha.operator.pk, congestion_camera_id=cc.pk, size_mode="scale", show_count=False
    )
    old_setting.objects.create(operator_id=alpha.operator.pk, group_id=group.pk, initial_view="prediction")
    old.get_model("congestion", "GroupSite").objects.create(
        operator_id=alpha.operator.pk, group_id=group.pk, key=SITE_KEY, name="Lobby site", link_mode="button",
        link_title="Menu", link_url="https://example.com/menu",
    )  # fmt: skip
    old.get_model("congestion", "CallCount").objects.create(
        operator_id=alpha.operator.pk, month=quota.month_of(), count=1234
    )
    old.get_model("congestion", "CallCount").objects.create(
        operator_id=alpha.operator.pk, month=date(2024, 5, 1), count=99
    )
    old.get_model("congestion", "QuotaNoticeDismissal").objects.create(
        operator_id=alpha.operator.pk, user_id=alpha.admin.pk, month=date(2024, 5, 1)
    )
    # The content types as the previous main had them (never an embeds one), a permission granted through one.
    ContentType.objects.filter(app_label="embeds", model__in=MOVED).update(app_label="congestion")
    old_types = {ct.model: ct.pk for ct in ContentType.objects.filter(app_label="congestion", model__in=MOVED)}
    assert set(old_types) == set(MOVED)
    assert not ContentType.objects.filter(app_label="embeds").exists()
    permission = Permission.objects.get(content_type_id=old_types["groupsite"], codename="change_groupsite")
    alpha.admin.user_permissions.add(permission)

    _migrate(_latest())

    camera_setting = EmbedSetting.objects.get(congestion_camera=cc)
    assert (camera_setting.size_mode, camera_setting.show_count, camera_setting.operator_id) == (
        "scale", False, alpha.operator.pk,
    )  # fmt: skip
    assert EmbedSetting.objects.get(group=group).initial_view == "prediction"
    site = GroupSite.objects.get(group=group)
    assert (site.key, site.name, site.link_url) == (SITE_KEY, "Lobby site", "https://example.com/menu")
    assert selectors.site_by_key(SITE_KEY) == site  # the public URL pasted elsewhere still answers
    assert selectors.embed_target(cc.embed_key).options.size_mode == "scale"
    assert sorted(CallCount.objects.filter(operator=alpha.operator).values_list("count", flat=True)) == [99, 1234]
    assert quota.used(alpha.operator.pk) >= 1234  # counting resumes from the stored row
    assert QuotaNoticeDismissal.objects.filter(user=alpha.admin, month=date(2024, 5, 1)).exists()
    # Same content type rows, now the embeds app's: permissions and admin history stay attached.
    new_types = {ct.model: ct.pk for ct in ContentType.objects.filter(app_label="embeds", model__in=MOVED)}
    assert new_types == old_types
    assert not ContentType.objects.filter(app_label="congestion", model__in=MOVED).exists()
    alpha.admin.refresh_from_db()
    assert alpha.admin.has_perm("embeds.change_groupsite")
