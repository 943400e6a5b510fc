""" "Refresh trouble info" (トラブル情報更新): ask the camera now instead of waiting for the ingest worker.

The camera is probed with a short deadline (an ONVIF camera is first asked for its stream URI), the
trouble state follows the answer, and a transition mails the recipients once, exactly as when the worker
notices it. A probe that finds the camera fine clears only the troubles a probe can see (network,
unknown): a storage error or a deleted device is a fact on our side that the camera's answer cannot undo.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from devices.models import Device, DeviceKind, TroubleState
from devices.services import device_set_trouble
from workers.probe_camera import TROUBLE_FOR_PROBLEM, Problem, probe_camera

from . import media_services
from .onvif import OnvifError
from .streams import ingest_url, is_onvif

PROBE_TIMEOUT = 5.0
PROBE_CLEARS = {TroubleState.NETWORK, TroubleState.UNKNOWN}


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
    """Probe `camera` now (about PROBE_TIMEOUT seconds at most) and set its trouble state from the answer.
    The caller got `camera` through an access function."""
    if camera.kind != DeviceKind.CAMERA:
        return TroubleCheck(False, Problem.NONE, "")
    detail = ""
    try:
        url = ingest_url(camera, refresh=is_onvif(camera), timeout=PROBE_TIMEOUT)
    except OnvifError as exc:
        problem, detail = exc.problem, exc.message
    else:
        if not url:
            return TroubleCheck(
                False,
                Problem.NONE,
                _("This camera has no stream settings, so it cannot be checked. Set them under Stream settings."),
            )
        probe = probe_camera(url, timeout=PROBE_TIMEOUT)
        problem, detail = probe.problem, probe.message
    camera.refresh_from_db(fields=["trouble_state"])
    if problem != Problem.NONE:
        media_services.trouble_set(camera=camera, state=TROUBLE_FOR_PROBLEM[problem])
    elif camera.trouble_state in PROBE_CLEARS:
        media_services.trouble_set(camera=camera, state="")
    else:
        device_set_trouble(device=camera, state=camera.trouble_state)  # unchanged; stamps the check time
    camera.refresh_from_db(fields=["trouble_state", "trouble_since", "trouble_checked_at"])
    message = problem_message(problem)
    if problem == Problem.REFUSED:  # name the reason (English, from the policy; no secret: it is redacted)
        message = f"{message} ({detail})"
    return TroubleCheck(True, problem, message)
