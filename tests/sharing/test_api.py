"""Sharing API (/api/v1/shares/, /api/v1/share-audit/) and a shared camera in the devices API."""

import pytest
from rest_framework.test import APIClient

from sharing.models import CameraShare, ShareStatus
from sharing.services import user_scope_set
from tests.sharing.conftest import second_room, snapshot


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def ids(response) -> set[int]:
    return {item["id"] for item in response.json()["results"]}


def test_request_and_approve_through_the_api(alpha, bravo):
    created = api(alpha.admin).post(
        "/api/v1/shares/", {"receiver_share_id": bravo.operator.share_id, "cameras": [alpha.camera.pk]}, format="json"
    )
    assert created.status_code == 201, created.content
    (body,) = created.json()
    assert body["direction"] == "outgoing" and body["status"] == "requested" and body["receiver"] == "Bravo"

    incoming = api(bravo.admin).get("/api/v1/shares/", {"direction": "incoming"}).json()["results"]
    assert [s["share_id"] for s in incoming] == [body["share_id"]]
    approved = api(bravo.admin).post(f"/api/v1/shares/{body['share_id']}/approve/")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"


def test_the_receiver_sees_the_shared_camera_in_the_devices_api_without_owner_details(alpha, bravo, shared):
    client = api(bravo.viewer)
    listed = {d["id"]: d for d in client.get("/api/v1/devices/").json()["results"]}
    assert set(listed) == {bravo.camera.pk, bravo.sensor.pk, alpha.camera.pk}
    assert listed[alpha.camera.pk]["shared_by"] == "Alpha"
    assert listed[bravo.camera.pk]["shared_by"] is None
    detail = client.get(f"/api/v1/devices/{alpha.camera.pk}/").json()
    assert detail["name"] == "Alpha Cam" and detail["shared_by"] == "Alpha"
    assert detail["mac"] is None and detail["room"] is None and detail["building"] is None and detail["sensor"] is None


@pytest.mark.parametrize(
    "method, path, data",
    [
        ("patch", "", {"name": "Taken over"}),
        ("put", "", {"name": "Taken over"}),
        ("delete", "", None),
        ("post", "exchange/", {"mac": "02:00:00:00:99:99"}),
        ("get", "stream/", None),
        ("patch", "stream/", {"stream_source": ""}),
    ],
)
def test_every_write_to_a_shared_camera_is_404_for_the_receiver(alpha, bravo, shared, method, path, data):
    before = snapshot()
    answer = getattr(api(bravo.admin), method)(f"/api/v1/devices/{alpha.camera.pk}/{path}", data, format="json")
    assert answer.status_code == 404
    assert snapshot() == before


def test_re_sharing_through_the_api_is_refused(alpha, bravo, charlie, shared):
    before = snapshot()
    answer = api(bravo.admin).post(
        "/api/v1/shares/", {"receiver_share_id": charlie.operator.share_id, "cameras": [alpha.camera.pk]}, format="json"
    )
    assert answer.status_code == 400 and "cannot be shared on" in str(answer.json()["cameras"])
    assert snapshot() == before


BAD_IDS = [("NOSUCHID99", "No operator has"), ("own", "your own share ID")]


@pytest.mark.parametrize("receiver_share_id, message", BAD_IDS)
def test_bad_share_ids_through_the_api(alpha, receiver_share_id, message):
    receiver_share_id = alpha.operator.share_id if receiver_share_id == "own" else receiver_share_id
    answer = api(alpha.admin).post(
        "/api/v1/shares/", {"receiver_share_id": receiver_share_id, "cameras": [alpha.camera.pk]}, format="json"
    )
    assert answer.status_code == 400 and message in str(answer.json()["receiver_share_id"])
    assert not CameraShare.objects.exists()


def test_approving_twice_through_the_api_is_a_conflict_with_the_reason(bravo, shared):
    answer = api(bravo.admin).post(f"/api/v1/shares/{shared.pk}/approve/")  # the share's state refuses it: 409
    assert answer.status_code == 409 and "already approved" in str(answer.json()["status"])


def test_cancel_through_the_api_ends_the_receivers_access_at_once(alpha, bravo, shared):
    receiver = api(bravo.viewer)
    assert receiver.get(f"/api/v1/devices/{alpha.camera.pk}/").status_code == 200
    assert api(alpha.admin).post(f"/api/v1/shares/{shared.pk}/cancel/").json()["status"] == "cancelled"
    assert receiver.get(f"/api/v1/devices/{alpha.camera.pk}/").status_code == 404
    assert alpha.camera.pk not in ids(receiver.get("/api/v1/devices/"))


def test_remove_through_the_api(alpha, bravo, shared):
    assert api(bravo.admin).post(f"/api/v1/shares/{shared.pk}/remove/").json()["status"] == "removed"
    assert alpha.camera.pk not in ids(api(bravo.admin).get("/api/v1/devices/"))


def test_a_viewer_cannot_approve_through_the_api(bravo, requested):
    assert api(bravo.viewer).post(f"/api/v1/shares/{requested.pk}/approve/").status_code == 403
    requested.refresh_from_db()
    assert requested.status == ShareStatus.REQUESTED


def test_the_audit_is_readable_by_both_sides_and_404_for_a_third_operator(alpha, bravo, charlie, shared):
    for user in (alpha.viewer, bravo.viewer):
        events = api(user).get(f"/api/v1/shares/{shared.pk}/audit/").json()["results"]
        assert [e["action"] for e in events] == ["approve", "request"]
        assert len(api(user).get("/api/v1/share-audit/").json()["results"]) == 2
    outsider = api(charlie.admin)
    assert outsider.get(f"/api/v1/shares/{shared.pk}/").status_code == 404
    assert outsider.get(f"/api/v1/shares/{shared.pk}/audit/").status_code == 404
    assert outsider.post(f"/api/v1/shares/{shared.pk}/cancel/").status_code == 404
    assert outsider.get("/api/v1/share-audit/").json()["results"] == []
    assert outsider.get("/api/v1/shares/").json()["results"] == []


def test_a_limited_user_gets_404_for_a_hidden_camera_in_the_api(alpha):
    room, other = second_room(alpha)
    user_scope_set(operator=alpha.operator, user=alpha.admin, target=alpha.viewer, room_ids=[room.pk], camera_ids=[])
    client = api(alpha.viewer)
    assert ids(client.get("/api/v1/devices/")) == {other.pk}
    assert client.get(f"/api/v1/devices/{alpha.camera.pk}/").status_code == 404
    assert client.get(f"/api/v1/devices/{other.pk}/").status_code == 200


def test_a_request_for_a_camera_already_shared_is_a_conflict(alpha, bravo, shared):
    body = {"receiver_share_id": bravo.operator.share_id, "cameras": [alpha.camera.pk]}
    answer = api(alpha.admin).post("/api/v1/shares/", body, format="json")  # refused by what is stored: 409
    assert answer.status_code == 409 and "Already shared" in answer.json()["cameras"][0]


def test_the_share_request_schema_asks_a_camera_and_answers_a_plain_list():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert schema["components"]["schemas"]["ShareRequestRequest"]["properties"]["cameras"]["minItems"] == 1
    created = schema["paths"]["/api/v1/shares/"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert created["type"] == "array"  # one share per camera, not a page
