from django.urls import reverse

from tests.conftest import client_for


def test_camera_page_lists_the_sensors_that_trigger_it(alpha):
    url = reverse("devices:detail", kwargs={"device_id": alpha.camera.pk})
    body = client_for(alpha.viewer).get(url).content.decode()
    assert "Recording conditions" in body
    assert alpha.sensor.name in body


def test_sensor_page_has_no_recording_conditions(alpha):
    url = reverse("devices:detail", kwargs={"device_id": alpha.sensor.pk})
    body = client_for(alpha.viewer).get(url).content.decode()
    assert "Recording conditions" not in body
