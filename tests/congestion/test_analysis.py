"""The analysis path: schedule, claim once per minute, grab, detect, store, alerts, license stop."""

import threading
from datetime import datetime, time, timedelta

import cv2
import numpy as np
import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from congestion import services, tasks
from congestion.models import Analysis, CongestionCamera, HoursRule, MonitoringFrame, PublicImage, Trouble
from workers.frames import SnapshotError
from workers.people.detector import FakeDetector, Person

from .conftest import give_option, jpeg, register

MINUTE = timezone.make_aware(datetime(2024, 6, 3, 10, 0))  # a Monday, 10:00 Tokyo


def fake(n: int) -> FakeDetector:
    return FakeDetector([Person(5 + 10 * i, 5, 12 + 10 * i, 40, 0.9) for i in range(n)])


def run(cc, minute=MINUTE, frame=None, detector="fake", **kw):
    return services.analysis_run(
        congestion_camera_id=cc.pk,
        minute=minute,
        grab=lambda camera: frame if frame is not None else jpeg(),
        detector=fake(2) if detector == "fake" else detector,
        now=lambda: minute + timedelta(seconds=3),
        **kw,
    )


def test_analysis_on_a_real_photo_stores_count_public_image_and_monitoring_frame(cc, bus_jpeg):
    assert run(cc, frame=bus_jpeg, detector=None) == "done"  # the real ONNX detector (standard mode)
    row = Analysis.objects.get(congestion_camera=cc)
    assert (row.status, row.count) == ("done", 4)
    assert set(row.timings) == {"grab_ms", "detect_ms", "render_ms", "store_ms"}
    public = PublicImage.objects.get(congestion_camera=cc)
    assert public.count == 4
    image = cv2.imdecode(np.frombuffer(default_storage.open(public.image).read(), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[:2] == cv2.imdecode(np.frombuffer(bus_jpeg, np.uint8), cv2.IMREAD_COLOR).shape[:2]
    frame = MonitoringFrame.objects.get(congestion_camera=cc)
    assert default_storage.open(frame.image).read() == bus_jpeg


def test_the_same_minute_is_never_analysed_twice(cc):
    detector = fake(1)
    assert run(cc, detector=detector) == "done"
    assert run(cc, detector=detector) == "duplicate"
    assert detector.calls == 1
    assert run(cc, minute=MINUTE + timedelta(minutes=1), detector=detector) == "done"
    assert Analysis.objects.filter(congestion_camera=cc).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_minute_analyse_it_once(alpha):
    give_option(alpha.operator, 1)
    cc = register(alpha)
    detector = fake(1)
    barrier = threading.Barrier(2)
    outcomes = []

    def worker():
        barrier.wait()
        try:
            outcomes.append(run(cc, detector=detector))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["done", "duplicate"]
    assert Analysis.objects.filter(congestion_camera=cc).count() == 1


def test_the_scheduler_spreads_cameras_and_two_beats_queue_the_same_claims(cc, alpha, second_camera):
    other = register(second_camera)
    sent = []
    tasks.schedule(now=MINUTE + timedelta(seconds=1), send=lambda **kw: sent.append(kw))
    tasks.schedule(now=MINUTE + timedelta(seconds=2), send=lambda **kw: sent.append(kw))
    assert [s["args"] for s in sent] == [[cc.pk, MINUTE.isoformat()], [other.pk, MINUTE.isoformat()]] * 2
    for s in sent:
        assert 0 <= s["countdown"] < 60
    # Executing every queued task: each camera is analysed once in the minute.
    results = [run(CongestionCamera.objects.get(pk=s["args"][0])) for s in sent]
    assert sorted(results) == ["done", "done", "duplicate", "duplicate"]


def test_a_camera_that_does_not_answer_skips_the_minute_and_shows_trouble(cc):
    def dead(camera):
        raise SnapshotError("no picture")

    assert services.analysis_run(congestion_camera_id=cc.pk, minute=MINUTE, grab=dead, detector=fake(1)) == "no_answer"
    cc.refresh_from_db()
    assert cc.trouble == Trouble.NO_ANSWER
    assert not PublicImage.objects.filter(congestion_camera=cc).exists()
    # The schedule goes on: the next minute works and clears the trouble.
    assert run(cc, minute=MINUTE + timedelta(minutes=1)) == "done"
    cc.refresh_from_db()
    assert cc.trouble == Trouble.NONE


def test_more_cameras_than_option_licenses_stops_every_camera_of_the_operator(alpha, second_camera):
    give_option(alpha.operator, 1)
    first = register(alpha)
    assert run(first) == "done"
    second = register(second_camera)
    assert run(first, minute=MINUTE + timedelta(minutes=1)) == "blocked"
    assert run(second, minute=MINUTE + timedelta(minutes=1)) == "blocked"
    sent = []
    tasks.schedule(now=MINUTE + timedelta(minutes=2), send=lambda **kw: sent.append(kw))
    assert sent == []


def test_outside_business_hours_nothing_runs(cc, alpha):
    services.hours_rule_add(
        user=alpha.admin, congestion_camera=cc, kind=HoursRule.Kind.BASE, weekdays=[0], start=time(11), end=time(12)
    )
    services.hours_enabled_set(user=alpha.admin, congestion_camera=cc, enabled=True)
    detector = fake(1)
    assert run(cc, detector=detector) == "closed"  # Monday 10:00
    assert run(cc, minute=MINUTE + timedelta(hours=1), detector=detector) == "done"
    assert detector.calls == 1


def test_alert_mail_once_per_upward_crossing_with_the_exact_text(cc, alpha, django_capture_on_commit_callbacks):
    cc.display_name = "入口カメラ"
    cc.save()
    services.alert_update(
        user=alpha.admin,
        congestion_camera=cc,
        steps=2,
        thresholds=[3],
        image_enabled=False,
        images=[],
        mail_enabled=True,
        recipients=["guard@example.com"],
    )
    for i, n in enumerate([1, 4, 5, 6, 2, 3]):
        with django_capture_on_commit_callbacks(execute=True):
            run(cc, minute=MINUTE + timedelta(minutes=i), detector=fake(n))
    assert len(mail.outbox) == 2  # 1→4 crossed, stayed over, fell to 2, crossed again at 3
    assert mail.outbox[0].subject == "【入口カメラ】混雑状態を検知しました"
    assert mail.outbox[0].body == (
        "入口カメラ に 3 人以上の人が検知されました。\n該当カメラの検知範囲が混雑している可能性があります。\n"
    )
    assert mail.outbox[0].to == ["guard@example.com"]


def test_group_alert_uses_the_sum_of_its_cameras(cc, alpha, second_camera, django_capture_on_commit_callbacks):
    other = register(second_camera)
    group = services.group_create(
        user=alpha.admin, operator=alpha.operator, name="Floor", cameras=[cc, other], default_camera=cc
    )
    services.alert_update(
        user=alpha.admin,
        group=group,
        steps=2,
        thresholds=[5],
        image_enabled=False,
        images=[],
        mail_enabled=True,
        recipients=["floor@example.com"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        run(cc, detector=fake(3))
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        run(other, detector=fake(3))
    assert [m.subject for m in mail.outbox] == ["【Floor】混雑状態を検知しました"]


def test_prediction_not_enough_data_then_averages(cc):
    for day in range(6):
        run(cc, minute=MINUTE + timedelta(days=day), detector=fake(2))
    assert services.prediction_recompute(congestion_camera=cc, now=MINUTE + timedelta(days=8)).enough_data is False
    run(cc, minute=MINUTE + timedelta(days=7), detector=fake(4))
    result = services.prediction_recompute(congestion_camera=cc, now=MINUTE + timedelta(days=8))
    assert result.enough_data
    assert result.averages[(0, 40)] == 3.0  # Mondays 10:00: 2 and 4


def test_purges_keep_24_hours_of_frames_and_12_months_of_counts(cc):
    run(cc)
    frame = MonitoringFrame.objects.get()
    assert services.purge_monitoring(now=MINUTE + timedelta(hours=23)) == 0
    assert services.purge_monitoring(now=MINUTE + timedelta(hours=25)) == 1
    assert not default_storage.exists(frame.image)
    assert services.purge_analyses(now=MINUTE + timedelta(days=300)) == 0
    assert services.purge_analyses(now=MINUTE + timedelta(days=370)) == 1
