"""Retention decisions, pure: no disk, no database, a fixed 'now'."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workers.retention import (
    DEFAULT_QUOTA_BYTES,
    Dated,
    StoredSegment,
    bitrate_bps,
    clips_expired,
    days_quota_holds,
    exports_to_delete,
    segments_over_quota,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
MB = 10**6


def minutes(count: int, size: int = 10 * MB) -> list[StoredSegment]:
    return [StoredSegment(key=f"seg{i:03d}", start=NOW + timedelta(minutes=i), size=size) for i in range(count)]


def test_nothing_is_deleted_within_the_quota():
    decision = segments_over_quota(minutes(10), quota_bytes=100 * MB, writing="seg009")
    assert decision.delete == []
    assert decision.kept_bytes == 100 * MB


def test_the_oldest_segments_go_first_until_the_total_fits():
    segments = minutes(10)
    decision = segments_over_quota(list(reversed(segments)), quota_bytes=75 * MB, writing="seg009")
    assert [s.key for s in decision.delete] == ["seg000", "seg001", "seg002"]
    assert decision.kept_bytes == 70 * MB
    assert decision.over_quota_bytes == 0


def test_the_segment_being_written_is_never_deleted_even_over_quota():
    segments = minutes(3, size=50 * MB)
    decision = segments_over_quota(segments, quota_bytes=10 * MB, writing="seg002")
    assert "seg002" not in [s.key for s in decision.delete]
    assert [s.key for s in decision.delete] == ["seg000", "seg001"]
    assert decision.over_quota_bytes == 40 * MB  # recording goes on; the overflow is reported


def test_without_a_known_current_segment_the_newest_is_kept():
    decision = segments_over_quota(minutes(3, size=50 * MB), quota_bytes=1)
    assert [s.key for s in decision.delete] == ["seg000", "seg001"]


def test_the_default_quota_is_128_gb():
    assert DEFAULT_QUOTA_BYTES == 128_000_000_000
    assert segments_over_quota(minutes(5, size=20 * 10**9), writing="seg004").kept_bytes == 100 * 10**9


def test_a_zero_quota_is_refused():
    with pytest.raises(ValueError):
        segments_over_quota(minutes(1), quota_bytes=0)


def test_bitrate_and_days_the_quota_holds():
    segments = minutes(60, size=7_500_000)  # 7.5 MB a minute = 1 Mbit/s
    assert bitrate_bps(segments) == pytest.approx(1_000_000)
    days = days_quota_holds(quota_bytes=DEFAULT_QUOTA_BYTES, bitrate=bitrate_bps(segments))
    assert days == pytest.approx(128e9 * 8 / 1e6 / 86400)  # ≈ 11.85 days
    assert days_quota_holds(bitrate=0) is None
    assert bitrate_bps([]) == 0


def test_event_clips_expire_after_30_days():
    clips = [Dated(key=d, created=NOW - timedelta(days=d, minutes=1)) for d in (1, 29, 30, 31, 45)]
    assert [c.key for c in clips_expired(clips, now=NOW)] == [45, 31, 30]
    assert [c.key for c in clips_expired(clips, now=NOW, keep_days=60)] == []


def test_exports_keep_the_newest_ten_for_seven_days():
    fresh = [Dated(key=i, created=NOW - timedelta(hours=i)) for i in range(11)]  # 11 exports, newest key 0
    assert [e.key for e in exports_to_delete(fresh, now=NOW)] == [10]
    old = [Dated(key="old", created=NOW - timedelta(days=7, seconds=1)), Dated(key="new", created=NOW)]
    assert [e.key for e in exports_to_delete(old, now=NOW)] == ["old"]
