from django.apps import AppConfig


class RecordingConfig(AppConfig):
    name = "recording"

    def ready(self) -> None:
        from buildings import hooks as building_hooks
        from devices import hooks as device_hooks

        from . import (
            signals,  # noqa: F401  (connects the receivers)
            trouble,
        )

        # recording sits above devices: the device pages get its trouble probe and a camera's
        # recording conditions through devices/hooks.py.
        device_hooks.set_trouble_probe(lambda *, camera: trouble.camera_trouble_refresh(camera=camera))
        device_hooks.register_camera_context(_camera_conditions)
        # Deleting a building, room or device deletes its cameras' media: the confirmation says what.
        building_hooks.set_media_summary(_media_delete_summary)


def _camera_conditions(*, operator, camera) -> dict:
    from .selectors import conditions_in_force

    return {"conditions": conditions_in_force(operator=operator, camera=camera)}


def _media_delete_summary(**scope) -> dict:
    from .media_selectors import media_delete_summary

    return media_delete_summary(**scope)
