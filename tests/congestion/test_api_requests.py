"""The congestion and embed APIs: what the schema says a request may be is what validation accepts (issue #14 §1,
tests/test_api_fuzz.py with FUZZ_POSITIVE=1), and a refusal by what is stored, not by the request, is a 409."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.generators import SchemaGenerator

from congestion import services
from congestion.models import MAX_ALERT_RECIPIENTS, MAX_THRESHOLD, Group, HoursRule
from tests.conftest import client_for

from .conftest import jpeg

API = "/api/v1/congestion/"


@pytest.fixture(scope="module")
def openapi():
    return SchemaGenerator().get_schema(request=None, public=True)


def _request(openapi, path, method, media="application/json"):
    content = openapi["paths"][API + path][method]["requestBody"]["content"][media]
    ref = content["schema"]["$ref"].split("/")[-1]
    return openapi["components"]["schemas"][ref], content.get("encoding", {})


def test_the_schema_documents_the_alert_as_validation_reads_it(openapi):
    alert, _ = _request(openapi, "cameras/{congestion_camera_id}/alert/", "put")
    assert alert["properties"]["steps"]["allOf"] == [{"enum": [2, 3]}]
    thresholds = alert["properties"]["thresholds"]
    assert thresholds["items"] == {"type": "integer", "minimum": 0, "maximum": MAX_THRESHOLD}
    assert "ascending" in thresholds["description"]
    assert alert["properties"]["recipients"]["maxItems"] == MAX_ALERT_RECIPIENTS
    assert alert["properties"]["recipients"]["items"]["format"] == "email"


@pytest.mark.parametrize(
    "path, method, max_bytes",
    [
        ("cameras/{congestion_camera_id}/offhours-image/", "put", services.ALERT_IMAGE_MAX_BYTES),
        ("cameras/{congestion_camera_id}/alert/image/", "post", services.ALERT_IMAGE_MAX_BYTES),
        ("groups/{group_id}/alert/image/", "post", services.ALERT_IMAGE_MAX_BYTES),
    ],
)
def test_an_image_upload_is_documented_as_a_jpeg_file_with_its_size_bound(openapi, path, method, max_bytes):
    body, encoding = _request(openapi, path, method, "multipart/form-data")
    assert body["properties"]["image"] == {
        "type": "string",
        "format": "binary",
        "maxLength": max_bytes,
        "description": body["properties"]["image"]["description"],
    }
    assert encoding == {"image": {"contentType": "image/jpeg"}}


def test_a_background_upload_is_documented_in_multipart_only(openapi):
    capture, _ = _request(openapi, "cameras/{congestion_camera_id}/background/", "post")
    assert "image" not in capture["properties"] and capture["properties"]["source"]["allOf"] == [{"enum": ["capture"]}]
    upload = _request(openapi, "cameras/{congestion_camera_id}/background/", "post", "multipart/form-data")[0]
    image = upload["properties"]["image"]
    assert image["format"] == "binary" and image["maxLength"] == services.BACKGROUND_MAX_BYTES


@pytest.mark.parametrize("name", ["", "   ", "a\x00b"])
def test_a_name_the_schema_refuses_is_refused(openapi, cc, alpha, name):
    import re

    patched = _request(openapi, "cameras/{congestion_camera_id}/", "patch")[0]["properties"]["display_name"]
    assert len(name) < patched["minLength"] or not re.search(patched["pattern"], name)
    response = client_for(alpha.admin).patch(
        f"{API}cameras/{cc.pk}/", {"display_name": name}, content_type="application/json"
    )
    assert response.status_code == 400


def test_deleting_the_default_camera_of_a_group_is_a_conflict(cc, alpha):
    Group.objects.create(operator=alpha.operator, name="G", default_camera=cc).cameras.add(cc)
    response = client_for(alpha.admin).delete(f"{API}cameras/{cc.pk}/")
    assert response.status_code == 409 and "default camera of a group" in response.content.decode()
    cc.refresh_from_db()  # still there


def test_adding_a_camera_without_an_option_license_is_a_conflict(alpha):
    from licensing.models import License
    from tests.licensing.factories import give_camera_licenses

    license = give_camera_licenses(alpha.operator, count=1)[0]
    License.objects.filter(pk=license.pk).update(device=alpha.camera)
    response = client_for(alpha.admin).post(
        f"{API}cameras/", {"camera": alpha.camera.pk}, content_type="application/json"
    )
    assert response.status_code == 409, response.content
    assert "no congestion visualization option license" in response.content.decode()


def test_hours_that_overlap_saved_ones_are_a_conflict_and_a_bad_line_a_400(cc, alpha):
    api = client_for(alpha.admin)
    line = {"kind": "base", "weekdays": [0, 1], "start": "09:00", "end": "18:00"}
    assert api.post(f"{API}cameras/{cc.pk}/hours/", line, content_type="application/json").status_code == 201
    clash = api.post(
        f"{API}cameras/{cc.pk}/hours/", line | {"weekdays": [1], "start": "17:00"}, content_type="application/json"
    )
    assert clash.status_code == 409 and "overlap" in clash.content.decode()
    backwards = api.post(
        f"{API}cameras/{cc.pk}/hours/", line | {"weekdays": [2], "start": "18:00", "end": "09:00"},
        content_type="application/json",
    )  # fmt: skip
    assert backwards.status_code == 400
    assert HoursRule.objects.count() == 1


def test_an_alert_image_before_the_alert_or_beyond_its_steps_is_a_conflict(cc, alpha):
    api = client_for(alpha.admin)
    base = f"{API}cameras/{cc.pk}/alert/"
    assert api.post(base + "image/", {"step": 1, "template": True}).status_code == 409
    assert api.put(base, {"steps": 2, "thresholds": [3]}, content_type="application/json").status_code == 200
    assert api.post(base + "image/", {"step": 3, "template": True}).status_code == 409
    up = SimpleUploadedFile("a.jpg", jpeg(), content_type="image/jpeg")
    assert api.post(base + "image/", {"step": 2, "image": up}).status_code == 200


def test_a_capture_from_a_camera_that_does_not_answer_is_a_conflict(cc, alpha, monkeypatch):
    from workers.frames import SnapshotError

    def offline(camera):
        raise SnapshotError("no answer")

    monkeypatch.setattr(services, "grab_frame", offline)
    response = client_for(alpha.admin).post(
        f"{API}cameras/{cc.pk}/background/", {"source": "capture"}, content_type="application/json"
    )
    assert response.status_code == 409 and "did not answer" in response.content.decode()


def test_a_group_beyond_the_limit_is_a_conflict(cc, alpha, monkeypatch):
    from congestion.services import groups

    monkeypatch.setattr(groups, "MAX_GROUPS", 1)
    api = client_for(alpha.admin)
    body = {"name": "One", "cameras": [cc.pk], "default_camera": cc.pk}
    assert api.post(f"{API}groups/", body, content_type="application/json").status_code == 201
    response = api.post(f"{API}groups/", body | {"name": "Two"}, content_type="application/json")
    assert response.status_code == 409 and Group.objects.count() == 1
