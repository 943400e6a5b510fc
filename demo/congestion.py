"""Demo congestion data, called by seed_demo. Running it again changes nothing new.

Two demo cameras analyse the recorded footage of people walking (var/media-fixtures/vtest.mp4) as
if live; the background is the per-pixel median of frames across the clip, so the walkers vanish
from it. They get a group, an alert that mails the demo admin and 8 days of generated history so the
prediction shows at once. The entrance is open around the clock, so a newcomer sees silhouettes and a
count within two minutes of `make demo` at any hour; the bicycle parking keeps real business hours
(07:00-02:00) to show the off-hours image at night.
"""

from __future__ import annotations

import math
import random
from datetime import time, timedelta
from pathlib import Path

import cv2
import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from congestion import services
from congestion.models import AlertSetting, Analysis, CongestionCamera, Group, HoursRule
from devices.models import Device
from licensing import selectors as licensing_selectors
from licensing import services as licensing_services
from licensing.models import LicenseKind
from tenants.models import Operator, User
from workers.people.render import encode_jpeg

FOOTAGE = "var/media-fixtures/vtest.mp4"
CAMERAS = [("02:00:5E:10:00:01", "Sakura entrance"), ("02:00:5E:10:00:02", "Sakura bicycle parking")]
ALWAYS_OPEN = "02:00:5E:10:00:01"  # no business hours: analysed around the clock
HOURS = (time(7), time(2))  # the other camera's business hours, 07:00 to 02:00 the next morning
HISTORY_DAYS = 8


def median_background(path: Path, samples: int = 25) -> bytes | None:
    capture = cv2.VideoCapture(str(path))
    frames = []
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    for index in np.linspace(0, max(total - 1, 0), samples).astype(int):
        capture.set(cv2.CAP_PROP_POS_FRAMES, int(index))
        ok, frame = capture.read()
        if ok:
            frames.append(frame)
    capture.release()
    if not frames:
        return None
    return encode_jpeg(np.median(np.stack(frames), axis=0).astype(np.uint8), 90)


def _crowd(moment) -> int:
    """A plausible day: quiet at night, peaks around 08:30, 12:30 and 18:00."""
    hour = moment.hour + moment.minute / 60
    level = sum(peak * math.exp(-((hour - at) ** 2) / 1.5) for at, peak in ((8.5, 6), (12.5, 8), (18, 7)))
    return max(0, round(level + random.uniform(-1, 1)))  # noqa: S311 - demo data


def _history(cc: CongestionCamera, *, always_open: bool) -> int:
    today = timezone.localdate()
    start = timezone.make_aware(timezone.datetime.combine(today - timedelta(days=HISTORY_DAYS), time(7)))
    rows = []
    minute = start
    end = timezone.make_aware(timezone.datetime.combine(today, time(0)))
    while minute < end:
        local = timezone.localtime(minute)
        if always_open or local.hour >= HOURS[0].hour or local.hour < HOURS[1].hour:
            rows.append(
                Analysis(
                    operator_id=cc.operator_id,
                    congestion_camera=cc,
                    minute=minute,
                    status="done",
                    count=_crowd(local),
                    captured_at=minute + timedelta(seconds=2),
                    analysed_at=minute + timedelta(seconds=3),
                )
            )
        minute += timedelta(minutes=1)
    Analysis.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
    return len(rows)


@transaction.atomic
def seed_congestion(*, operator_name: str = "Demo Mansion Co.") -> list[CongestionCamera]:
    operator = Operator.objects.filter(name=operator_name).first()
    admin = User.objects.filter(operator=operator, role="admin").order_by("id").first() if operator else None
    if operator is None or admin is None:
        return []
    have = licensing_selectors.option_license_count(operator, LicenseKind.CONGESTION_OPTION)
    if have < len(CAMERAS) and operator.partner_id:
        stock = licensing_services.stock_add(
            partner=operator.partner, kind=LicenseKind.CONGESTION_OPTION, months=12, count=len(CAMERAS) - have
        )
        licensing_services.license_assign(
            partner=operator.partner,
            actor=None,
            customer=operator,
            license_ids=[lic.pk for lic in stock],
            kind=LicenseKind.CONGESTION_OPTION,
        )
    footage = Path(settings.BASE_DIR) / FOOTAGE
    background = median_background(footage) if footage.exists() else None
    cameras = []
    for mac, name in CAMERAS:
        device = Device.objects.filter(mac=mac, operator=operator).first()
        if device is None:
            continue
        cc, created = CongestionCamera.objects.get_or_create(
            camera=device,
            defaults={"operator": operator, "display_name": name, "snapshot_url": f"file:{FOOTAGE}"},
        )
        if not cc.background_day and background:
            cc.background_day = default_storage.save(
                f"congestion/{operator.pk}/{cc.pk}/bg-day-demo.jpg", ContentFile(background)
            )
            cc.save(update_fields=["background_day"])
        if created and mac != ALWAYS_OPEN:
            services.hours_rule_add(
                user=admin,
                congestion_camera=cc,
                kind=HoursRule.Kind.BASE,
                weekdays=list(range(7)),
                holiday=True,
                start=HOURS[0],
                end=HOURS[1],
            )
            services.hours_enabled_set(user=admin, congestion_camera=cc, enabled=True)
        if Analysis.objects.filter(congestion_camera=cc).count() < 7 * 60 * 19:
            _history(cc, always_open=mac == ALWAYS_OPEN)
        services.prediction_recompute(congestion_camera=cc)
        cameras.append(cc)
    if not cameras:
        return []
    first = cameras[0]
    if not AlertSetting.objects.filter(congestion_camera=first).exists():
        services.alert_update(
            user=admin,
            congestion_camera=first,
            steps=3,
            thresholds=[3, 6],
            image_enabled=True,
            images=["", "", "template"],
            mail_enabled=True,
            recipients=[admin.email],
        )
    group = Group.objects.filter(operator=operator, name="Sakura Residence").first()
    if group is None:
        group = services.group_create(
            user=admin, operator=operator, name="Sakura Residence", cameras=cameras, default_camera=first
        )
        services.alert_update(
            user=admin,
            group=group,
            steps=2,
            thresholds=[8],
            image_enabled=False,
            images=[],
            mail_enabled=True,
            recipients=[admin.email],
        )
    return cameras
