"""Notification settings per room and per building (docs/product.md §5): pages and API."""

import pytest
from django.urls import reverse

from recording.models import NotificationSetting, NotificationType
from recording.rules import clean_recipients, type_receives
from recording.selectors import notification_setting_for
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def room_url(room) -> str:
    return reverse("recording:notification_room", kwargs={"room_id": room.pk})


def bulk_url(building) -> str:
    return reverse("recording:notification_bulk_recipients", kwargs={"building_id": building.pk})


def bulk_type_url(building) -> str:
    return reverse("recording:notification_bulk_type", kwargs={"building_id": building.pk})


# ----------------------------------------------------------------------------- rules


def test_a_room_without_a_setting_gets_troubles_only_and_no_recipients(alpha):
    setting = notification_setting_for(room=alpha.room)
    assert setting.notification_type == NotificationType.TROUBLES
    assert setting.recipients == []
    assert NotificationSetting().notification_type == NotificationType.TROUBLES


def test_recipients_are_normalized_and_deduplicated_keeping_the_typed_order():
    assert clean_recipients(["B@Example.com", "a@example.com", "b@example.com", " "]) == [
        "b@example.com",
        "a@example.com",
    ]


def test_more_than_ten_recipients_are_refused():
    with pytest.raises(Exception, match="at most 10"):
        clean_recipients([f"u{i}@example.com" for i in range(11)])


@pytest.mark.parametrize(
    ("notification_type", "trouble", "video", "motion"),
    [
        (NotificationType.NONE, False, False, False),
        (NotificationType.ALL, True, True, True),
        (NotificationType.TROUBLES, True, False, False),
        (NotificationType.VIDEO, False, True, False),
        (NotificationType.VIDEO_TROUBLES, True, True, False),
    ],
)
def test_each_type_receives_the_events_of_the_manuals_table(notification_type, trouble, video, motion):
    assert type_receives(notification_type, "trouble") is trouble
    assert type_receives(notification_type, "recovery") is trouble
    assert type_receives(notification_type, "video") is video
    assert type_receives(notification_type, "motion") is motion


# ----------------------------------------------------------------------------- pages


def test_the_building_page_lists_rooms_with_the_default_setting(alpha, site):
    response = client_for(alpha.admin).get(
        reverse("recording:notification_building", kwargs={"building_id": alpha.building.pk})
    )
    assert response.status_code == 200
    assert b"Alpha Entrance" in response.content and b"Alpha Parking" in response.content
    assert response.content.count(b"Troubles only (recommended)") >= 2


def test_admin_saves_a_rooms_setting_with_a_success_message(alpha):
    response = client_for(alpha.admin).post(
        room_url(alpha.room),
        {"recipients": "Kanri@Example.com\nguard@example.com, kanri@example.com", "notification_type": "all"},
        follow=True,
    )
    assert b"was saved" in response.content
    setting = notification_setting_for(room=alpha.room)
    assert setting.notification_type == "all"
    assert setting.recipients == ["kanri@example.com", "guard@example.com"]


def test_a_bad_address_is_refused_with_a_message_and_nothing_is_saved(alpha):
    response = client_for(alpha.admin).post(
        room_url(alpha.room), {"recipients": "ok@example.com\nnot-an-address", "notification_type": "all"}
    )
    assert response.status_code == 200
    assert "“not-an-address” is not a valid email address.".encode() in response.content
    assert not NotificationSetting.objects.filter(room=alpha.room).exists()


@pytest.mark.parametrize("role", ["viewer", "device_operator"])
def test_non_admins_get_403_on_every_notification_page(alpha, role):
    client = client_for(getattr(alpha, role))
    urls = [
        reverse("recording:index"),
        reverse("recording:notification_building", kwargs={"building_id": alpha.building.pk}),
        room_url(alpha.room),
        bulk_url(alpha.building),
        bulk_type_url(alpha.building),
    ]
    for url in urls:
        assert client.get(url).status_code == 403, url
    response = client.post(room_url(alpha.room), {"recipients": "x@example.com", "notification_type": "all"})
    assert response.status_code == 403
    assert not NotificationSetting.objects.exists()


def test_another_operators_rooms_and_buildings_are_404(alpha, bravo):
    client = client_for(alpha.admin)
    assert client.get(room_url(bravo.room)).status_code == 404
    assert client.get(bulk_url(bravo.building)).status_code == 404
    assert client.get(bulk_type_url(bravo.building)).status_code == 404
    response = client.post(bulk_url(bravo.building), {"recipients": "x@example.com", "confirm": "1"})
    assert response.status_code == 404
    response = client.post(bulk_type_url(bravo.building), {"notification_type": "all", "confirm": "1"})
    assert response.status_code == 404
    assert not NotificationSetting.objects.exists()


def test_the_index_lists_only_the_operators_own_buildings(alpha, bravo):
    response = client_for(alpha.admin).get(reverse("recording:index"))
    assert b"Alpha Tower" in response.content
    assert b"Bravo Tower" not in response.content


# ----------------------------------------------------------------------------- API


def test_api_reads_the_default_and_writes_a_rooms_setting(alpha):
    client = client_for(alpha.admin)
    url = reverse("room-notification-setting", kwargs={"room_id": alpha.room.pk})
    assert client.get(url).json()["notification_type"] == "troubles"
    response = client.put(
        url,
        {"notification_type": "video", "recipients": ["A@example.com", "a@example.com"]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["recipients"] == ["a@example.com"]
    response = client.patch(url, {"notification_type": "none"}, content_type="application/json")
    assert response.json() == {**response.json(), "notification_type": "none", "recipients": ["a@example.com"]}


def test_api_refuses_a_bad_address_per_field_and_saves_nothing(alpha):
    url = reverse("room-notification-setting", kwargs={"room_id": alpha.room.pk})
    response = client_for(alpha.admin).put(
        url, {"notification_type": "all", "recipients": ["bad"]}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "“bad” is not a valid email address." in response.json()["recipients"]
    assert not NotificationSetting.objects.exists()


def test_api_schema_says_what_the_recipients_may_be_and_takes_json_only(alpha, settings):
    from drf_spectacular.generators import SchemaGenerator

    settings.RECORDING_NOTIFICATION_MAX_RECIPIENTS = 3
    openapi = SchemaGenerator().get_schema(request=None, public=True)
    for path in ("rooms/{room_id}/notification-setting/", "buildings/{building_id}/notification-settings/recipients/"):
        content = openapi["paths"]["/api/v1/" + path]["put"]["requestBody"]["content"]
        assert list(content) == ["application/json"]  # a form cannot send an empty list
        ref = content["application/json"]["schema"]["$ref"].split("/")[-1]
        recipients = openapi["components"]["schemas"][ref]["properties"]["recipients"]
        assert recipients["maxItems"] == 3 and recipients["items"]["format"] == "email"
    url = reverse("room-notification-setting", kwargs={"room_id": alpha.room.pk})
    form = client_for(alpha.admin).put(url, "notification_type=all", content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415


def test_api_viewer_403_and_outsider_404(alpha, bravo):
    viewer = client_for(alpha.viewer)
    own = reverse("room-notification-setting", kwargs={"room_id": alpha.room.pk})
    assert viewer.get(own).status_code == 403
    assert (
        viewer.put(own, {"notification_type": "all", "recipients": []}, content_type="application/json").status_code
        == 403
    )
    admin = client_for(alpha.admin)
    for url in (
        reverse("room-notification-setting", kwargs={"room_id": bravo.room.pk}),
        reverse("building-notification-recipients", kwargs={"building_id": bravo.building.pk}),
        reverse("building-notification-type", kwargs={"building_id": bravo.building.pk}),
    ):
        assert (
            admin.put(url, {"notification_type": "all", "recipients": []}, content_type="application/json").status_code
            == 404
        )
    for url in (
        reverse("room-notification-setting", kwargs={"room_id": bravo.room.pk}),
        reverse("building-notification-settings", kwargs={"building_id": bravo.building.pk}),
    ):
        assert admin.get(url).status_code == 404
    assert not NotificationSetting.objects.exists()


def test_pages_speak_japanese(alpha, site):
    client = client_for(alpha.admin)
    client.cookies["django_language"] = "ja"
    building_page = client.get(reverse("recording:notification_building", kwargs={"building_id": alpha.building.pk}))
    assert "【推奨】トラブルのみ通知する" in building_page.content.decode()
    bad = client.post(room_url(alpha.room), {"recipients": "nope", "notification_type": "all"})
    assert "「nope」は正しいメールアドレスではありません。" in bad.content.decode()
    confirm = client.post(bulk_type_url(alpha.building), {"notification_type": "all"})
    assert "2 部屋の通知タイプを変更します" in confirm.content.decode()
