from django.apps import AppConfig


class RecordingConfig(AppConfig):
    name = "recording"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the receivers)
