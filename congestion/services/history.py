"""Prediction, CSV export and retention of the analysed minutes."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, timedelta

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from .. import rules, selectors
from ..models import (
    Analysis,
    CongestionCamera,
    MonitoringFrame,
    Prediction,
)
from .images import (
    ANALYSIS_KEEP_DAYS,
    MONITORING_KEEP,
)

# ----------------------------------------------------------------------------- prediction


@transaction.atomic
def prediction_recompute(*, congestion_camera: CongestionCamera, now: datetime | None = None) -> rules.PredictionResult:
    now = now or timezone.now()
    result = selectors.prediction_aggregate(
        congestion_camera=congestion_camera, start=now - timedelta(days=ANALYSIS_KEEP_DAYS), end=now
    )
    Prediction.objects.filter(congestion_camera=congestion_camera).delete()
    if result.enough_data:
        Prediction.objects.bulk_create(
            Prediction(
                operator_id=congestion_camera.operator_id,
                congestion_camera=congestion_camera,
                weekday=weekday,
                slot=slot,
                average=round(avg, 3),
            )
            for (weekday, slot), avg in result.averages.items()
        )
    CongestionCamera.objects.filter(pk=congestion_camera.pk).update(
        prediction_computed_at=now, prediction_days=result.days
    )
    congestion_camera.prediction_computed_at, congestion_camera.prediction_days = now, result.days
    return result


# ----------------------------------------------------------------------------- CSV


def _safe_filename(name: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", rules.strip_formula(name)).strip("_") or "camera"


def camera_month_csv(*, congestion_camera: CongestionCamera, year: int, month: int, today: date) -> bytes:
    span = rules.csv_month_range(year, month, today)
    rows: list[rules.CsvRow] = []
    if span is not None:
        start, _end = selectors.day_range(span[0])
        _start, end = selectors.day_range(span[1])
        company = congestion_camera.operator.name
        # The camera identifier (docs/product.md §6.9) is the camera's ID as the camera pages and the public
        # API show it: the device id. It stays the same when the camera is exchanged (new MAC) or removed
        # and re-added to congestion (new embed key, which is a public-URL secret and must not leak here).
        identifier = str(congestion_camera.camera_id)
        for moment, count in selectors.samples_for(congestion_camera=congestion_camera, start=start, end=end):
            rows.append(rules.CsvRow(congestion_camera.display_name, company, moment, identifier, count))
    return rules.csv_bytes(rows)


def csv_zip(*, congestion_cameras: list[CongestionCamera], year: int, month: int, today: date) -> bytes:
    """One CSV per camera for the month, in one ZIP."""
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for cc in congestion_cameras:
            name = f"{_safe_filename(cc.display_name)}_{year:04d}{month:02d}.csv"
            if name in used:
                name = f"{_safe_filename(cc.display_name)}_{cc.pk}_{year:04d}{month:02d}.csv"
            used.add(name)
            archive.writestr(name, camera_month_csv(congestion_camera=cc, year=year, month=month, today=today))
    return buffer.getvalue()


# ----------------------------------------------------------------------------- retention


def purge_monitoring(*, now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - MONITORING_KEEP
    old = MonitoringFrame.objects.filter(captured_at__lt=cutoff)
    names = list(old.values_list("image", flat=True))
    count, _ = old.delete()
    for name in names:
        default_storage.delete(name)
    return count


def purge_analyses(*, now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - timedelta(days=ANALYSIS_KEEP_DAYS)
    count, _ = Analysis.objects.filter(minute__lt=cutoff).delete()
    return count
