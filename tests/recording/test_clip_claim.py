"""An event clip is claimed only for work that starts at once: a worker that dies while it checks
whether the recording is there yet leaves the event pending for the next worker, not held for the
5-minute takeover (the race a killed worker hit in the fault test)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from recording import media_services
from recording.models import MotionEvent


class WorkerDied(Exception):
    pass


def _motion(tenant, **fields):
    at = timezone.now() - timedelta(seconds=20)
    return MotionEvent.objects.create(
        operator=tenant.operator, camera=tenant.camera, source=MotionEvent.Source.SERVER, at=at, ended_at=at, **fields
    )


def test_a_worker_dying_while_it_checks_coverage_leaves_the_event_pending(alpha, monkeypatch):
    motion = _motion(alpha)

    def die(**kwargs):
        raise WorkerDied

    monkeypatch.setattr(media_services, "segments_for_clip", die)
    with pytest.raises(WorkerDied):
        media_services.clip_make(motion_id=motion.pk)

    motion.refresh_from_db()
    assert motion.clip_state == MotionEvent.ClipState.PENDING
    assert motion.clip_claimed_at is None


def test_an_event_not_yet_recorded_is_not_claimed_and_one_held_by_a_live_worker_is_left_alone(alpha):
    waiting = _motion(alpha)
    assert media_services.clip_make(motion_id=waiting.pk) is None
    waiting.refresh_from_db()
    assert (waiting.clip_state, waiting.clip_claimed_at) == (MotionEvent.ClipState.PENDING, None)

    held = _motion(alpha, clip_state=MotionEvent.ClipState.MAKING, clip_claimed_at=timezone.now())
    assert media_services.clip_make(motion_id=held.pk) is None
    held.refresh_from_db()
    assert held.clip_state == MotionEvent.ClipState.MAKING
