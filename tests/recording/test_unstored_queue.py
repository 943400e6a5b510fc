"""While the storage refuses files, every file recorded meanwhile stays queued and is stored, oldest
first, once it is back (the queue used to keep only the first refused file of each call)."""

from datetime import UTC, datetime, timedelta

from recording import ingest as ingest_module
from recording.ingest import CameraIngest
from workers.segmenter import Segment


def test_files_recorded_during_a_storage_outage_are_all_kept_and_stored_in_order(alpha, tmp_path, monkeypatch):
    stored, storage_up = [], [False]

    def segment_store(*, camera, segment):
        if not storage_up[0]:
            raise OSError("storage down")
        stored.append(segment.path.name)

    monkeypatch.setattr(ingest_module.media_services, "segment_store", segment_store)
    for name in ("trouble_set", "quota_enforce", "clips_due"):
        monkeypatch.setattr(ingest_module.media_services, name, lambda **kwargs: None)
    ingest = CameraIngest(camera_id=alpha.camera.pk, url="rtsp://127.0.0.1:1/cam", spool=tmp_path)
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    files = [
        Segment(path=tmp_path / f"{i}.mp4", start=start + timedelta(minutes=i), duration=60.0, size=1) for i in range(4)
    ]

    for segment in files[:3]:
        ingest.on_segment(segment)
    assert [s.path.name for s in ingest.unstored] == ["0.mp4", "1.mp4", "2.mp4"]

    storage_up[0] = True
    ingest.on_segment(files[3])
    assert stored == ["0.mp4", "1.mp4", "2.mp4", "3.mp4"]
    assert ingest.unstored == []
