"""Recording conditions (撮影条件): automatic same-room triggers and admin-added cross-room ones."""

import pytest
from django.urls import reverse

from recording.models import RecordingCondition
from recording.selectors import cameras_triggered_by
from recording.services import condition_add
from tests.conftest import client_for
from tests.factories import CameraFactory, SensorFactory

pytestmark = pytest.mark.django_db


def conditions_url(camera) -> str:
    return reverse("recording:conditions", kwargs={"camera_id": camera.pk})


def add_url(camera) -> str:
    return reverse("recording:condition_add", kwargs={"camera_id": camera.pk})


def delete_url(camera, sensor) -> str:
    return reverse("recording:condition_delete", kwargs={"camera_id": camera.pk, "sensor_id": sensor.pk})


def api_list_url(camera) -> str:
    return reverse("camera-recording-conditions", kwargs={"camera_id": camera.pk})


def api_one_url(camera, sensor) -> str:
    return reverse("camera-recording-condition", kwargs={"camera_id": camera.pk, "sensor_id": sensor.pk})


def test_a_sensor_triggers_every_camera_of_its_own_room_without_setup(alpha, site):
    second_cam = CameraFactory(room=alpha.room, name="Alpha Entrance Cam 2")
    assert list(cameras_triggered_by(sensor=alpha.sensor)) == [alpha.camera, second_cam]
    assert list(cameras_triggered_by(sensor=site.sensor2)) == [site.camera2]


def test_a_cross_room_condition_triggers_the_other_camera(alpha, site):
    condition_add(user=alpha.admin, camera=site.camera2, sensor=alpha.sensor)
    assert set(cameras_triggered_by(sensor=alpha.sensor)) == {alpha.camera, site.camera2}
    assert list(cameras_triggered_by(sensor=site.sensor2)) == [site.camera2]  # not the reverse


def test_a_camera_standing_in_for_its_sensor_triggers_its_conditions(alpha, site):
    condition_add(user=alpha.admin, camera=site.camera2, sensor=alpha.sensor)
    assert set(cameras_triggered_by(sensor=alpha.camera)) == {alpha.camera, site.camera2}


def test_the_camera_page_lists_automatic_and_added_conditions(alpha, site):
    condition_add(user=alpha.admin, camera=alpha.camera, sensor=site.sensor2)
    response = client_for(alpha.viewer).get(conditions_url(alpha.camera))  # every role may read
    assert response.status_code == 200
    content = response.content.decode()
    assert "Alpha Sensor" in content and "Automatic (same room)" in content
    assert "Alpha Parking Sensor" in content and "Added condition" in content


def test_admin_adds_a_condition_through_room_sensor_and_confirmation(alpha, site):
    client = client_for(alpha.admin)
    step1 = client.get(add_url(alpha.camera))
    assert b"Alpha Parking" in step1.content
    assert b"Alpha Entrance</option>" not in step1.content  # the camera's own room is not offered
    step2_url = f"{add_url(alpha.camera)}?room={site.room2.pk}"
    assert b"Alpha Parking Sensor" in client.get(step2_url).content
    confirm = client.post(step2_url, {"sensor": site.sensor2.pk})
    assert b"Set" in confirm.content
    assert not RecordingCondition.objects.exists()  # nothing before the confirmation
    done = client.post(step2_url, {"sensor": site.sensor2.pk, "confirm": "1"}, follow=True)
    assert b"now also records when Alpha Parking Sensor detects motion" in done.content
    assert RecordingCondition.objects.get().camera == alpha.camera


def test_a_same_room_sensor_cannot_be_added_as_a_condition(alpha):
    with pytest.raises(Exception, match="own room trigger it automatically"):
        condition_add(user=alpha.admin, camera=alpha.camera, sensor=alpha.sensor)
    assert not RecordingCondition.objects.exists()


def test_the_automatic_condition_cannot_be_deleted(alpha):
    client = client_for(alpha.admin)
    page = client.get(delete_url(alpha.camera, alpha.sensor))
    assert b"cannot be deleted" in page.content
    assert client.post(delete_url(alpha.camera, alpha.sensor)).status_code == 400
    response = client.delete(api_one_url(alpha.camera, alpha.sensor))
    assert response.status_code == 409  # well formed; the sensor's room refuses it (the page keeps its 400)
    assert "cannot be deleted" in str(response.json())
    assert list(cameras_triggered_by(sensor=alpha.sensor)) == [alpha.camera]


def test_an_added_condition_is_deleted_after_confirmation(alpha, site):
    condition_add(user=alpha.admin, camera=alpha.camera, sensor=site.sensor2)
    client = client_for(alpha.admin)
    confirm = client.get(delete_url(alpha.camera, site.sensor2))
    assert b"Do you really want to delete it?" in confirm.content and b"Alpha Parking Sensor" in confirm.content
    assert RecordingCondition.objects.exists()
    done = client.post(delete_url(alpha.camera, site.sensor2), follow=True)
    assert b"The recording condition was deleted" in done.content
    assert not RecordingCondition.objects.exists()


def test_delete_all_removes_every_added_condition_and_keeps_the_automatic(alpha, site):
    third = SensorFactory(parent=CameraFactory(room=site.other_room), name="Annex Sensor")
    condition_add(user=alpha.admin, camera=alpha.camera, sensor=site.sensor2)
    condition_add(user=alpha.admin, camera=alpha.camera, sensor=third)
    url = reverse("recording:conditions_delete_all", kwargs={"camera_id": alpha.camera.pk})
    client = client_for(alpha.admin)
    assert b"Annex Sensor" in client.get(url).content
    done = client.post(url, follow=True)
    assert b"2 recording conditions were deleted." in done.content
    assert list(cameras_triggered_by(sensor=alpha.sensor)) == [alpha.camera]


def test_api_lists_adds_and_deletes_conditions(alpha, site):
    client = client_for(alpha.admin)
    response = client.post(api_list_url(alpha.camera), {"sensor": site.sensor2.pk}, content_type="application/json")
    assert response.status_code == 201, response.content
    listed = client.get(api_list_url(alpha.camera)).json()
    assert [(c["sensor"], c["automatic"]) for c in listed] == [(alpha.sensor.pk, True), (site.sensor2.pk, False)]
    assert client.delete(api_one_url(alpha.camera, site.sensor2)).status_code == 204
    assert not RecordingCondition.objects.exists()


def test_api_adding_a_sensor_that_already_triggers_the_camera_is_a_409(alpha, site):
    # Well formed; refused by what is stored (the sensor's room, or the condition already there).
    client = client_for(alpha.admin)
    url = api_list_url(alpha.camera)
    same_room = client.post(url, {"sensor": alpha.sensor.pk}, content_type="application/json")
    assert same_room.status_code == 409 and "automatically" in same_room.json()["sensor"][0]
    assert client.post(url, {"sensor": site.sensor2.pk}, content_type="application/json").status_code == 201
    again = client.post(url, {"sensor": site.sensor2.pk}, content_type="application/json")
    assert again.status_code == 409 and again.json() == {"sensor": ["This sensor already triggers the camera."]}


def test_another_operators_sensor_or_camera_is_refused(alpha, bravo):
    client = client_for(alpha.admin)
    response = client.post(api_list_url(alpha.camera), {"sensor": bravo.sensor.pk}, content_type="application/json")
    assert response.status_code == 400
    assert "sensor" in response.json()
    assert (
        client.post(
            api_list_url(bravo.camera), {"sensor": alpha.sensor.pk}, content_type="application/json"
        ).status_code
        == 404
    )
    # The page's room step with another operator's room, and a forged sensor id in the sensor step.
    assert client.get(f"{add_url(alpha.camera)}?room={bravo.room.pk}").status_code == 404
    assert client.get(add_url(bravo.camera)).status_code == 404
    assert client.post(delete_url(alpha.camera, bravo.sensor)).status_code == 404
    assert not RecordingCondition.objects.exists()
    with pytest.raises(Exception, match="Choose a motion sensor"):
        condition_add(user=alpha.admin, camera=alpha.camera, sensor=bravo.sensor)


def test_a_forged_sensor_of_another_room_is_refused_in_the_sensor_step(alpha, site):
    step2_url = f"{add_url(alpha.camera)}?room={site.room2.pk}"
    response = client_for(alpha.admin).post(step2_url, {"sensor": alpha.sensor.pk, "confirm": "1"})
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert not RecordingCondition.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "device_operator"])
def test_non_admins_cannot_add_or_delete_conditions(alpha, site, role):
    condition_add(user=alpha.admin, camera=alpha.camera, sensor=site.sensor2)
    client = client_for(getattr(alpha, role))
    assert client.get(add_url(alpha.camera)).status_code == 403
    assert (
        client.post(
            f"{add_url(alpha.camera)}?room={site.room2.pk}", {"sensor": site.sensor2.pk, "confirm": "1"}
        ).status_code
        == 403
    )
    assert client.post(delete_url(alpha.camera, site.sensor2)).status_code == 403
    assert client.delete(api_one_url(alpha.camera, site.sensor2)).status_code == 403
    assert (
        client.post(
            api_list_url(alpha.camera), {"sensor": alpha.sensor.pk}, content_type="application/json"
        ).status_code
        == 403
    )
    assert RecordingCondition.objects.count() == 1


def test_outsider_gets_404_on_every_recording_route(alpha, bravo):
    """Every recording URL with bravo's ids, every method, as alpha's admin: 404 (or 405) only."""
    client = client_for(alpha.admin)
    urls = [
        reverse("recording:notification_building", kwargs={"building_id": bravo.building.pk}),
        reverse("recording:notification_bulk_recipients", kwargs={"building_id": bravo.building.pk}),
        reverse("recording:notification_bulk_type", kwargs={"building_id": bravo.building.pk}),
        reverse("recording:notification_room", kwargs={"room_id": bravo.room.pk}),
        conditions_url(bravo.camera),
        add_url(bravo.camera),
        reverse("recording:conditions_delete_all", kwargs={"camera_id": bravo.camera.pk}),
        delete_url(bravo.camera, bravo.sensor),
        reverse("room-notification-setting", kwargs={"room_id": bravo.room.pk}),
        reverse("building-notification-settings", kwargs={"building_id": bravo.building.pk}),
        reverse("building-notification-recipients", kwargs={"building_id": bravo.building.pk}),
        reverse("building-notification-type", kwargs={"building_id": bravo.building.pk}),
        api_list_url(bravo.camera),
        api_one_url(bravo.camera, bravo.sensor),
    ]
    for url in urls:
        statuses = {
            m: getattr(client, m)(url, content_type="application/json").status_code
            for m in ("get", "post", "put", "patch", "delete")
        }
        assert set(statuses.values()) <= {404, 405}, (url, statuses)
        assert 404 in statuses.values(), (url, statuses)
    # A sensor (not a camera) in the camera slot is a 404 too.
    assert client.get(conditions_url(alpha.sensor)).status_code == 404
