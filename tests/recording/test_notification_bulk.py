"""The two bulk notification actions of the manual (docs/product.md §5.2): recipients, and notification type.
Each changes only its own field in every room of the building; the rooms whose value differs are shown
before overwriting; a building without rooms is refused."""

import re

import pytest
from django.urls import reverse

from recording.models import NotificationSetting
from recording.selectors import notification_setting_for
from tests.conftest import client_for
from tests.factories import BuildingFactory

pytestmark = pytest.mark.django_db


def recipients_url(building) -> str:
    return reverse("recording:notification_bulk_recipients", kwargs={"building_id": building.pk})


def type_url(building) -> str:
    return reverse("recording:notification_bulk_type", kwargs={"building_id": building.pk})


def room_url(room) -> str:
    return reverse("recording:notification_room", kwargs={"room_id": room.pk})


@pytest.fixture
def differing(alpha, site):
    """Two rooms of alpha's building with different recipients and types (the manual's trap)."""
    client = client_for(alpha.admin)
    client.post(room_url(alpha.room), {"recipients": "front@example.com", "notification_type": "all"})
    client.post(room_url(site.room2), {"recipients": "parking@example.com", "notification_type": "none"})
    return client


def setting(room) -> tuple[str, list[str]]:
    s = notification_setting_for(room=room)
    return s.notification_type, s.recipients


def test_setting_only_the_type_keeps_every_rooms_recipients(alpha, site, differing):
    page = differing.get(type_url(alpha.building)).content.decode()
    assert "The rooms’ settings differ" in page or "The rooms' settings differ" in page
    differing.post(type_url(alpha.building), {"notification_type": "troubles", "confirm": "1"})
    assert setting(alpha.room) == ("troubles", ["front@example.com"])
    assert setting(site.room2) == ("troubles", ["parking@example.com"])


def test_setting_only_the_recipients_keeps_every_rooms_type(alpha, site, differing):
    response = differing.post(
        recipients_url(alpha.building),
        {"recipients": "desk@example.com\nnight@example.com", "confirm": "1"},
        follow=True,
    )
    assert "The recipients of 2 rooms were set; their notification types stayed." in response.content.decode()
    assert setting(alpha.room) == ("all", ["desk@example.com", "night@example.com"])
    assert setting(site.room2) == ("none", ["desk@example.com", "night@example.com"])
    annex = notification_setting_for(room=site.other_room)  # another building: untouched
    assert not annex.pk and annex.recipients == []


def test_the_confirmation_lists_the_rooms_that_differ_with_their_current_value(alpha, site, differing):
    response = differing.post(type_url(alpha.building), {"notification_type": "all"})
    page = response.content.decode()
    assert "This changes the notification type of 1 room, whose type differs now:" in page
    assert "Alpha Parking: No notifications" in page
    assert "1 room already has it." in page
    assert setting(site.room2) == ("none", ["parking@example.com"])  # nothing saved before the confirmation
    page = differing.post(recipients_url(alpha.building), {"recipients": "front@example.com"}).content.decode()
    assert "This overwrites the recipients of 1 room, whose recipients differ now:" in page
    assert "Alpha Parking: parking@example.com" in page


def test_the_edit_page_lists_each_rooms_current_value_and_starts_empty_when_they_differ(alpha, site, differing):
    page = differing.get(recipients_url(alpha.building)).content.decode()
    assert "front@example.com" in page and "parking@example.com" in page  # the rooms' table
    assert re.search(r'id="id_recipients">\s*</textarea>', page)  # empty: no room's value is taken for all


def test_a_bulk_action_on_a_building_without_rooms_is_refused_and_changes_nothing(alpha):
    empty = BuildingFactory(operator=alpha.operator, name="Empty Block")
    client = client_for(alpha.admin)
    for url, data in (
        (type_url(empty), {"notification_type": "all"}),
        (recipients_url(empty), {"recipients": "a@example.com"}),
    ):
        for extra in ({}, {"confirm": "1"}):
            response = client.post(url, {**data, **extra})
            assert response.status_code == 200
            assert "This building has no rooms: there is nothing to set." in response.content.decode()
    assert not NotificationSetting.objects.exists()


def test_a_bad_address_changes_no_room(alpha, site, differing):
    response = differing.post(recipients_url(alpha.building), {"recipients": "x@", "confirm": "1"})
    assert "“x@” is not a valid email address." in response.content.decode()
    assert setting(alpha.room) == ("all", ["front@example.com"])
    assert setting(site.room2) == ("none", ["parking@example.com"])


# ----------------------------------------------------------------------------- API


def test_api_type_only_and_recipients_only(alpha, site, differing):
    url = reverse("building-notification-type", kwargs={"building_id": alpha.building.pk})
    response = differing.put(url, {"notification_type": "video"}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["rooms_overwritten"] == 2
    assert setting(alpha.room) == ("video", ["front@example.com"])
    assert setting(site.room2) == ("video", ["parking@example.com"])
    url = reverse("building-notification-recipients", kwargs={"building_id": alpha.building.pk})
    response = differing.put(url, {"recipients": ["front@example.com"]}, content_type="application/json")
    assert [r["room_name"] for r in response.json()["rooms_changed"]] == ["Alpha Parking"]
    assert response.json()["rooms_changed"][0]["recipients"] == ["parking@example.com"]  # the value before
    assert setting(site.room2) == ("video", ["front@example.com"])


def test_api_dry_run_shows_the_differing_rooms_and_saves_nothing(alpha, site, differing):
    url = reverse("building-notification-type", kwargs={"building_id": alpha.building.pk})
    response = differing.put(url, {"notification_type": "none", "dry_run": True}, content_type="application/json")
    data = response.json()
    assert data["dry_run"] is True and data["rooms_overwritten"] == 0
    assert [r["room_name"] for r in data["rooms_changed"]] == ["Alpha Entrance"]
    assert setting(alpha.room) == ("all", ["front@example.com"])


def test_api_bulk_type_with_no_rooms_is_refused(alpha):
    empty = BuildingFactory(operator=alpha.operator, name="Empty Block")
    url = reverse("building-notification-type", kwargs={"building_id": empty.pk})
    response = client_for(alpha.admin).put(url, {"notification_type": "all"}, content_type="application/json")
    assert response.status_code == 400
    assert "This building has no rooms" in str(response.json())
    assert not NotificationSetting.objects.exists()


def test_api_bulk_is_for_admins(alpha):
    url = reverse("building-notification-type", kwargs={"building_id": alpha.building.pk})
    response = client_for(alpha.viewer).put(url, {"notification_type": "all"}, content_type="application/json")
    assert response.status_code == 403
    assert not NotificationSetting.objects.exists()
