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
