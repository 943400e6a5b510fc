from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SharingConfig(AppConfig):
    name = "sharing"
    verbose_name = _("Camera sharing")

    def ready(self) -> None:
        # devices owns the one visibility selector but sits below sharing, so it cannot import the
        # shares and per-user limits; sharing hands them over here (devices/visibility.py says why).
        from devices import visibility

        from .selectors import shared_camera_ids, user_camera_limit

        visibility.install(visibility.Rules(shared_camera_ids=shared_camera_ids, user_limit=user_camera_limit))
        # A share approved, cancelled or gone adds or takes a camera from the receiver's list, which
        # keeps its order between requests (devices/camera_order.py).
        from django.db.models.signals import post_delete, post_save

        from devices import camera_order

        from .models import CameraShare

        post_save.connect(camera_order.on_changed, sender=CameraShare, dispatch_uid="camera_order.share")
        post_delete.connect(camera_order.on_changed, sender=CameraShare, dispatch_uid="camera_order.share_gone")
