"""The camera list (`/`): one page at a time, by building and camera name, license state per camera."""

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from licensing.models import License
from portal.views import CAMERA_PAGE_SIZE
from recording.models import CameraRecording
from tests.conftest import client_for
from tests.factories import BuildingFactory, CameraFactory, RoomFactory
from tests.licensing.factories import give_camera_licenses
from tests.sharing.factories import make_share


def _names(body: str) -> list[str]:
    return re.findall(r'<strong><a href="/devices/\d+/">([^<]+)</a></strong>', body)


def _get(user, query: str = "", **headers) -> str:
    response = client_for(user).get(reverse("home") + query, **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_one_page_of_cameras_and_keeps_the_filter_on_the_next(alpha):
    for i in range(CAMERA_PAGE_SIZE + 5):
        CameraFactory(room=alpha.room, name=f"Hall {i:02d}")
    first = _get(alpha.viewer, f"?building={alpha.building.pk}")
    assert len(_names(first)) == CAMERA_PAGE_SIZE
    assert f"{CAMERA_PAGE_SIZE + 6} cameras" in first
    assert f"?building={alpha.building.pk}&amp;page=2" in first
    second = _get(alpha.viewer, f"?building={alpha.building.pk}&page=2")
    assert len(_names(second)) == 6
    assert not set(_names(first)) & set(_names(second))


def test_it_lists_one_building_and_searches_by_camera_name(alpha):
    annex = RoomFactory(building=BuildingFactory(operator=alpha.operator, name="Annex"), name="Lobby")
    CameraFactory(room=annex, name="Annex Door")
    CameraFactory(room=annex, name="Annex Parking")
    assert set(_names(_get(alpha.viewer))) == {"Alpha Cam", "Annex Door", "Annex Parking"}
    assert set(_names(_get(alpha.viewer, f"?building={annex.building_id}"))) == {"Annex Door", "Annex Parking"}
    assert _names(_get(alpha.viewer, f"?building={annex.building_id}&q=park")) == ["Annex Parking"]
    assert _names(_get(alpha.viewer, "?q=alpha")) == ["Alpha Cam"]


def test_another_operators_building_is_no_choice_and_shows_nothing_of_it(alpha, bravo):
    body = _get(alpha.viewer, f"?building={bravo.building.pk}")
    assert "Select a valid choice" in body
    assert "Bravo" not in body
    assert "Alpha Cam" in body  # the filter that did not validate is left out


def test_a_shared_camera_is_listed_but_not_under_one_of_our_buildings(alpha, bravo):
    make_share(bravo, alpha.operator, alpha.admin)
    assert "Bravo Cam" in _names(_get(alpha.admin))
    assert _names(_get(alpha.admin, f"?building={alpha.building.pk}")) == ["Alpha Cam"]


def test_no_match_says_so_in_both_languages(alpha):
    body = _get(alpha.viewer, "?q=nothing-like-this")
    assert "No camera matches this building and name." in body and not _names(body)
    body = _get(alpha.viewer, "?q=nothing-like-this", HTTP_ACCEPT_LANGUAGE="ja")
    assert "この建物・カメラ名に当てはまるカメラはありません。" in body
    assert "すべての建物" in body


def test_thumbnails_load_lazily_and_an_expired_license_shows_no_picture(alpha):
    expired = CameraFactory(room=alpha.room, name="Expired Cam")
    now = timezone.now()
    for camera in (alpha.camera, expired):
        CameraRecording.objects.create(operator=alpha.operator, camera=camera, thumbnail="t.jpg", thumbnail_at=now)
    active, old = give_camera_licenses(alpha.operator, count=2)
    today = timezone.localdate()
    License.objects.filter(pk=active.pk).update(device=alpha.camera, ends_on=today + timedelta(days=9))
    License.objects.filter(pk=old.pk).update(
        device=expired, starts_on=today - timedelta(days=40), ends_on=today - timedelta(days=1)
    )
    body = _get(alpha.viewer)
    thumbs = re.findall(
        r'<img class="camera-thumb" src="/recording/cameras/(\d+)/thumbnail.jpg[^"]*" alt="" (\S+)>', body
    )
    assert thumbs == [(str(alpha.camera.pk), 'loading="lazy"')]
    assert body.count("License expired: live view and recording stopped") == 1


def test_each_card_links_the_live_view_recordings_and_detail_of_its_own_camera(alpha):
    cameras = [alpha.camera] + [CameraFactory(room=alpha.room, name=f"Link {i}") for i in range(3)]
    body = _get(alpha.viewer)
    for camera in cameras:
        for name, arg in (
            ("recording:live", "camera_id"),
            ("recording:player", "camera_id"),
            ("devices:detail", "device_id"),
        ):
            assert f'href="{reverse(name, kwargs={arg: camera.pk})}"' in body


def test_url_for_each_reverses_as_reverse_does_under_a_script_prefix():
    from django.urls import get_script_prefix, set_script_prefix

    from portal.web import url_for_each

    before = get_script_prefix()
    set_script_prefix("/portal/")
    try:
        live = url_for_each("recording:live", "camera_id")
        for pk in (1, 7, 10, 987_654_321_012, 2**40):
            assert live(pk) == reverse("recording:live", kwargs={"camera_id": pk})
        assert live(7) == "/portal/recording/cameras/7/live/"
    finally:
        set_script_prefix(before)
