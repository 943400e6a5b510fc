"""The embed rate limits with their shipped defaults (docs/product.md §6.11): 30 visitors behind one NAT
watching a 4-camera generated site, each page refreshing every minute, are all served; one client
hammering is cut off and leaves the others served."""

import secrets
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.urls import reverse

import portal.settings.embeds as defaults
from congestion.models import Group
from embeds import quota
from embeds.services import site_save
from tests.congestion.conftest import give_option, register
from tests.embeds.conftest import publish
from tests.factories import CameraFactory

pytestmark = pytest.mark.django_db(transaction=True)
VISITORS = 30
CAMERAS = 4
NAT = "203.0.113.50"


class Clock:
    """The buckets' clock, moved by the test a minute at a time (nothing waits)."""

    def __init__(self) -> None:
        self.now = 60.0 * (10**7 + secrets.randbelow(10**6))
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now


@pytest.fixture
def shipped_limits(settings, monkeypatch):
    settings.EMBED_IP_CALLS_PER_CAMERA_PER_MINUTE = defaults.EMBED_IP_CALLS_PER_CAMERA_PER_MINUTE
    settings.EMBED_KEY_CALLS_PER_MINUTE = defaults.EMBED_KEY_CALLS_PER_MINUTE
    settings.EMBED_KEY_BURST = defaults.EMBED_KEY_BURST
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"  # every test request comes from 127.0.0.1
    clock = Clock()
    monkeypatch.setattr(quota, "clock", clock)
    return clock


@pytest.fixture
def site(alpha):
    give_option(alpha.operator, CAMERAS)
    cameras = [register(alpha)] + [register(CameraFactory(room=alpha.room, name=f"Cam {i}")) for i in range(1, CAMERAS)]
    for i, cc in enumerate(cameras):
        publish(cc, count=i)
    group = Group.objects.create(operator=alpha.operator, name="Floor", default_camera=cameras[0])
    group.cameras.set(cameras)
    return site_save(user=alpha.admin, group=group, enabled=True, name="Floor now")


def get(url: str, ip: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"X-Real-IP": ip})  # noqa: S310 - the live test server
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the live test server
            return response.status, response.headers.get("X-Embed-State", "")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("X-Embed-State", "")


def test_thirty_visitors_behind_one_nat_are_served_and_a_hammering_client_is_cut_off(live_server, site, shipped_limits):
    def url(name: str, index: int) -> str:
        return live_server.url + reverse(
            f"embed_public:site_{name}", kwargs={"site_key": site.key, "camera_index": index}
        )

    page = live_server.url + reverse("embed_public:site", kwargs={"site_key": site.key})

    def visit(minute: int, visitor: int) -> list[tuple[int, str]]:
        answers = []
        if minute == 0:
            answers.append(get(page, NAT))  # the page itself (no call)
        answers += [get(url("image", i), NAT) for i in range(CAMERAS)]
        if minute == 2 and visitor % 2:
            answers += [get(url("prediction", i), NAT) for i in range(CAMERAS)]  # half switch to the graph
        return answers

    def one_minute(minute: int) -> list[tuple[int, str]]:
        with ThreadPoolExecutor(VISITORS) as pool:
            return [a for answers in pool.map(lambda v: visit(minute, v), range(VISITORS)) for a in answers]

    for minute in range(4):
        answers = one_minute(minute)
        refused = [a for a in answers if a[0] != 200 or a[1] in ("rate-limited", "limit")]
        assert not refused, (minute, len(refused), refused[:3])
        shipped_limits.now += 60
    served_to_visitors = quota.used(site.operator_id)
    assert served_to_visitors == VISITORS * CAMERAS * 4 + (VISITORS // 2) * CAMERAS

    # One client hammering one camera of the site as fast as it can, 600 calls within 10 seconds.
    hammered = []
    for _ in range(600):
        shipped_limits.now += 10 / 600
        hammered.append(get(url("image", 0), "198.51.100.66")[0])
    served = hammered.count(200)
    assert hammered.count(429) == len(hammered) - served
    # A minute's allowance at once, then one call per second of refill: the rest is refused.
    allowance = defaults.EMBED_IP_CALLS_PER_CAMERA_PER_MINUTE
    assert allowance <= served <= allowance + 11, served
    assert hammered[-100:].count(200) <= 2  # the last 1.7 s: at most the refill
    assert quota.used(site.operator_id) == served_to_visitors + served  # the refused calls cost nothing

    # At their next refresh the visitors behind the NAT are all served, also on the hammered camera.
    shipped_limits.now += 50
    answers = one_minute(1)
    assert all(a[0] == 200 and a[1] == "ok" for a in answers), [a for a in answers if a[0] != 200][:3]
