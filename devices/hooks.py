"""What the apps above devices add to its writes and pages, so that devices imports none of them.

devices sits under licensing and recording in the layering (docs/development.md). Those apps hand
their part over from their AppConfig.ready(), which Django runs before any request, task or command:

- a check on every new camera (`register_camera_check`): licensing's free, assigned license
  (docs/product.md §7). `camera_register` and `channel_add` call `camera_allowed` before they write;
  a check raises ValidationError to refuse;
- the probe behind "refresh trouble info" (`set_trouble_probe`): recording's check of the camera's
  stream (recording/trouble.py); its answer has `message`, `checked` and `problem`;
- what the page of an own camera shows beside its settings (`register_camera_context`): recording's
  recording conditions;
- a check before remote maintenance of a device (`register_maintenance_check`): licensing refuses the
  trouble refresh, exchange and stream settings of a camera whose license expired or is missing
  (docs/product.md §7.8); a check returns the reason to show, "" when allowed.
Devices alone is consistent: no check, no probe, nothing added.
"""

from collections.abc import Callable

_camera_checks: list[Callable[..., None]] = []
_camera_contexts: list[Callable[..., dict]] = []
_trouble_probe: list[Callable] = []
_maintenance_checks: list[Callable[..., str]] = []


def register_camera_check(check: Callable[..., None]) -> None:
    """`check(operator=…, behind_recorder=…)` raises ValidationError to refuse a new camera."""
    if check not in _camera_checks:
        _camera_checks.append(check)


def camera_allowed(*, operator, behind_recorder: bool = False) -> None:
    for check in _camera_checks:
        check(operator=operator, behind_recorder=behind_recorder)


def set_trouble_probe(probe: Callable) -> None:
    """`probe(camera=…)` checks the camera now and stores its trouble state."""
    _trouble_probe[:] = [probe]


def trouble_probe(*, camera):
    """The probe's answer, or None when no app probes cameras."""
    return _trouble_probe[0](camera=camera) if _trouble_probe else None


def register_camera_context(provider: Callable[..., dict]) -> None:
    """`provider(operator=…, camera=…)` returns template context for the page of an own camera."""
    if provider not in _camera_contexts:
        _camera_contexts.append(provider)


def camera_context(*, operator, camera) -> dict:
    context: dict = {}
    for provider in _camera_contexts:
        context.update(provider(operator=operator, camera=camera))
    return context


def register_maintenance_check(check: Callable[..., str]) -> None:
    """`check(device=…)` returns why remote maintenance of `device` is refused ("" when allowed)."""
    if check not in _maintenance_checks:
        _maintenance_checks.append(check)


def maintenance_refusal(*, device) -> str:
    """Why trouble refresh, exchange and stream settings of `device` are refused now ("" when allowed)."""
    for check in _maintenance_checks:
        if reason := check(device=device):
            return reason
    return ""


def maintenance_require(*, device) -> None:
    """Raise ValidationError (a non-field error, code "maintenance_stopped") with the reason when refused."""
    from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

    if reason := maintenance_refusal(device=device):
        raise ValidationError({NON_FIELD_ERRORS: ValidationError(reason, code="maintenance_stopped")})
