"""Issue 17 points 6-14: the manual's (003) missing congestion screens and their API."""

import io
import json
import zipfile
from datetime import date, datetime, time, timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse
from django.utils import timezone

from congestion import selectors, services
from congestion.models import DEFAULT_LEVEL, Analysis, Group, HoursRule, Mode
from tests.conftest import client_for
from tests.licensing.factories import give_camera_licenses
from workers.people.detector import FakeDetector, Person

from .conftest import give_option, jpeg, register

MINUTE = datetime.fromisoformat("2024-06-03T10:00:00+09:00")  # a Monday


def url(name, **kw):
    return reverse(f"congestion:{name}", kwargs=kw)


class LevelSpy(FakeDetector):
    """Records the detection level each analysis asked for."""

    def __init__(self):
        super().__init__([Person(5, 5, 20, 40, 0.9)])
        self.levels = []

    def detect(self, frame_bgr, *, level=None):
        self.levels.append(level)
        return super().detect(frame_bgr, level=level)


def _analyse_with_spy(cc, minute=MINUTE) -> LevelSpy:
    spy = LevelSpy()
    services.analysis_run(
        congestion_camera_id=cc.pk,
        minute=minute,
        grab=lambda camera: jpeg(320, 240),
        detector=spy,
        now=lambda: minute + timedelta(seconds=3),
    )
    return spy


# ----------------------------------------------------------------------------- 12. embed key in the group list


def test_the_group_list_shows_each_groups_embed_key(cc, alpha):
    group = services.group_create(
        user=alpha.admin, operator=alpha.operator, name="Floor", cameras=[cc], default_camera=cc
    )
    page = client_for(alpha.viewer).get(url("group_list")).content.decode()
    assert "Embed key" in page and group.embed_key in page
    api = client_for(alpha.viewer).get("/api/v1/congestion/groups/").json()
    assert api["results"][0]["embed_key"] == group.embed_key


# ----------------------------------------------------------------------------- 9. detection level: detailed mode only


@pytest.mark.parametrize("mode", [Mode.STANDARD, Mode.WIDE])
def test_a_leftover_level_is_ignored_outside_detailed_mode(cc, mode):
    cc.mode, cc.level = Mode.DETAILED, 5
    cc.save()
    assert _analyse_with_spy(cc).levels == [5]
    cc.mode = mode  # switched away from detailed: level 5 is left over
    cc.save()
    spy = _analyse_with_spy(cc, MINUTE + timedelta(minutes=1))
    assert spy.levels and set(spy.levels) == {DEFAULT_LEVEL}


def test_the_level_row_is_hidden_for_standard_and_shown_for_detailed(cc, alpha):
    admin = client_for(alpha.admin)
    page = admin.get(url("camera_settings", congestion_camera_id=cc.pk)).content.decode()
    assert 'id="level-row" data-shown-for-mode="detailed" hidden' in page
    cc.mode = Mode.DETAILED
    cc.save()
    page = admin.get(url("camera_settings", congestion_camera_id=cc.pk)).content.decode()
    assert 'id="level-row" data-shown-for-mode="detailed">' in page


def test_saving_standard_mode_keeps_the_stored_level_and_needs_none(cc, alpha):
    cc.level = 4
    cc.save()
    admin = client_for(alpha.admin)
    form = {"display_name": "Hall", "enabled": "on", "mode": "standard", "background_pattern": "fixed"}
    assert admin.post(url("camera_settings", congestion_camera_id=cc.pk), form).status_code == 302
    cc.refresh_from_db()
    assert cc.display_name == "Hall" and cc.level == 4
    # Through the API too: a level sent with wide-area mode is not saved.
    response = client_for(alpha.admin).patch(
        f"/api/v1/congestion/cameras/{cc.pk}/", {"mode": "wide", "level": 1}, content_type="application/json"
    )
    assert response.status_code == 200
    cc.refresh_from_db()
    assert cc.mode == "wide" and cc.level == 4
    # Detailed mode still requires a valid level and saves it.
    response = admin.post(url("camera_settings", congestion_camera_id=cc.pk), form | {"mode": "detailed", "level": "2"})
    assert response.status_code == 302
    cc.refresh_from_db()
    assert cc.level == 2


# ----------------------------------------------------------------------------- 13. alert mail sender


def _alert_and_cross(alpha, cc, django_capture_on_commit_callbacks, minute=MINUTE):
    services.alert_update(
        user=alpha.admin, congestion_camera=cc, steps=2, thresholds=[1], image_enabled=False, images=[],
        mail_enabled=True, recipients=["guard@example.com"],
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        services.analysis_run(
            congestion_camera_id=cc.pk,
            minute=minute,
            grab=lambda camera: jpeg(),
            detector=FakeDetector([Person(5, 5, 12, 40, 0.9), Person(20, 5, 27, 40, 0.9)]),
            now=lambda: minute + timedelta(seconds=3),
        )


@override_settings(DEFAULT_FROM_EMAIL="portal@example.net")
def test_alert_mails_fall_back_to_default_from_email(cc, alpha, django_capture_on_commit_callbacks):
    _alert_and_cross(alpha, cc, django_capture_on_commit_callbacks)
    assert [m.from_email for m in mail.outbox] == ["portal@example.net"]


@override_settings(DEFAULT_FROM_EMAIL="portal@example.net")
def test_an_operator_sends_alert_mails_from_its_own_address(cc, alpha, bravo, django_capture_on_commit_callbacks):
    admin = client_for(alpha.admin)
    assert admin.get(url("alert_sender")).status_code == 200
    response = admin.post(url("alert_sender"), {"from_email": "alerts@shop.example.com"})
    assert response.status_code == 302
    assert selectors.alert_from_email(operator_id=alpha.operator.pk) == "alerts@shop.example.com"
    assert selectors.alert_from_email(operator_id=bravo.operator.pk) == "portal@example.net"
    _alert_and_cross(alpha, cc, django_capture_on_commit_callbacks)
    assert [m.from_email for m in mail.outbox] == ["alerts@shop.example.com"]


def test_a_bad_sender_address_is_refused_and_viewers_cannot_set_one(cc, alpha):
    admin = client_for(alpha.admin)
    response = admin.post(url("alert_sender"), {"from_email": "not an address"})
    assert response.status_code == 400 and selectors.alert_sender_of(operator=alpha.operator) == ""
    assert client_for(alpha.viewer).post(url("alert_sender"), {"from_email": "a@example.com"}).status_code == 403
    api = client_for(alpha.admin)
    bad = api.put("/api/v1/congestion/alert-sender/", {"from_email": "nope@"}, content_type="application/json")
    assert bad.status_code == 400 and "from_email" in bad.json()
    ok = api.put("/api/v1/congestion/alert-sender/", {"from_email": "a@example.com"}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["effective_from_email"] == "a@example.com"
    viewer = client_for(alpha.viewer)
    put = viewer.put("/api/v1/congestion/alert-sender/", {"from_email": ""}, content_type="application/json")
    assert put.status_code == 403
    cleared = api.put("/api/v1/congestion/alert-sender/", {"from_email": ""}, content_type="application/json")
    assert cleared.json()["from_email"] == ""
    assert not Group.objects.exists()  # untouched


# ----------------------------------------------------------------------------- 6. a group's business hours at once


@pytest.fixture
def group_of_two(cc, second_camera, alpha):
    other = register(second_camera)
    group = services.group_create(
        user=alpha.admin, operator=alpha.operator, name="Floor", cameras=[cc, other], default_camera=cc
    )
    return group, cc, other


def _lines(cc):
    return sorted(
        (r.kind, tuple(r.weekdays), str(r.start), str(r.end)) for r in HoursRule.objects.filter(congestion_camera=cc)
    )


def test_group_hours_are_set_on_every_camera_at_once(group_of_two, alpha):
    group, cc, other = group_of_two
    admin = client_for(alpha.admin)
    page = url("group_hours", group_id=group.pk)
    assert admin.get(page).status_code == 200
    assert page in admin.get(url("group_edit", group_id=group.pk)).content.decode()  # ④ of the group settings
    assert page in admin.get(url("group_detail", group_id=group.pk)).content.decode()
    line = {"action": "add", "kind": "base", "weekdays": ["0", "1"], "start": "09:00", "end": "17:00"}
    assert admin.post(page, line).status_code == 302
    assert admin.post(page, {"action": "toggle", "enabled": "1"}).status_code == 302
    cc.refresh_from_db(), other.refresh_from_db()
    assert cc.hours_enabled and other.hours_enabled
    assert _lines(cc) == _lines(other) == [("base", (0, 1), "09:00:00", "17:00:00")]
    # edit the line in place for the whole group
    rule = HoursRule.objects.get(congestion_camera=cc)
    edit = url("group_hours_rule_edit", group_id=group.pk, hours_rule_id=rule.pk)
    assert admin.post(edit, {"kind": "base", "weekdays": ["2"], "start": "10:00", "end": "18:00"}).status_code == 302
    assert _lines(cc) == _lines(other) == [("base", (2,), "10:00:00", "18:00:00")]
    rule.refresh_from_db()  # the same row, changed in place
    assert rule.weekdays == [2]
    # a camera changed on its own is shown as differing and can be brought back in line
    HoursRule.objects.filter(congestion_camera=other).delete()
    body = admin.get(page).content.decode()
    assert "other business hours" in body and other.display_name in body
    assert admin.post(page, {"action": "apply"}).status_code == 302
    assert _lines(other) == _lines(cc)
    delete = url("group_hours_rule_delete", group_id=group.pk, hours_rule_id=rule.pk)
    assert admin.post(delete).status_code == 302
    assert _lines(cc) == _lines(other) == []


def test_group_hours_api_replaces_every_cameras_lines_or_nothing(group_of_two, alpha):
    group, cc, other = group_of_two
    api = client_for(alpha.admin)
    path = f"/api/v1/congestion/groups/{group.pk}/hours/"
    body = {"hours_enabled": True, "lines": [{"kind": "base", "weekdays": [5, 6], "start": "10:00", "end": "20:00"}]}
    response = api.put(path, body, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["differing_cameras"] == [] and response.json()["hours_enabled"] is True
    assert _lines(cc) == _lines(other) == [("base", (5, 6), "10:00:00", "20:00:00")]
    clash = {
        "lines": [
            {"kind": "base", "weekdays": [0], "start": "09:00", "end": "17:00"},
            {"kind": "base", "weekdays": [0], "start": "12:00", "end": "19:00"},
        ]
    }
    refused = api.put(path, clash, content_type="application/json")
    assert refused.status_code == 400
    assert _lines(cc) == _lines(other) == [("base", (5, 6), "10:00:00", "20:00:00")]  # nothing saved
    assert client_for(alpha.viewer).put(path, body, content_type="application/json").status_code == 403
    assert client_for(alpha.viewer).get(path).json()["lines"][0]["weekdays"] == [5, 6]


# ----------------------------------------------------------------------------- 7. calendar, edit in place


def test_the_hours_page_shows_a_month_calendar_of_open_and_closed_days(cc, alpha):
    cc.hours_enabled = True
    cc.save()
    HoursRule.objects.create(
        operator=alpha.operator,
        congestion_camera=cc,
        kind="base",
        weekdays=[0, 1, 2, 3, 4],
        start=time(9),
        end=time(17),
    )
    HoursRule.objects.create(
        operator=alpha.operator, congestion_camera=cc, kind="closed", repeat="once", date=date(2024, 6, 5)
    )
    page = (
        client_for(alpha.admin).get(url("camera_hours", congestion_camera_id=cc.pk) + "?month=2024-06").content.decode()
    )
    assert 'data-month="2024-06"' in page
    assert 'data-date="2024-06-03" data-state="open"' in page  # Monday
    assert 'data-date="2024-06-05" data-state="closed"' in page  # the special closed day
    assert 'data-date="2024-06-08" data-state="closed"' in page  # Saturday: no line
    days = client_for(alpha.viewer).get(f"/api/v1/congestion/cameras/{cc.pk}/hours/calendar/?month=2024-06").json()
    assert len(days) == 30
    by_date = {d["date"]: d for d in days}
    assert by_date["2024-06-03"]["open"] and by_date["2024-06-03"]["spans"] == [["09:00:00", "17:00:00"]]
    assert by_date["2024-06-05"] == by_date["2024-06-05"] | {"open": False, "reason": "closed"}
    bad = client_for(alpha.viewer).get(f"/api/v1/congestion/cameras/{cc.pk}/hours/calendar/?month=2024-13")
    assert bad.status_code == 400


def test_an_hours_line_is_edited_in_place_on_the_page_and_the_api(cc, alpha):
    keep = HoursRule.objects.create(
        operator=alpha.operator, congestion_camera=cc, kind="base", weekdays=[0], start=time(6), end=time(8)
    )
    rule = HoursRule.objects.create(
        operator=alpha.operator, congestion_camera=cc, kind="base", weekdays=[0], start=time(9), end=time(17)
    )
    admin = client_for(alpha.admin)
    edit = url("hours_rule_edit", congestion_camera_id=cc.pk, hours_rule_id=rule.pk)
    assert admin.get(edit).status_code == 200
    assert admin.post(edit, {"kind": "base", "weekdays": ["0"], "start": "10:00", "end": "18:00"}).status_code == 302
    rule.refresh_from_db()
    assert (rule.start, rule.end) == (time(10), time(18))
    # overlapping another line: refused, nothing saved
    refused = admin.post(edit, {"kind": "base", "weekdays": ["0"], "start": "07:00", "end": "18:00"})
    assert refused.status_code == 400
    rule.refresh_from_db()
    assert rule.start == time(10)
    path = f"/api/v1/congestion/cameras/{cc.pk}/hours/{rule.pk}/"
    put = admin.put(
        path, {"kind": "base", "weekdays": [1], "start": "11:00", "end": "12:00"}, content_type="application/json"
    )
    assert put.status_code == 200 and put.json()["id"] == rule.pk
    assert HoursRule.objects.filter(congestion_camera=cc).count() == 2 and keep.pk != rule.pk
    # on/off through the API
    on = admin.patch(f"/api/v1/congestion/cameras/{cc.pk}/", {"hours_enabled": True}, content_type="application/json")
    assert on.status_code == 200 and on.json()["hours_enabled"] is True


# ----------------------------------------------------------------------------- 10. monitoring: pause, full screen


def test_the_monitoring_screen_has_pause_and_full_screen_controls(cc, alpha):
    page = client_for(alpha.admin).get(url("camera_monitoring", congestion_camera_id=cc.pk)).content.decode()
    assert 'data-action="pause" aria-pressed="false"' in page and 'data-action="fullscreen"' in page
    assert "congestion/monitoring.js" in page and 'id="monitoring-frame"' in page


# ----------------------------------------------------------------------------- 8. group history


def _minutes(alpha, cc, counts, start):
    for i, n in enumerate(counts):
        minute = start + timedelta(minutes=i)
        Analysis.objects.create(
            operator=alpha.operator, congestion_camera=cc, minute=minute, status="done", count=n, captured_at=minute
        )


def test_group_history_sums_its_cameras_per_minute_on_the_page_and_the_api(group_of_two, alpha):
    group, cc, other = group_of_two
    start = timezone.make_aware(datetime(2024, 6, 3, 12, 0))
    _minutes(alpha, cc, [2, 4], start)
    _minutes(alpha, other, [1, 1], start)
    viewer = client_for(alpha.viewer)
    page = viewer.get(url("group_history", group_id=group.pk) + "?day=2024-06-03")
    assert page.status_code == 200
    rows = json.loads(page.context["data"])
    assert rows == [{"t": "06-03 12:00", "point": 3, "avg": 4.0, "max": 5, "min": 3}]
    api = viewer.get(f"/api/v1/congestion/groups/{group.pk}/history/?day=2024-06-03").json()
    assert api == rows
    archive = zipfile.ZipFile(io.BytesIO(viewer.get(url("group_csv", group_id=group.pk) + "?month=2024-06").content))
    assert len(archive.namelist()) == 2


# ----------------------------------------------------------------------------- 14. API parity


def test_api_history_prediction_and_csv_of_a_camera(cc, alpha):
    start = timezone.make_aware(datetime(2024, 6, 3, 12, 0))
    _minutes(alpha, cc, [2, 4, 6], start)
    api = client_for(alpha.viewer)
    base = f"/api/v1/congestion/cameras/{cc.pk}/"
    assert api.get(base + "history/?day=2024-06-03").json() == [
        {"t": "06-03 12:00", "point": 2, "avg": 4.0, "max": 6, "min": 2}
    ]
    assert api.get(base + "history/?day=2024-06-03&days=9").status_code == 400
    prediction = api.get(base + "prediction/").json()
    assert prediction["enough_data"] is False and len(prediction["series"]) == 7
    assert api.post(base + "prediction/").status_code == 403  # viewers read only
    assert client_for(alpha.admin).post(base + "prediction/").status_code == 200
    response = api.get(base + "csv/?month=2024-06")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    [name] = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    text = zipfile.ZipFile(io.BytesIO(response.content)).read(name).decode("utf-8-sig")
    assert '"2024-06-03 12:01:00"' in text
    assert api.get(base + "csv/?month=2024-13").status_code == 400
    assert api.get("/api/v1/congestion/csv/?month=2024-06").status_code == 200
    group = services.group_create(user=alpha.admin, operator=alpha.operator, name="G", cameras=[cc], default_camera=cc)
    assert api.get(f"/api/v1/congestion/groups/{group.pk}/prediction/").json()["enough_data"] is False


def test_api_background_upload_and_capture_and_offhours_image(cc, alpha, monkeypatch):
    api = client_for(alpha.admin)
    base = f"/api/v1/congestion/cameras/{cc.pk}/"
    upload = SimpleUploadedFile("bg.jpg", jpeg(320, 240, (10, 20, 30)), content_type="image/jpeg")
    response = api.post(base + "background/", {"source": "upload", "which": "day", "image": upload})
    assert response.status_code == 200, response.content
    cc.refresh_from_db()
    assert cc.background_day
    monkeypatch.setattr(services, "grab_frame", lambda camera: jpeg(320, 240, (90, 90, 90)))
    response = api.post(base + "background/", {"source": "capture", "which": "night", "blur_level": 5})
    assert response.status_code == 200, response.content
    cc.refresh_from_db()
    assert cc.background_night and cc.blur_level == 5
    bad = SimpleUploadedFile("bg.jpg", b"not a jpeg", content_type="image/jpeg")
    assert api.post(base + "background/", {"source": "upload", "image": bad}).status_code == 400
    viewer = client_for(alpha.viewer)
    again = SimpleUploadedFile("bg.jpg", jpeg(), content_type="image/jpeg")
    assert viewer.post(base + "background/", {"source": "upload", "image": again}).status_code == 403

    own = jpeg(64, 48, (1, 2, 250))
    encoded = encode_multipart(BOUNDARY, {"image": SimpleUploadedFile("o.jpg", own, content_type="image/jpeg")})
    put = api.put(base + "offhours-image/", encoded, content_type=MULTIPART_CONTENT)
    assert put.status_code == 204, put.content
    assert viewer.get(base + "offhours-image/").content == own
    assert api.delete(base + "offhours-image/").status_code == 204
    cc.refresh_from_db()
    assert cc.offhours_image == ""


def test_api_alert_images_per_step(cc, alpha):
    api = client_for(alpha.admin)
    base = f"/api/v1/congestion/cameras/{cc.pk}/alert/"
    assert api.post(base + "image/", {"step": 1, "template": True}).status_code == 409  # no alert stored yet
    body = {"steps": 3, "thresholds": [2, 5], "image_enabled": True}
    assert api.put(base, body, content_type="application/json").status_code == 200
    assert api.post(base + "image/", {"step": 2, "template": True}).json()["images"][1] == "template"
    up = SimpleUploadedFile("a.jpg", jpeg(), content_type="image/jpeg")
    images = api.post(base + "image/", {"step": 3, "image": up}).json()["images"]
    assert images[1] == "template" and images[2] not in ("", "template")
    assert api.post(base + "image/", {"step": 2, "remove": True}).json()["images"][1] == ""
    assert api.post(base + "image/", {"step": 3, "image": SimpleUploadedFile("x.jpg", b"nope")}).status_code == 400
    assert client_for(alpha.viewer).post(base + "image/", {"step": 1, "template": True}).status_code == 403


def test_api_camera_add_over_the_option_count_warns_as_the_page_does(alpha, second_camera):
    give_option(alpha.operator, 1)
    register(alpha)
    from licensing.models import License

    lic = give_camera_licenses(alpha.operator, count=1)[0]  # the second camera holds a camera license, no option
    License.objects.filter(pk=lic.pk).update(device=second_camera)
    response = client_for(alpha.admin).post(
        "/api/v1/congestion/cameras/", {"camera": second_camera.pk}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    warning = response.json()["warning"]
    assert warning.startswith("After adding it, 2 cameras are registered but you hold 1 congestion option")


# ----------------------------------------------------------------------------- 11. first-login guided start


def test_an_empty_account_opens_on_the_guided_start_until_the_first_image(alpha):
    give_option(alpha.operator, 1)
    admin = client_for(alpha.admin)
    page = admin.get(url("index")).content.decode()
    assert 'id="getting-started"' in page and 'data-step="camera" data-done="false"' in page
    assert reverse("congestion:camera_add") in page
    cc = register(alpha)
    page = admin.get(url("index")).content.decode()
    assert 'data-step="camera" data-done="true"' in page and 'data-step="background" data-done="false"' in page
    assert url("camera_settings", congestion_camera_id=cc.pk) in page
    services.background_set(user=alpha.admin, congestion_camera=cc, which="day", jpeg=jpeg(320, 240))
    page = admin.get(url("index")).content.decode()
    assert 'data-step="image" data-done="false"' in page and url("camera_detail", congestion_camera_id=cc.pk) in page
    api = client_for(alpha.viewer).get("/api/v1/congestion/getting-started/").json()
    assert api == {"camera": cc.pk, "camera_added": True, "background_set": True, "first_image": False, "done": False}
    _analyse_with_spy(cc)  # the first analysed minute makes the first public image
    assert 'id="getting-started"' not in admin.get(url("index")).content.decode()
    assert client_for(alpha.viewer).get("/api/v1/congestion/getting-started/").json()["done"] is True
