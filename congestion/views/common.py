"""What every congestion page shares: rendering with the license stop, JPEG answers, a camera's status and image."""

from __future__ import annotations

from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .. import rules, selectors, services
from ..models import CongestionCamera

STATIC_IMAGES = Path(__file__).resolve().parent.parent / "static" / "congestion"
PAGE_SIZE = 24  # cards of cameras or groups: a grid of 4, 3 or 2 columns fills evenly


def _render(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    context.setdefault("license_block", selectors.license_block(operator=request.operator))
    return render(request, template, context, status=status)


def _jpeg(data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "no-store"
    return response


def _static_jpeg(name: str) -> bytes:
    return (STATIC_IMAGES / name).read_bytes()


def _alert_image(setting, step: int) -> bytes | None:
    if setting is None or not setting.image_enabled or step > len(setting.images):
        return None
    name = setting.images[step - 1]
    if name == services.TEMPLATE:
        # 3 steps: 空 / やや混雑 / 混雑 templates; 2 steps: 空 / 混雑.
        return _static_jpeg(f"alert-template-{step if setting.steps == 3 else (1 if step == 1 else 3)}.jpg")
    return services.read_image(name)


def camera_status(cc: CongestionCamera) -> dict:
    """What a camera shows now: public image (or alert / off-hours image), count, step and label."""
    public = selectors.public_image_of(congestion_camera=cc)
    setting = selectors.alert_setting_for(congestion_camera=cc)
    count = public.count if public else None
    step = rules.step_for(count, setting.thresholds) if setting else 1
    return {
        "cc": cc,
        "public": public,
        "count": count,
        "open": selectors.is_open_now(congestion_camera=cc),
        "setting": setting,
        "step": step,
        "label": rules.status_label(step, setting.steps) if setting else "",
    }


def camera_display_jpeg(cc: CongestionCamera) -> bytes:
    status = camera_status(cc)
    if not status["open"]:
        return services.read_image(cc.offhours_image) or _static_jpeg("offhours.jpg")
    alert = _alert_image(status["setting"], status["step"])
    if alert is not None:
        return alert
    public = status["public"]
    return (services.read_image(public.image) if public else None) or _static_jpeg("waiting.jpg")
