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
