"""The player's one-click "download this file": the 1-minute file (or event clip) on screen, as it is."""

import json
import re
from datetime import UTC, datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from recording.models import RecordingSegment
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo


@pytest.fixture
def stored(alpha, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    rows = []
    for minute in (0, 1):
        name = default_storage.save(
            f"recordings/{alpha.operator.pk}/{alpha.camera.pk}/m{minute}.mp4", ContentFile(b"mp4")
        )
        rows.append(
            RecordingSegment.objects.create(
                operator=alpha.operator,
                camera=alpha.camera,
                start=START.replace(minute=minute),
                duration=60,
                size=3,
                storage_name=name,
            )  # fmt: skip
        )
    return rows


def test_the_player_offers_the_file_on_screen_for_download(alpha, stored):
    url = reverse("recording:player", kwargs={"camera_id": alpha.camera.pk}) + "?day=2026-03-02"
    page = client_for(alpha.viewer).get(url).content.decode()
    first = reverse("recording:segment_file", kwargs={"segment_id": stored[0].pk}) + "?download=1"
    assert re.search(rf'id="player-download"[^>]*href="{re.escape(first)}"', page)
    assert "Download this file" in page
    data = json.loads(
        re.search(r'<script id="player-data" type="application/json">(.*?)</script>', page, re.S).group(1)
    )
    assert [s["download"] for s in data["segments"]] == [
        reverse("recording:segment_file", kwargs={"segment_id": row.pk}) + "?download=1" for row in stored
    ]


def test_download_sends_the_one_minute_file_as_an_attachment_named_by_its_start(alpha, stored):
    url = reverse("recording:segment_file", kwargs={"segment_id": stored[1].pk})
    response = client_for(alpha.viewer).get(url + "?download=1")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="20260302-100100.mp4"'
    assert b"".join(response.streaming_content) == b"mp4"
    assert "Content-Disposition" not in client_for(alpha.viewer).get(url)  # playing is inline


def test_another_operator_cannot_download(alpha, bravo, stored):
    url = reverse("recording:segment_file", kwargs={"segment_id": stored[0].pk}) + "?download=1"
    assert client_for(bravo.admin).get(url).status_code == 404
