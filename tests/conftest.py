"""Shared fixtures: two operators built the same way (healthchecks' hc/test.py pattern).

`alpha` is the operator under test with an admin, a viewer and a device operator; `bravo`
is the outsider whose objects must always be a 404 for alpha's users.
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tenants.models import Role
from tests.factories import (
    PASSWORD,
    BuildingFactory,
    CameraFactory,
    OperatorFactory,
    RoomFactory,
    SensorFactory,
    UserFactory,
)
from tests.live_asgi import live_asgi  # noqa: F401 - the ASGI live server fixture for every test folder
from tests.waiting import patience

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


def _thread_local_join_guard() -> None:
    """Celery's "Never call result.get() within a task" guard is one process-wide flag that an eager task sets
    while it runs and puts back after (celery.result.denied_join_result). The tests run tasks eagerly in
    threads too (simulated workers, live servers): two threads interleaving leave the flag set for good, and
    every later `.get()` in that xdist worker fails (seen in a loaded run with 4 workers). Per thread here, as
    the guard means it: a task's own thread may not join; another thread is not inside that task."""
    import threading

    import celery.result

    local = threading.local()

    def will_block() -> bool:
        return getattr(local, "blocks", False)

    def set_will_block(blocks: bool) -> None:
        local.blocks = blocks

    celery.result.task_join_will_block = will_block
    celery.result._set_task_join_will_block = set_will_block


_thread_local_join_guard()


@dataclass
class Tenant:
    operator: object
    admin: object
    viewer: object
    device_operator: object
    building: object
    room: object
    camera: object
    sensor: object


def build_tenant(name: str, prefix: str) -> Tenant:
    operator = OperatorFactory(name=name)
    admin = UserFactory(operator=operator, email=f"{prefix}-admin@example.com", name=f"{name} admin", role=Role.ADMIN)
    viewer = UserFactory(operator=operator, email=f"{prefix}-viewer@example.com", role=Role.VIEWER)
    devop = UserFactory(operator=operator, email=f"{prefix}-devop@example.com", role=Role.DEVICE_OPERATOR)
    building = BuildingFactory(operator=operator, name=f"{name} Tower")
    room = RoomFactory(building=building, name=f"{name} Entrance")
    camera = CameraFactory(room=room, name=f"{name} Cam")
    sensor = SensorFactory(parent=camera, name=f"{name} Sensor")
    return Tenant(operator, admin, viewer, devop, building, room, camera, sensor)


@pytest.fixture
def alpha(db) -> Tenant:
    return build_tenant("Alpha", "alpha")


@pytest.fixture
def bravo(db) -> Tenant:
    return build_tenant("Bravo", "bravo")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def alpha_licensed(alpha) -> Tenant:
    """Registering a camera needs a free license (docs/product.md §7): alpha holds five, bravo none."""
    from tests.licensing.factories import give_camera_licenses

    give_camera_licenses(alpha.operator, count=5)
    return alpha


@pytest.fixture
def media_in_tmp(settings, tmp_path):
    """Stored files (images, clips) go to this test's own folder on the file system."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}


@pytest.fixture(autouse=True)
def english_by_default():
    """A request in Japanese leaves Japanese active in the thread; each test starts in English."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")


# Headless Chromium (Debian's, /usr/bin/chromium) driven by Playwright, shared by every test folder:
# Playwright's sync API allows one running instance per thread. Its own browser download cannot
# work here (no internet). Screenshots go to artifacts/ so CI keeps them.
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# How long a page waits for an element, a navigation or a function (a guard, never a measurement): Playwright's
# own 30 s is less than a page load, an hls.js start or a click's navigation can take on a loaded machine.
PAGE_PATIENCE_MS = patience(15) * 1000


def patient(browser):
    """`browser`, whose every new context waits `PAGE_PATIENCE_MS` (and so every page in it, the tests' own
    contexts and second tabs too, unless a call says otherwise)."""
    new_context = browser.new_context

    def patient_context(*args, **kwargs):
        context = new_context(*args, **kwargs)
        context.set_default_timeout(PAGE_PATIENCE_MS)
        return context

    browser.new_context = patient_context
    return browser


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run bin/setup (installs Debian's chromium)")
    with sync_playwright() as playwright:
        browser = patient(playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS))
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()  # waits PAGE_PATIENCE_MS: a guard, every wait in a page is on an element or event
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str, target=None) -> Path:
        path = ARTIFACTS / f"{name}.png"
        (target or page).screenshot(path=str(path), full_page=True)
        return path

    return take


# Markers (docs/development.md): `browser` and `media` are added here from what a test uses, so that
# `-m "not browser and not media"` is the quick part; `needs_postgres` is skipped on the embedded SQLite.
FOOTAGE = Path(settings.BASE_DIR) / "var" / "media-fixtures" / "vtest.mp4"
MEDIA_FIXTURES = {"vtest", "camera", "own_camera", "locked_camera", "fragmented_segments", "fake_server"}


def _uses_media(item: pytest.Item) -> bool:
    """Real ffmpeg or RTSP: a media fixture, or a module that starts a simulated camera or cuts the footage."""
    if MEDIA_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    module = getattr(item, "module", None)
    for value in vars(module).values() if module else ():
        if isinstance(value, Path) and value == FOOTAGE:
            return True
        if isinstance(value, type) and (value.__module__, value.__name__) == ("demo.rtsp_sim", "SimCamera"):
            return True
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "page" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
        if _uses_media(item):
            item.add_marker(pytest.mark.media)


def pytest_runtest_setup(item: pytest.Item) -> None:
    marker = item.get_closest_marker("needs_postgres")
    if marker is None:
        return
    from django.db import connection

    if connection.vendor != "postgresql":
        needs = marker.args[0] if marker.args else "concurrent writers that SQLite cannot give"
        pytest.skip(f"needs PostgreSQL ({needs}); this run uses {connection.vendor} (set DATABASE_URL)")
