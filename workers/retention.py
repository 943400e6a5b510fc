"""Retention rules as pure decisions: lists of records in, what to delete (or how long it lasts) out.

No disk, no database, no clock of its own (``now`` is passed in), so every rule is tested directly:
- continuous recording keeps a per-camera capacity quota (default 128 GB) by deleting the oldest
  segments first; it never deletes the segment being written, so recording never stops;
- event clips live ``clip_days`` (30 by default, a plan setting);
- exports: at most ``max_count`` (10) per user, each for ``max_age`` (7 days), the oldest go first.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_QUOTA_BYTES = 128 * 10**9  # 128 GB, as sold (decimal gigabytes)
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class StoredSegment:
    key: Hashable  # whatever identifies it to the caller (a path, a primary key)
    start: datetime
    size: int  # bytes
    duration: float = 60.0  # seconds


@dataclass(frozen=True)
class QuotaDecision:
    delete: list[StoredSegment]
    kept_bytes: int
    over_quota_bytes: int  # > 0 only when the segment being written alone exceeds the quota


def segments_over_quota(
    segments: Sequence[StoredSegment],
    *,
    quota_bytes: int = DEFAULT_QUOTA_BYTES,
    writing: Hashable | None = None,
) -> QuotaDecision:
    """Oldest-first deletions that bring the total to ``quota_bytes`` or less.

    ``writing`` is the key of the segment being recorded now: it is never deleted (and neither is
    anything newer, which cannot exist yet but would be a clock problem, not a reason to lose video).
    """
    if quota_bytes <= 0:
        raise ValueError("quota_bytes must be positive")
    ordered = sorted(segments, key=lambda s: (s.start, str(s.key)))
    total = sum(s.size for s in ordered)
    protected_from = next((i for i, s in enumerate(ordered) if s.key == writing), len(ordered))
    if writing is None and ordered:
        protected_from = len(ordered) - 1  # the newest might still be growing: never the first to go
    delete: list[StoredSegment] = []
    for segment in ordered[:protected_from]:
        if total <= quota_bytes:
            break
        delete.append(segment)
        total -= segment.size
    return QuotaDecision(delete=delete, kept_bytes=total, over_quota_bytes=max(0, total - quota_bytes))


def bitrate_bps(segments: Sequence[StoredSegment]) -> float:
    """Average recorded bitrate in bits per second (0 when nothing has been recorded)."""
    seconds = sum(s.duration for s in segments)
    return 8 * sum(s.size for s in segments) / seconds if seconds > 0 else 0.0


def days_quota_holds(*, quota_bytes: int = DEFAULT_QUOTA_BYTES, bitrate: float) -> float | None:
    """How many days of continuous recording fit in the quota at ``bitrate`` bits/s (None if unknown)."""
    if bitrate <= 0:
        return None
    return quota_bytes * 8 / bitrate / SECONDS_PER_DAY


@dataclass(frozen=True)
class Dated:
    key: Hashable
    created: datetime


def clips_expired(clips: Sequence[Dated], *, now: datetime, keep_days: int = 30) -> list[Dated]:
    """Event clips older than ``keep_days`` days, oldest first."""
    cutoff = now - timedelta(days=keep_days)
    return sorted((c for c in clips if c.created < cutoff), key=lambda c: c.created)


def exports_to_delete(
    exports: Sequence[Dated], *, now: datetime, max_count: int = 10, max_age: timedelta = timedelta(days=7)
) -> list[Dated]:
    """Exports past ``max_age``, plus the oldest beyond the newest ``max_count``; oldest first.

    Called *after* a new export is added, so the eleventh export pushes out the first.
    """
    ordered = sorted(exports, key=lambda e: e.created, reverse=True)
    cutoff = now - max_age
    doomed = [e for i, e in enumerate(ordered) if i >= max_count or e.created < cutoff]
    return sorted(doomed, key=lambda e: e.created)
