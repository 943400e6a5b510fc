"""Congestion pages and API through Django: privacy, permissions, bad input, license stop, CSV."""

import io
import zipfile
from datetime import date, datetime, time, timedelta

import cv2
import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from congestion import services
from congestion.models import AlertSetting, Analysis, CongestionCamera, Group, HoursRule
from tests.conftest import client_for
from workers.people.detector import FakeDetector, Person

from .conftest import give_option, jpeg, register

PATCH_BGR = (7, 201, 99)  # a colour that appears nowhere else


def url(name, cc=None, **kw):
    if cc is not None:
        kw["congestion_camera_id"] = cc.pk
    return reverse(f"congestion:{name}", kwargs=kw)


def frame_with_patch() -> bytes:
    frame = np.full((240, 320, 3), (90, 90, 90), dtype=np.uint8)
    frame[60:200, 100:160] = PATCH_BGR  # "clothes" of the person below
    return cv2.imencode(".png", frame)[1].tobytes()


def analyse(cc, frame: bytes | None = None, people=None, minute=None):
    image = frame or jpeg(320, 240)
    if image.startswith(b"\x89PNG"):  # the camera sends JPEG; keep the patch exact by encoding at top quality
        image = cv2.imencode(".jpg", cv2.imdecode(np.frombuffer(image, np.uint8), 1), [cv2.IMWRITE_JPEG_QUALITY, 100])[
            1
        ].tobytes()
    detector = FakeDetector(people if people is not None else [Person(95, 40, 165, 220, 0.9)])
    return services.analysis_run(
        congestion_camera_id=cc.pk, minute=minute or timezone.now(), grab=lambda c: image, detector=detector
    )


def test_the_public_image_served_contains_no_pixel_of_the_frame(cc, alpha):
    services.background_set(user=alpha.admin, congestion_camera=cc, which="day", jpeg=jpeg(320, 240, (240, 240, 240)))
    assert analyse(cc, frame_with_patch()) == "done"
    response = client_for(alpha.viewer).get(url("camera_image", cc))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    served = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR).astype(int)
    distance = np.abs(served - np.array(PATCH_BGR)).sum(axis=2)
    assert distance.min() > 60, "a pixel close to the frame's unique colour reached the public image"
    # ...while the monitoring frame (admins only) does show it: the test can tell the two apart.
    raw = client_for(alpha.admin).get(url("camera_monitoring_frame", cc))
    raw_img = cv2.imdecode(np.frombuffer(raw.content, np.uint8), cv2.IMREAD_COLOR).astype(int)
    assert np.abs(raw_img - np.array(PATCH_BGR)).sum(axis=2).min() < 30


def test_viewers_see_pages_but_cannot_write_or_monitor(cc, alpha):
    viewer = client_for(alpha.viewer)
    for name in ("camera_detail", "camera_image", "camera_prediction", "camera_history"):
        assert viewer.get(url(name, cc)).status_code == 200, name
    assert viewer.get(url("index")).status_code == 200
    for name in (
        "camera_settings",
        "camera_monitoring",
        "camera_monitoring_frame",
        "camera_alerts",
        "camera_hours",
        "camera_remove",
    ):
        assert viewer.get(url(name, cc)).status_code == 403, name
        assert viewer.post(url(name, cc), {}).status_code in (403, 405), name
    assert viewer.post(url("camera_add"), {"camera": alpha.camera.pk}).status_code == 403
    assert viewer.post(url("group_add"), {"name": "x"}).status_code == 403
    assert viewer.post(url("camera_remove", cc)).status_code == 403
    assert CongestionCamera.objects.filter(pk=cc.pk).exists()
    api = client_for(alpha.viewer)
    assert api.get("/api/v1/congestion/cameras/").status_code == 200
    assert (
        api.patch(f"/api/v1/congestion/cameras/{cc.pk}/", {"level": 5}, content_type="application/json").status_code
        == 403
    )


def test_every_admin_page_renders_in_both_languages(cc, alpha):
    group = services.group_create(user=alpha.admin, operator=alpha.operator, name="G", cameras=[cc], default_camera=cc)
    admin = client_for(alpha.admin)
    pages = [
        url(n, cc)
        for n in (
            "camera_detail",
            "camera_settings",
            "camera_monitoring",
            "camera_alerts",
            "camera_hours",
            "camera_prediction",
            "camera_history",
            "camera_remove",
        )
    ]
    pages += [
        url("index"),
        url("camera_add"),
        url("group_list"),
        url("group_add"),
        url("group_detail", group_id=group.pk),
        url("group_edit", group_id=group.pk),
        url("group_delete", group_id=group.pk),
        url("group_alerts", group_id=group.pk),
        url("group_prediction", group_id=group.pk),
    ]
    for page in pages:
        assert admin.get(page).status_code == 200, page
    admin.cookies["django_language"] = "ja"
    assert "混雑予測" in admin.get(url("camera_prediction", cc), HTTP_ACCEPT_LANGUAGE="ja").content.decode()


def test_license_overrun_is_explained_on_every_page(alpha, second_camera):
    give_option(alpha.operator, 1)
    cc = register(alpha)
    register(second_camera)
    admin = client_for(alpha.admin)
    for page in (url("index"), url("camera_detail", cc), url("group_list"), url("camera_settings", cc)):
        body = admin.get(page).content.decode()
        assert "Congestion analysis is stopped for ALL cameras" in body, page
        assert "2 cameras are registered but this account holds 1" in body
    assert analyse(cc) == "blocked"


def test_camera_add_only_own_licensed_cameras_with_a_confirmation(alpha, bravo):
    from licensing.models import License
    from tests.licensing.factories import give_camera_licenses

    give_option(alpha.operator, 1)
    lic = give_camera_licenses(alpha.operator, count=1)[0]
    License.objects.filter(pk=lic.pk).update(device=alpha.camera)
    admin = client_for(alpha.admin)
    assert admin.post(url("camera_add"), {"camera": bravo.camera.pk}).status_code == 200  # not a choice: form error
    confirm = admin.post(url("camera_add"), {"camera": alpha.camera.pk})
    assert b"Add this camera?" in confirm.content and not CongestionCamera.objects.exists()
    done = admin.post(url("camera_add"), {"camera": alpha.camera.pk, "confirm": "1"}, follow=True)
    assert CongestionCamera.objects.get().camera == alpha.camera
    assert b"was added to congestion visualization" in done.content


@pytest.mark.parametrize(
    "data, message",
    [
        ({"steps": 3, "threshold_1": 10, "threshold_2": 5}, "ascending order"),
        ({"steps": 2, "threshold_1": 1000}, "between 0 and 999"),
        (
            {
                "steps": 2,
                "threshold_1": 5,
                "mail_enabled": "on",
                "recipients": "\n".join(f"a{i}@example.com" for i in range(6)),
            },
            "at most 5 addresses",
        ),
    ],
)
def test_bad_alert_input_saves_nothing(cc, alpha, data, message):
    base = {f"image_action_{n}": "keep" for n in (1, 2, 3)}
    response = client_for(alpha.admin).post(url("camera_alerts", cc), base | data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AlertSetting.objects.exists()


@pytest.mark.parametrize(
    "upload, message",
    [
        (b"\x89PNG\r\n\x1a\n" + b"0" * 100, "Only JPEG images"),
        (jpeg(1921, 100), "at most 1920×1280"),
        (b"\xff\xd8\xff" + b"0" * (1024 * 1024 + 1), "larger than 1 MB"),
    ],
)
def test_bad_alert_and_offhours_images_save_nothing(cc, alpha, upload, message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    admin = client_for(alpha.admin)
    data = {
        "steps": 2,
        "threshold_1": 5,
        "image_enabled": "on",
        "image_action_1": "keep",
        "image_action_2": "upload",
        "image_action_3": "keep",
        "image_file_2": SimpleUploadedFile("a.jpg", upload, "image/jpeg"),
    }
    response = admin.post(url("camera_alerts", cc), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not AlertSetting.objects.exists()
    response = admin.post(
        url("camera_hours", cc), {"action": "offhours", "image": SimpleUploadedFile("b.jpg", upload, "image/jpeg")}
    )
    assert response.status_code == 400 and message in response.content.decode()
    cc.refresh_from_db()
    assert cc.offhours_image == ""
    response = admin.post(
        url("camera_background", cc),
        {"which": "day", "source": "upload", "blur_level": 3, "image": SimpleUploadedFile("c.jpg", upload[:4])},
    )
    assert response.status_code == 400
    cc.refresh_from_db()
    assert cc.background_day == ""


def test_a_51st_camera_in_a_group_is_refused(alpha):
    from tests.factories import CameraFactory

    give_option(alpha.operator, 60)
    cameras = [register(CameraFactory(room=alpha.room)) for _ in range(51)]
    response = client_for(alpha.admin).post(
        url("group_add"), {"name": "Big", "cameras": [c.pk for c in cameras], "default_camera": cameras[0].pk}
    )
    assert response.status_code == 400 and "at most 50 cameras" in response.content.decode()
    assert not Group.objects.exists()


def test_overlapping_hours_are_refused(cc, alpha):
    admin = client_for(alpha.admin)
    ok = admin.post(
        url("camera_hours", cc), {"action": "add", "kind": "base", "weekdays": [0, 1], "start": "09:00", "end": "18:00"}
    )
    assert ok.status_code == 302
    bad = admin.post(
        url("camera_hours", cc), {"action": "add", "kind": "base", "weekdays": [1], "start": "17:00", "end": "20:00"}
    )
    assert bad.status_code == 400 and "overlap" in bad.content.decode()
    assert HoursRule.objects.count() == 1


def test_outside_hours_the_off_hours_image_is_served(cc, alpha):
    services.hours_rule_add(
        user=alpha.admin, congestion_camera=cc, kind="closed", repeat="monthly", date=_business_day()
    )
    services.hours_enabled_set(user=alpha.admin, congestion_camera=cc, enabled=True)
    services.offhours_image_set(user=alpha.admin, congestion_camera=cc, jpeg=jpeg(64, 48, (0, 0, 255)))
    served = client_for(alpha.viewer).get(url("camera_image", cc)).content
    image = cv2.imdecode(np.frombuffer(served, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[:2] == (48, 64) and image[24, 32, 2] > 200


def _business_day():
    return (timezone.localtime() - timedelta(hours=6)).date()


def test_csv_download_of_one_camera_and_of_all(cc, alpha, second_camera):
    cc.display_name = "=Entrance"
    cc.save()
    other = register(second_camera, name="Back door")
    yesterday = timezone.localtime().replace(hour=12, minute=52, second=0, microsecond=0) - timedelta(days=1)
    Analysis.objects.create(
        operator=alpha.operator,
        congestion_camera=cc,
        minute=yesterday,
        status="done",
        count=3,
        captured_at=yesterday + timedelta(seconds=1),
    )
    Analysis.objects.create(
        operator=alpha.operator, congestion_camera=cc, minute=timezone.now(), status="done", count=9
    )
    month = f"{yesterday:%Y-%m}"
    admin = client_for(alpha.viewer)
    response = admin.get(url("camera_csv", cc), {"month": month})
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    [name] = archive.namelist()
    expected = (
        '\ufeff"カメラ名称","企業名称","タイムスタンプ","カメラ識別子","検知人数"\n'
        f'"Entrance","Alpha","{yesterday:%Y-%m-%d %H:%M}:01","{cc.camera_id}","3"\n'
    ).encode()
    assert archive.read(name) == expected  # today's row is not in it: the current month ends yesterday
    everything = zipfile.ZipFile(io.BytesIO(admin.get(url("csv_all"), {"month": month}).content))
    assert len(everything.namelist()) == 2
    assert other.display_name in " ".join(everything.namelist()).replace("_", " ")


def test_csv_camera_identifier_survives_removing_and_re_adding_the_camera(cc, alpha):
    day = date(2024, 5, 10)

    def identifiers(congestion_camera) -> set[str]:
        moment = timezone.make_aware(datetime.combine(day, time(9)))
        Analysis.objects.create(
            operator=alpha.operator, congestion_camera=congestion_camera, minute=moment, status="done", count=1
        )
        data = services.camera_month_csv(
            congestion_camera=congestion_camera, year=2024, month=5, today=date(2024, 6, 1)
        )
        return {line.split(",")[3] for line in data.decode("utf-8-sig").splitlines()[1:]}

    before = identifiers(cc)
    old_key = cc.embed_key
    services.camera_remove(user=alpha.admin, congestion_camera=cc)
    again = register(alpha)
    assert again.embed_key != old_key  # the public URL changed…
    assert identifiers(again) == before == {f'"{alpha.camera.pk}"'}  # …the CSV identifier did not


def test_prediction_page_says_not_enough_data(cc, alpha):
    body = client_for(alpha.viewer).get(url("camera_prediction", cc)).content.decode()
    assert "Not enough data" in body


def test_api_alert_and_count(cc, alpha):
    api = client_for(alpha.admin)
    bad = api.put(
        f"/api/v1/congestion/cameras/{cc.pk}/alert/",
        {"steps": 3, "thresholds": [9, 3]},
        content_type="application/json",
    )
    assert bad.status_code == 400 and not AlertSetting.objects.exists()
    good = api.put(
        f"/api/v1/congestion/cameras/{cc.pk}/alert/", {"steps": 2, "thresholds": [1]}, content_type="application/json"
    )
    assert good.status_code == 200
    analyse(cc)
    count = api.get(f"/api/v1/congestion/cameras/{cc.pk}/count/").json()
    assert count["count"] == 1 and count["step"] == 2 and count["label"] == "Crowded"
