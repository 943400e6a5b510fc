from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmbedsConfig(AppConfig):
    name = "embeds"
    verbose_name = _("Embeds")

    def ready(self) -> None:
        # Connected here, once the registry is full: the receiver reaches the services, which need models.
        from django.contrib.auth.signals import user_logged_in

        from .services import on_user_logged_in

        user_logged_in.connect(on_user_logged_in, dispatch_uid="embeds.quota_login_notice")
