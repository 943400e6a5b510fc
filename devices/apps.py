from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = _("Devices")

    def ready(self) -> None:
        # The media workers (Django-free) connect through workers.netpolicy: give it this deployment's
        # allowed networks, now and whenever a test overrides the setting.
        from django.core.signals import setting_changed

        from .outbound import configure_from_settings, on_setting_changed

        configure_from_settings()
        setting_changed.connect(on_setting_changed, dispatch_uid="devices.outbound")
