"""A deleted camera takes its stored files with it, once the deletion has committed."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from devices.models import Device, DeviceKind

from . import tasks


@receiver(post_delete, sender=Device, dispatch_uid="recording.camera_media_purge")
def purge_media_of_deleted_camera(sender, instance: Device, **kwargs) -> None:
    if instance.kind != DeviceKind.CAMERA:
        return
    operator_id, camera_id = instance.operator_id, instance.pk
    transaction.on_commit(lambda: tasks.purge_camera_media.delay(operator_id, camera_id))
