"""A newly registered camera takes one of its operator's free licenses in the same transaction.

devices.services.camera_register checks first (licensing.selectors.camera_license_require, through
devices.hooks) that one is available; this binds it, whatever path created the camera.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from devices.models import Device, DeviceKind


@receiver(post_save, sender=Device, dispatch_uid="licensing.bind_new_camera")
def bind_new_camera(sender, instance: Device, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw and instance.kind == DeviceKind.CAMERA:
        from .services import license_bind_new_camera

        license_bind_new_camera(device=instance)
