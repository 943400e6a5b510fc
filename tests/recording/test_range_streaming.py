"""Recordings are streamed in bounded chunks, whole or by HTTP Range, never read whole into memory:
on local disk (reads of the stored file are recorded) and on S3 (moto: the object is asked for its
range, never downloaded whole)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from botocore.response import StreamingBody
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import StreamingHttpResponse
from django.urls import reverse
from storages.backends.s3 import S3File

from recording.file_responses import CHUNK_BYTES
from recording.models import RecordingSegment
from tests.conftest import client_for
from tests.recording.test_s3_storage import BUCKET, s3  # noqa: F401 - the moto fixture

pytestmark = pytest.mark.django_db

BODY = os.urandom(5 * CHUNK_BYTES + 123)  # several chunks, and not a whole number of them
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def segment_of(camera, name: str) -> RecordingSegment:
    return RecordingSegment.objects.create(
        operator_id=camera.operator_id, camera=camera, start=START, duration=60.0, size=len(BODY), storage_name=name
    )


def url_of(row: RecordingSegment) -> str:
    return reverse("recording:segment_file", kwargs={"segment_id": row.pk})


class ReadSpy:
    """A stored file that records the size of every read asked of it."""

    def __init__(self, raw, reads: list):
        self.raw, self.reads, self.name = raw, reads, raw.name

    def read(self, n: int = -1) -> bytes:
        self.reads.append(n)
        return self.raw.read(n)

    def __getattr__(self, attr):
        return getattr(self.raw, attr)


@pytest.fixture
def local(settings, tmp_path, monkeypatch) -> list:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    reads: list = []
    original = FileSystemStorage._open

    def spying_open(self, name, mode="rb"):
        opened = original(self, name, mode)
        return File(ReadSpy(opened.file, reads), opened.name)

    monkeypatch.setattr(FileSystemStorage, "_open", spying_open)
    return reads


def test_a_range_is_streamed_from_local_disk_in_bounded_reads(alpha, local):
    row = segment_of(alpha.camera, default_storage.save("recordings/t/seg.mp4", ContentFile(BODY)))
    first, last = 1000, 4 * CHUNK_BYTES + 17
    response = client_for(alpha.viewer).get(url_of(row), HTTP_RANGE=f"bytes={first}-{last}")
    assert response.status_code == 206 and isinstance(response, StreamingHttpResponse)
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(BODY)}"
    assert response["Content-Length"] == str(last - first + 1)
    assert local == []  # nothing is read before the body is sent
    assert b"".join(response.streaming_content) == BODY[first : last + 1]
    assert len(local) >= 4 and all(0 < n <= CHUNK_BYTES for n in local)


def test_open_ended_and_whole_file_requests_are_streamed_too(alpha, local):
    row = segment_of(alpha.camera, default_storage.save("recordings/t/seg.mp4", ContentFile(BODY)))
    client = client_for(alpha.viewer)
    tail = client.get(url_of(row), HTTP_RANGE="bytes=0-")
    assert tail.status_code == 206 and b"".join(tail.streaming_content) == BODY
    last_bytes = client.get(url_of(row), HTTP_RANGE="bytes=-10")
    assert b"".join(last_bytes.streaming_content) == BODY[-10:]
    assert last_bytes["Content-Range"] == f"bytes {len(BODY) - 10}-{len(BODY) - 1}/{len(BODY)}"
    whole = client.get(url_of(row))
    assert whole.status_code == 200 and whole["Content-Length"] == str(len(BODY))
    assert b"".join(whole.streaming_content) == BODY
    assert all(0 < n <= CHUNK_BYTES for n in local)
    refused = client.get(url_of(row), HTTP_RANGE=f"bytes={len(BODY)}-")
    assert refused.status_code == 416 and refused["Content-Range"] == f"bytes */{len(BODY)}"


def test_a_missing_file_is_a_404(alpha, local):
    row = segment_of(alpha.camera, "recordings/t/gone.mp4")
    assert client_for(alpha.viewer).get(url_of(row), HTTP_RANGE="bytes=0-9").status_code == 404


def test_a_range_is_asked_of_s3_and_streamed_never_downloaded_whole(alpha, s3, monkeypatch, request):  # noqa: F811
    name = "recordings/t/seg.mp4"
    s3.put_object(Bucket=BUCKET, Key=name, Body=BODY)
    # moto keeps its buckets for the whole process: leave nothing for test_s3_storage.py to find.
    request.addfinalizer(lambda: s3.delete_object(Bucket=BUCKET, Key=name))
    row = segment_of(alpha.camera, name)

    def whole_download(self):
        raise AssertionError("the whole object was downloaded")

    reads: list = []
    original_read = StreamingBody.read

    def spying_read(self, amt=None):
        reads.append(amt)
        return original_read(self, amt)

    monkeypatch.setattr(S3File, "_get_file", whole_download)
    monkeypatch.setattr(StreamingBody, "read", spying_read)
    client = client_for(alpha.viewer)
    first, last = 70_000, 3 * CHUNK_BYTES
    ranged = client.get(url_of(row), HTTP_RANGE=f"bytes={first}-{last}")
    assert ranged.status_code == 206 and ranged["Content-Range"] == f"bytes {first}-{last}/{len(BODY)}"
    assert b"".join(ranged.streaming_content) == BODY[first : last + 1]
    whole = client.get(url_of(row))
    assert whole.status_code == 200 and b"".join(whole.streaming_content) == BODY
    assert reads and all(n is not None and n <= CHUNK_BYTES for n in reads)
