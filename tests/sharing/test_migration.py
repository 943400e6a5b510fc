"""A database from before sharing became an app of its own migrates forward with nothing lost.

The shares, their audit events and the per-user camera limits were `devices` models; migrating
moves them to `sharing` without touching their tables. This test takes the database back to the
last migration before the move, writes rows through the models as they were then (devices'),
migrates forward and reads the same rows through `sharing.models`. The content types move too, so
a permission given on the old one still points at the new one.
"""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sharing.models import CameraShare, ShareAction, ShareAuditEvent, ShareStatus, UserCameraScope
from tests.conftest import build_tenant
from tests.sharing.conftest import second_room

BEFORE_THE_MOVE = [("devices", "0004_device_channel_once"), ("contenttypes", "0002_remove_content_type_name")]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)  # a fresh loader sees what is applied now


def _latest() -> list:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_shares_scopes_and_audit_made_in_devices_are_read_through_sharing():
    alpha, bravo = build_tenant("Alpha", "mig-alpha"), build_tenant("Bravo", "mig-bravo")
    room, camera = second_room(alpha)
    try:
        executor = _migrate(BEFORE_THE_MOVE)
        old = executor.loader.project_state(BEFORE_THE_MOVE).apps
        assert ("sharing", "0001_initial") not in executor.loader.applied_migrations
        old_share = old.get_model("devices", "CameraShare")
        old_event = old.get_model("devices", "ShareAuditEvent")
        old_scope = old.get_model("devices", "UserCameraScope")
        old_content_type = old.get_model("contenttypes", "ContentType")

        share = old_share.objects.create(
            operator_id=alpha.operator.pk,
            receiver_id=bravo.operator.pk,
            camera_id=alpha.camera.pk,
            status="approved",
            requested_by_id=alpha.admin.pk,
            decided_by_id=bravo.admin.pk,
        )
        old_share.objects.create(
            operator_id=alpha.operator.pk, receiver_id=bravo.operator.pk, camera_id=camera.pk, status="cancelled"
        )
        old_event.objects.create(
            operator_id=alpha.operator.pk,
            receiver_id=bravo.operator.pk,
            share_id=share.pk,
            action="approve",
            actor_id=bravo.admin.pk,
            actor_name="Bravo admin",
            camera_name="Alpha Cam",
        )
        scope = old_scope.objects.create(operator_id=alpha.operator.pk, user_id=alpha.viewer.pk)
        scope.rooms.add(room.pk)
        scope.cameras.add(alpha.camera.pk)
        share_type = old_content_type.objects.get_or_create(app_label="devices", model="camerashare")[0]
        permission = Permission.objects.create(content_type_id=share_type.pk, codename="audit_share", name="audit")
    finally:
        _migrate(_latest())

    moved = CameraShare.objects.get(pk=share.pk)
    assert (moved.operator, moved.receiver, moved.camera) == (alpha.operator, bravo.operator, alpha.camera)
    assert moved.status == ShareStatus.APPROVED and moved.is_open
    assert (moved.requested_by, moved.decided_by) == (alpha.admin, bravo.admin)
    assert list(CameraShare.objects.order_by("pk").values_list("camera", "status")) == [
        (alpha.camera.pk, "approved"),
        (camera.pk, "cancelled"),
    ]
    event = ShareAuditEvent.objects.get(share=moved)
    assert (event.action, event.actor, event.camera_name) == (ShareAction.APPROVE, bravo.admin, "Alpha Cam")
    limit = UserCameraScope.objects.get(user=alpha.viewer)
    assert list(limit.rooms.all()) == [room] and list(limit.cameras.all()) == [alpha.camera]
    assert alpha.viewer.camera_scope == limit
    assert ContentType.objects.get_for_model(CameraShare).pk == share_type.pk
    assert Permission.objects.get(pk=permission.pk).content_type.app_label == "sharing"
    assert not ContentType.objects.filter(app_label="devices", model__in=["camerashare", "usercamerascope"]).exists()
