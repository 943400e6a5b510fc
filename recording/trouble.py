""" "Refresh trouble info" (トラブル情報更新): ask the camera now instead of waiting for the ingest worker.

The camera is probed with a short deadline (an ONVIF camera is first asked for its stream URI), the
trouble state follows the answer, and a transition mails the recipients once, exactly as when the worker
notices it. An ONVIF device is also asked whether its storage failed (its SD card; the first answer of an
event subscription). A probe that finds the camera fine clears the troubles a probe can see (network,
unknown, and "device deleted or account changed" once the credentials are accepted again); a storage
error stays unless the device itself reported it and now reports it fixed.

Which trouble a failed check means (``trouble_for``, also used by the ingest workers):
- the credentials refused (RTSP 401, ONVIF "not authorized") by a camera that worked before (it has
  recordings, or answered ONVIF once): "device deleted or account changed" (its account was changed or
  removed); by a camera that never worked: "unknown" (a typing error in the settings);
- an edge recorder's channel that worked and is now missing (its RTSP path answers 404, or the recorder
  has no ONVIF media profile for it any more): "device deleted or account changed";
- otherwise as workers.probe_camera.TROUBLE_FOR_PROBLEM says (network, unknown).

A whole building is refreshed by a task (``building_trouble_refresh``), camera after camera, with its
progress on a TroubleRefresh row (the page and the API show it). A camera whose license expired or is
missing is not asked (remote maintenance stops with the license, docs/product.md §7.8, as for one camera):
the run lists it as skipped with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from devices.models import Device, DeviceKind, TroubleState
from devices.selectors import camera_list
from devices.services import device_set_trouble
from workers.probe_camera import TROUBLE_FOR_PROBLEM, Problem, probe_camera

from . import conf, media_services, tasks
from .media_selectors import LICENSE_MISSING, media_blocked_reason
from .models import CameraRecording, RecordingSegment, TroubleRefresh
from .onvif import OnvifError
from .streams import ingest_url, is_onvif

PROBE_CLEARS = {TroubleState.NETWORK, TroubleState.UNKNOWN, TroubleState.DELETED}


def camera_has_worked(camera: Device) -> bool:
    """It recorded, or answered ONVIF with its stream, at least once."""
    return (
        RecordingSegment.objects.filter(camera_id=camera.pk).exists()
        or CameraRecording.objects.filter(camera_id=camera.pk, onvif_resolved_at__isnull=False).exists()
    )


def trouble_for(camera: Device, problem: Problem) -> str:
    """The trouble state a failed check with `problem` means for `camera` (see the module docstring)."""
    if problem == Problem.AUTH and camera_has_worked(camera):
        return TroubleState.DELETED
    if problem == Problem.NOT_FOUND and camera.is_recorder_channel and camera_has_worked(camera):
        return TroubleState.DELETED
    return TROUBLE_FOR_PROBLEM[problem]


@dataclass(frozen=True)
class TroubleCheck:
    checked: bool  # False: nothing to ask (no stream settings, or not a camera)
    problem: Problem
    message: str  # translated, for the page


def problem_message(problem: Problem) -> str:
    return {
        Problem.NONE: _("The camera answered and sends video."),
        Problem.NETWORK: _("The camera cannot be reached over the network."),
        Problem.AUTH: _("The camera refused the user name or password in its stream settings."),
        Problem.NOT_FOUND: _("The camera answered but has no stream at the configured path."),
        Problem.NOT_VIDEO: _("The camera's stream carries no video."),
        Problem.GARBAGE: _("The camera's answer could not be understood as a video stream."),
        Problem.REFUSED: _(
            "The portal does not connect to this address: the camera, or an address its ONVIF answer names, "
            "is not a public address or points to another host. Ask the portal's operator to allow the "
            "camera network if it is private."
        ),
    }[problem]


def camera_trouble_refresh(*, camera: Device) -> TroubleCheck:
    """Probe `camera` now (conf.probe_timeout() seconds at most per answer) and set its trouble state from it.
    The caller got `camera` through an access function."""
    if camera.kind != DeviceKind.CAMERA:
        return TroubleCheck(False, Problem.NONE, "")
    detail = ""
    timeout = conf.probe_timeout()
    try:
        url = ingest_url(camera, refresh=is_onvif(camera), timeout=timeout)
    except OnvifError as exc:
        problem, detail = exc.problem, exc.message
    else:
        if not url:
            return TroubleCheck(
                False,
                Problem.NONE,
                _("This camera has no stream settings, so it cannot be checked. Set them under Stream settings."),
            )
        probe = probe_camera(url, timeout=timeout)
        problem, detail = probe.problem, probe.message
    storage_failed = _device_storage_failed(camera) if problem == Problem.NONE and is_onvif(camera) else None
    camera.refresh_from_db(fields=["trouble_state"])
    if problem != Problem.NONE:
        media_services.trouble_set(camera=camera, state=trouble_for(camera, problem))
    elif storage_failed:
        media_services.trouble_set(camera=camera, state=TroubleState.STORAGE)
    elif camera.trouble_state in PROBE_CLEARS or (
        camera.trouble_state == TroubleState.STORAGE and storage_failed is False and _storage_was_the_devices(camera)
    ):
        media_services.trouble_set(camera=camera, state="")
    else:
        device_set_trouble(device=camera, state=camera.trouble_state)  # unchanged; stamps the check time
    if storage_failed is not None:
        CameraRecording.objects.filter(camera_id=camera.pk).update(device_storage_failed=storage_failed)
    camera.refresh_from_db(fields=["trouble_state", "trouble_since", "trouble_checked_at"])
    message = problem_message(problem)
    if storage_failed:
        message = _("The camera sends video, but it reports that its storage (SD card) failed.")
    if problem == Problem.REFUSED:  # name the reason (English, from the policy; no secret: it is redacted)
        message = f"{message} ({detail})"
    return TroubleCheck(True, problem, message)


def _device_storage_failed(camera: Device) -> bool | None:
    """The ONVIF device's word on its storage now; None when it does not say or cannot be asked."""
    from .onvif_events import storage_state
    from .onvif_motion import subscription_for

    subscription = subscription_for(camera, seconds=10)
    if subscription is None:
        return None
    subscription.timeout = conf.probe_timeout()
    try:
        return storage_state(**{f: getattr(subscription, f) for f in _SUBSCRIPTION_FIELDS})
    except OnvifError:  # no event service, or it failed: the stream answered, which is what counts here
        return None


_SUBSCRIPTION_FIELDS = ("host", "port", "user", "password", "profile_index", "channel", "timeout", "seconds")


def _storage_was_the_devices(camera: Device) -> bool:
    return CameraRecording.objects.filter(camera_id=camera.pk, device_storage_failed=True).exists()


# ----------------------------------------------------------------------------- a whole building

REFRESH_STALE = timedelta(minutes=15)  # a run not finished by then is taken as dead (its worker died)


def building_trouble_refresh_start(*, user, operator, building) -> TroubleRefresh:
    """Refresh the trouble info of every camera of `building` that `user` sees (own cameras), in a task;
    returns the run, whose progress the page and the API show. A run still going for the building is
    returned instead of a second one. The caller got `building` through access_building."""
    running = (
        TroubleRefresh.objects.for_operator(operator)
        .filter(building=building, state=TroubleRefresh.State.RUNNING, created_at__gte=timezone.now() - REFRESH_STALE)
        .first()
    )
    if running is not None:
        return running
    camera_ids = list(camera_list(operator=operator, user=user, building=building).values_list("pk", flat=True))
    if not camera_ids:
        raise ValidationError(_("This building has no camera to check."))
    run = TroubleRefresh.objects.create(operator=operator, building=building, requested_by=user, total=len(camera_ids))
    transaction.on_commit(lambda: tasks.trouble_refresh_building.delay(run.pk, camera_ids))
    return run


def building_trouble_refresh_run(*, refresh_id: int, camera_ids: list[int]) -> TroubleRefresh | None:
    """The task's body: each camera in turn, the progress counted after each."""
    run = TroubleRefresh.objects.filter(pk=refresh_id).first()
    if run is None:
        return None
    for camera_id in camera_ids:
        camera = Device.objects.filter(pk=camera_id, operator_id=run.operator_id, kind=DeviceKind.CAMERA).first()
        trouble = False
        if camera is not None and (reason := media_blocked_reason(camera)):
            # The license stops its remote maintenance, as for one camera (devices.hooks.maintenance_require):
            # not asked, listed as skipped with the reason.
            with transaction.atomic():
                row = TroubleRefresh.objects.select_for_update().get(pk=run.pk)
                row.skipped = [*row.skipped, {"id": camera.pk, "name": camera.name, "reason": reason}]
                row.done += 1
                row.save(update_fields=["skipped", "done"])
            continue
        if camera is not None:
            camera_trouble_refresh(camera=camera)
            trouble = bool(camera.trouble_state)
        TroubleRefresh.objects.filter(pk=run.pk).update(done=F("done") + 1, troubles=F("troubles") + int(trouble))
    TroubleRefresh.objects.filter(pk=run.pk).update(state=TroubleRefresh.State.DONE, finished_at=timezone.now())
    run.refresh_from_db()
    return run


def latest_building_refresh(*, operator, building) -> TroubleRefresh | None:
    return TroubleRefresh.objects.for_operator(operator).filter(building=building).first()


def skipped_reason(reason: str) -> str:
    """What the page and the API say about a camera the run skipped for `reason`."""
    if reason == LICENSE_MISSING:
        return _("maintenance stopped: no license")
    return _("maintenance stopped: license expired")
