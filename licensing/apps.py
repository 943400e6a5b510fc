from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicensingConfig(AppConfig):
    name = "licensing"
    verbose_name = _("Licensing")

    def ready(self) -> None:
        from devices import hooks as device_hooks
        from tenants import login_checks

        from . import signals  # noqa: F401
        from .auth import temporary_password_refusal
        from .selectors import camera_license_require, maintenance_refusal

        # licensing sits above tenants and devices: it hands them its rules through their hooks.
        login_checks.register(temporary_password_refusal)
        device_hooks.register_camera_check(camera_license_require)
        device_hooks.register_maintenance_check(maintenance_refusal)
