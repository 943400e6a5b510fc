from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = _("Devices")

    def ready(self) -> None:
        # The media workers (Django-free) connect through workers.netpolicy: give it this deployment's
        # allowed networks, now and whenever a test overrides the setting.
        from django.core.signals import setting_changed

        from buildings import hooks as buildings_hooks

        from .outbound import configure_from_settings, on_setting_changed
        from .selectors import visible_device_ids

        configure_from_settings()
        setting_changed.connect(on_setting_changed, dispatch_uid="devices.outbound")
        # A limited user sees the buildings and rooms of the devices visible to them (buildings/hooks.py).
        buildings_hooks.set_visible_devices(visible_device_ids)
        self._forget_camera_orders_on_change()

    @staticmethod
    def _forget_camera_orders_on_change() -> None:
        """The camera list keeps its order between requests (devices/camera_order.py): what a camera's
        place or presence in it depends on forgets it. Shares are sharing's (sharing/apps.py)."""
        from django.db.models.signals import post_delete, post_save

        from buildings.models import Building, Room
        from tenants.models import Operator

        from . import camera_order
        from .models import Device

        post_save.connect(camera_order.on_device_saved, sender=Device, dispatch_uid="camera_order.device")
        post_delete.connect(camera_order.on_changed, sender=Device, dispatch_uid="camera_order.device_gone")
        for model in (Room, Building):
            uid = f"camera_order.{model.__name__}"
            post_save.connect(camera_order.on_changed, sender=model, dispatch_uid=uid)
            post_delete.connect(camera_order.on_changed, sender=model, dispatch_uid=f"{uid}_gone")
        # A new operator's list is empty, but its id may be one a deleted operator's kept list was named by.
        post_save.connect(camera_order.on_operator_saved, sender=Operator, dispatch_uid="camera_order.operator")
        post_delete.connect(camera_order.on_changed, sender=Operator, dispatch_uid="camera_order.operator_gone")
