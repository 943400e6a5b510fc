"""Recorders size themselves by what they cost: take cameras while their measured CPU (own process tree)
leaves room under their share of the cores, give cameras back to workers with room when over it, and
show load and camera count on the staff ingest page. The decision is a pure object (`Sizing`); the
supervisor runs it on a fake load and pipelines that start no ffmpeg."""

from __future__ import annotations

from datetime import timedelta

import psutil
import pytest
from django.urls import reverse
from django.utils import timezone

from recording.ingest import IngestSupervisor, Sizing
from recording.models import IngestLease, IngestWorker
from tests.conftest import client_for
from tests.factories import CameraFactory, UserFactory
from tests.licensing.factories import give_camera_licenses
from tests.recording.media import point_at
from workers.cpu import TreeLoad, tree_cpu_seconds

pytestmark = pytest.mark.django_db(transaction=True)  # the supervisor closes old connections each tick

SIZING = Sizing(limit=0.75, hysteresis=0.10, batch=4)


# ----------------------------------------------------------------------------- the decision


def test_it_takes_a_batch_before_anything_is_measured():
    assert SIZING.step(load=None, cameras=0) == 4
    assert SIZING.step(load=0.9, cameras=0) == 4  # a worker holding none: its load is not the cameras'


def test_it_takes_as_many_cameras_as_the_room_buys_at_its_own_cost():
    # 20 cameras at 0.3 of the cores: 0.015 each; room 0.45 buys 30, at most half the held ones at a time.
    assert SIZING.step(load=0.30, cameras=20) == 10
    # 10 cameras at 0.7: 0.07 each, room 0.05 buys none.
    assert SIZING.step(load=0.70, cameras=10) == 0


def test_cameras_still_starting_count_at_the_settled_ones_cost():
    # 5 settled cameras cost 0.5 (0.1 each); 5 more just started: 1.0 projected, nothing more to take.
    assert SIZING.step(load=0.50, cameras=10, settled=5) == 0
    assert SIZING.step(load=0.40, cameras=10, settled=10) == 5  # 0.04 each: room for 8, half the held at most
    assert SIZING.step(load=0.50, cameras=4, settled=0) == 4  # none settled, under the limit: a batch
    assert SIZING.step(load=0.80, cameras=4, settled=0) == 0


def test_it_holds_inside_the_hysteresis_band():
    assert SIZING.step(load=0.80, cameras=10, others_have_room=True) == 0
    assert SIZING.step(load=0.85, cameras=10, others_have_room=True) == 0


def test_over_its_share_it_gives_back_enough_to_come_down_but_only_to_a_worker_with_room():
    # 10 cameras at 0.95: 0.095 each; 0.2 over the limit → 3 cameras.
    assert SIZING.step(load=0.95, cameras=10, others_have_room=True) == -3
    assert SIZING.step(load=0.95, cameras=10, others_have_room=False) == 0  # nobody would record them


def test_a_hard_capacity_still_caps():
    assert SIZING.step(load=0.10, cameras=9, capacity=10) == 1
    assert SIZING.step(load=None, cameras=0, capacity=2) == 2
    assert SIZING.step(load=0.10, cameras=12, capacity=10) == -2


def test_the_share_comes_from_the_settings(settings):
    settings.RECORDING_WORKER_CPU_PERCENT = 40
    settings.RECORDING_WORKER_CPU_HYSTERESIS_PERCENT = 5
    sizing = IngestSupervisor(worker_id="s", meter=FakeMeter([None])).sizing
    assert (sizing.limit, sizing.hysteresis) == (0.40, 0.05)


# ----------------------------------------------------------------------------- measuring the process tree


def test_the_load_counts_the_children_of_the_process(tmp_path):
    """A child burning CPU shows in the parent's tree load, in process CPU time."""
    import subprocess
    import sys

    burn = "import time\nend = time.process_time() + 1.0\nwhile time.process_time() < end: pass"
    child = subprocess.Popen([sys.executable, "-c", burn])  # noqa: S603
    try:
        root = psutil.Process()
        own0, children0 = tree_cpu_seconds(root)
        child.wait(timeout=120)
        own1, children1 = tree_cpu_seconds(root)
    finally:
        child.kill()
    assert children1 - children0 >= 0.9  # the waited-for child's second of CPU is the parent's children time
    clock = iter([0.0, 10.0])
    cpu = iter([5.0, 12.0])
    meter = TreeLoad(cores=2, clock=lambda: next(clock))
    meter.cpu_seconds = lambda: next(cpu)
    assert meter.sample() is None
    assert meter.sample() == pytest.approx(0.35)  # 7 s of CPU in 10 s on 2 cores


# ----------------------------------------------------------------------------- the supervisor


class FakeMeter:
    cores = 2

    def __init__(self, loads: list[float | None]) -> None:
        self.loads = loads

    def sample(self) -> float | None:
        return self.loads.pop(0) if len(self.loads) > 1 else self.loads[0]


class QuietIngest:
    """A camera's pipeline that starts nothing: the sizing is under test, not ffmpeg."""

    def __init__(self, **kwargs) -> None:
        self.camera_id = kwargs["camera_id"]
        self.started_at = 0.0  # long settled
        self.stopped = False

    def start(self) -> QuietIngest:
        return self

    def alive(self) -> bool:
        return not self.stopped

    def stop(self, timeout: float = 0) -> None:
        self.stopped = True

    def live(self, wanted: bool) -> None:
        pass


@pytest.fixture
def six_cameras(alpha):
    give_camera_licenses(alpha.operator, count=6)
    cameras = [alpha.camera] + [CameraFactory(room=alpha.room, name=f"Alpha Cam {i}") for i in range(2, 7)]
    for i, camera in enumerate(cameras):
        point_at(camera, f"rtsp://127.0.0.1:9/cam{i}")
    return cameras


def supervisor(worker_id: str, loads: list[float | None]) -> IngestSupervisor:
    return IngestSupervisor(
        worker_id=worker_id, sync_every=1, factory=QuietIngest, meter=FakeMeter(loads), sizing=SIZING, settle_ticks=0
    )


def other_worker(load: float, limit: float = 0.75) -> IngestWorker:
    return IngestWorker.objects.create(
        worker_id="other", hostname="elsewhere", pid=1, heartbeat_at=timezone.now(), cpu_load=load, cpu_limit=limit
    )


def test_a_worker_takes_cameras_while_its_load_leaves_room_and_reports_it(six_cameras):
    w = supervisor("w1", [None, 0.30, 0.74])
    w.tick()  # nothing measured yet: a batch
    assert len(w.ingests) == 4
    row = IngestWorker.objects.get(worker_id="w1")
    assert (row.cameras, row.cpu_limit, row.cores) == (4, 0.75, 2)
    w.tick()  # 0.3 for 4 cameras: 0.075 each, room for 6 more, 2 are left
    assert len(w.ingests) == 6
    assert IngestWorker.objects.get(worker_id="w1").cpu_load == pytest.approx(0.30)


def test_a_loaded_worker_takes_no_more(six_cameras):
    w = supervisor("w1", [None, 0.74])
    w.tick()
    w.tick()
    assert len(w.ingests) == 4
    assert IngestLease.objects.filter(worker_id="").count() == 2


def test_over_its_share_a_worker_gives_cameras_back_to_a_worker_with_room_and_does_not_take_them_again(
    six_cameras,
):
    w = supervisor("w1", [None, 0.30, 0.99])
    w.tick()
    w.tick()
    assert len(w.ingests) == 6
    other_worker(load=0.20)
    w.tick()  # 0.99 for 6: 0.165 each, 0.24 over → 2 cameras back
    assert len(w.ingests) == 4
    free = IngestLease.objects.filter(worker_id="", enabled=True)
    assert free.count() == 2
    given_back = set(free.values_list("camera_id", flat=True))
    w.meter.loads = [0.10]  # the load came down: room again, but not for the cameras it just gave back
    w.tick()
    assert given_back.isdisjoint(w.ingests)


def test_over_its_share_a_worker_keeps_its_cameras_when_no_other_worker_has_room(six_cameras):
    w = supervisor("w1", [None, 0.30, 0.99])
    w.tick()
    w.tick()
    other_worker(load=0.80)  # busy too
    IngestWorker.objects.create(
        worker_id="silent",
        hostname="gone",
        pid=2,
        heartbeat_at=timezone.now() - timedelta(hours=1),
        cpu_load=0.0,
        cpu_limit=0.75,
    )
    w.tick()
    w.tick()
    assert len(w.ingests) == 6  # recording never stops for want of a taker


def test_the_staff_ingest_page_shows_each_workers_load_and_camera_count(alpha, six_cameras):
    w = supervisor("w1", [None, 0.42])
    w.tick()
    w.tick()
    staff = UserFactory(operator=alpha.operator, email="staff@example.com", is_staff=True)
    page = client_for(staff).get(reverse("recording:staff_ingest")).content.decode()
    row = page.split('class="responsive workers"')[1].split("</table>")[0]
    assert "w1" in row
    assert "42 % of its 2 cores" in row
    assert "75 %" in row
    assert ">6<" in row.replace(" ", "")
