from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Installed by the dev and test settings only (portal/settings/dev.py, test.py)."""

    name = "demo"
    verbose_name = "Demo and test world"
